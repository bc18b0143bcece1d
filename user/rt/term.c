/* A TerminalSession client: line reads (with or without echo) and printf. */
#include "capos.h"

int rt_term_read(uint32_t term, bool echo, char *out, size_t cap, int *event)
{
    RT_BUFS(b, 64, 1024);
    capnp_client cl = RT_CLIENT(term);
    capnp_call call;
    capos_TerminalSession_readLine_Results_reader r;
    int e = rt_error(capos_TerminalSession_readLine(&cl, &b, &call, (uint32_t)(cap - 1 < 512 ? cap - 1 : 512), echo, &r));
    if (e)
        return e;
    capnp_data d = capos_TerminalSession_readLine_Results_get_line(r);
    size_t n = d.len < cap - 1 ? d.len : cap - 1;
    memcpy(out, d.ptr, n);
    out[n] = 0;
    *event = capos_TerminalSession_readLine_Results_get_event(r);
    return 0;
}

int rt_term_printf(uint32_t term, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t len = n < (int)sizeof buf ? (size_t)n : sizeof buf - 1;
    RT_BUFS(b, 1200, 64);
    capnp_client cl = RT_CLIENT(term);
    capnp_call call;
    capos_TerminalSession_write_Results_reader r;
    return rt_error(capos_TerminalSession_write(&cl, &b, &call, buf, len, &r));
}
