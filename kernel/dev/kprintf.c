#include "kprintf.h"
#include "serial.h"
#include "arch/x86_64/cpu.h"
#include "power.h"
#include "fmt/fmt.h"
#include <stdarg.h>

/* Format into a 512-byte line on the stack (longer output is cut) and write it. */
static void vprint(const char *fmt, va_list ap)
{
    char buf[512];
    int n = fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    serial_write(buf, (size_t)n);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    cli();
    static const char head[] = "\n[kernel] KERNEL PANIC: ";   /* the kernel log's prefix, like every kernel line */
    serial_write(head, sizeof head - 1);
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    serial_write("\n", 1);
    power_off(POWER_STATUS_PANIC);
}
