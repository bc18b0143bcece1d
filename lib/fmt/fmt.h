/*
 * A bounded printf-style formatter shared by the kernel and user space.
 * Supports: %d %i %u %x %X %o %p %s %c %% with the l, ll, z and h length
 * modifiers, a field width (number or *), '0' and '-' flags, and a precision
 * for %s. Output never exceeds the buffer; the result is always terminated
 * (size > 0) and the return value is the length the full output would have.
 */
#ifndef CAPOS_FMT_H
#define CAPOS_FMT_H
#include <stdarg.h>
#include <stddef.h>

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
