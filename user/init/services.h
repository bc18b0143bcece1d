#ifndef INIT_SERVICES_H
#define INIT_SERVICES_H
#include <stdint.h>
#include <stdbool.h>
struct cap_cqe;
int  services_boot(void);                   /* validate, then start everything; < 0 stops the boot */
void services_watch(void);                  /* submit a wait for every running service */
bool services_event(const struct cap_cqe *c);   /* true if c was a service exit (handled) */
void services_list(void);
int64_t services_client(const char *service, const char *export_name);
int64_t services_handle(const char *service);
bool services_has(const char *service);
/* Only supervise, for ever (the terminal belongs to a login service). */
__attribute__((noreturn)) void services_supervise(void);
#endif
