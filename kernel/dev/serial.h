#ifndef DEV_SERIAL_H
#define DEV_SERIAL_H
#include "types.h"
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);   /* translates \n to \r\n */
bool serial_poll(void);                       /* move received bytes into the input ring */
int  serial_getc(void);                       /* -1 when the input ring is empty */
#endif
