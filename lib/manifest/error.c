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

struct manifest_shown manifest_show(struct manifest_str name)
{
    struct manifest_shown out;
    uint32_t n = name.len < MANIFEST_SHOW_MAX ? name.len : MANIFEST_SHOW_MAX;
    for (uint32_t i = 0; i < n; i++) {
        char c = name.str[i];
        out.s[i] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    if (name.len > MANIFEST_SHOW_MAX) {
        out.s[n++] = '.';
        out.s[n++] = '.';
        out.s[n++] = '.';
    }
    out.s[n] = 0;
    return out;
}
