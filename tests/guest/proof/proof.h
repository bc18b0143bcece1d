#ifndef PROOF_H
#define PROOF_H
#include <stdint.h>
/* the proof modes in their own files, and what they share with main.c */
int ringtest_run(void);
int ipctest_run(void);
int smptest_run(uint32_t spawner);
int64_t spawn_with_console(const char *binary);
int64_t process_wait(uint32_t handle);
#endif
