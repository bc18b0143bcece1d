#include "kprintf.h"
#include "serial.h"
#include "arch/x86_64/cpu.h"
#include "power.h"
#include "fmt/fmt.h"
#include <stdarg.h>

void kprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    serial_write(buf, (size_t)n);
}

void panic(const char *fmt, ...)
{
    char buf[512];
    cli();
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    serial_write("\nKERNEL PANIC: ", 15);
    serial_write(buf, (size_t)n);
    serial_write("\n", 1);
    power_off(POWER_STATUS_PANIC);
}
