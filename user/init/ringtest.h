#ifndef INIT_RINGTEST_H
#define INIT_RINGTEST_H
#include <stdint.h>
int ringtest_run(void);
int ipctest_run(void);
int64_t spawn_with_console(const char *binary);
int64_t process_wait(uint32_t handle);
#endif
