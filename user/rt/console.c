/* The typed client of the kernel's Console, and printf and puts on it. */
#include "capos.h"

int rt_console_write(const char *s, size_t n)
{
    while (n) {
        size_t k = n > CAP_MAX_PARAMS - 64 ? CAP_MAX_PARAMS - 64 : n;
        RT_BUFS(b, CAP_MAX_PARAMS, 64);
        capnp_client cl = RT_CLIENT(rt_console);
        capnp_call call;
        capos_Console_write_Results_reader r;
        int e = capos_Console_write(&cl, &b, &call, s, k, &r);
        if (e)
            return rt_error(e);
        s += k, n -= k;
    }
    return 0;
}

int rt_console_read_line(char *buf, size_t max)
{
    if (max == 0)
        return CAP_ERR_INVALID_ARGUMENT;
    RT_BUFS(b, 64, 1024);
    capnp_client cl = RT_CLIENT(rt_console);
    capnp_call call;
    capos_Console_readLine_Results_reader r;
    uint32_t want = (uint32_t)(max - 1 < 900 ? max - 1 : 900);
    int e = capos_Console_readLine(&cl, &b, &call, want, &r);
    if (e)
        return rt_error(e);
    capnp_data d = capos_Console_readLine_Results_get_line(r);
    size_t n = d.len < max - 1 ? d.len : max - 1;
    memcpy(buf, d.ptr, n);
    buf[n] = 0;
    return (int)n;
}

int printf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rt_console_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

int puts(const char *s)
{
    rt_console_write(s, strlen(s));
    return rt_console_write("\n", 1);
}
