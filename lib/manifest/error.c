/* Formatting an error: every message starts with the line at fault. */
#include <stdarg.h>

#include "fmt.h"
#include "internal.h"

int manifest_fail(struct manifest_error *err, int code, uint32_t line,
                  const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->line = line;
    int n = line ? fmt_snprintf(err->msg, sizeof err->msg, "line %u: ", line) : 0;
    if (n < 0 || (size_t)n >= sizeof err->msg)
        return code;
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}
