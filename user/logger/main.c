/*
 * logger: serves Console on its export "log" and writes every line it is
 * given to its own console with a "[logger]" prefix. Other services get a
 * facet of it instead of the serial console.
 */
#include "rt/capos.h"

static int do_write(void *self, capos_Console_write_Params_reader p, capos_Console_write_Results_builder r)
{
    capnp_data d = capos_Console_write_Params_get_data(p);
    printf("[logger] %.*s", (int)d.len, (const char *)d.ptr);
    return CAPNP_OK;
}

static const capos_Console_server server = { .write = do_write };
static int dispatch(const void *srv, void *self, capnp_server_call *c) { return capos_Console_dispatch(srv, self, c); }

int main(void)
{
    int64_t owner = rt_capset_lookup("log");
    if (owner < 0)
        return 2;
    printf("[logger] up (pid %u)\n", rt_pid);
    static uint8_t buf[2048] __attribute__((aligned(8)));
    struct rt_incoming in;
    for (;;)
        if (rt_serve_one((uint32_t)owner, dispatch, &server, &in, buf, sizeof buf, &in) == CAP_ERR_DISCONNECTED)
            return 0;
}
