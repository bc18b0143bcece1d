/*
 * echo: serves Echo on its export "echo": answers every call with its own
 * bytes, and logs who called (the principal and profile the endpoint may
 * disclose) through its "log" grant.
 */
#include "rt/capos.h"

static uint32_t log_cap;

static void log_line(const char *s)
{
    RT_BUFS(b, 512, 64);
    capnp_client cl = RT_CLIENT(log_cap);
    capnp_call call;
    capos_Console_write_Results_reader r;
    capos_Console_write(&cl, &b, &call, s, strlen(s), &r);
}

static int do_echo(void *self, capos_Echo_echo_Params_reader p, capos_Echo_echo_Results_builder r)
{
    struct rt_incoming *in = self;
    capnp_data d = capos_Echo_echo_Params_get_data(p);
    char line[128];
    fmt_snprintf(line, sizeof line, "echo: %u bytes from %.32s/%.32s\n", d.len,
                 in->hdr->flags & CAP_RECV_F_PRINCIPAL ? in->hdr->principal : "?",
                 in->hdr->flags & CAP_RECV_F_PROFILE ? in->hdr->profile : "?");
    log_line(line);
    capos_Echo_echo_Results_set_data(r, d.ptr, d.len);
    return CAPNP_OK;
}

static const capos_Echo_server server = { .echo = do_echo };

int main(void)
{
    int64_t owner = rt_capset_lookup("echo"), log = rt_capset_lookup("log");
    if (owner < 0 || log < 0)
        return 2;
    log_cap = (uint32_t)log;
    char up[160];
    fmt_snprintf(up, sizeof up, "echo: up (args: %s)\n", rt_capset->args);
    log_line(up);
    struct rt_incoming in;
    return rt_serve_forever((uint32_t)owner, capos_Echo_dispatch_any, &server, &in);
}
