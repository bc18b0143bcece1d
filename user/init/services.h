#ifndef INIT_SERVICES_H
#define INIT_SERVICES_H
/* The service manager: start the boot manifest's services, then supervise. */
int  services_boot(void);                   /* validate, then start everything; < 0 stops the boot */
__attribute__((noreturn)) void services_supervise(void);   /* restart policies, for ever */
#endif
