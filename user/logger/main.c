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

int main(void)
{
    int64_t owner = rt_capset_lookup("log");
    if (owner < 0)
        return 2;
    printf("[logger] up (pid %u)\n", rt_pid);
    struct rt_incoming in;
    return rt_serve_forever((uint32_t)owner, capos_Console_dispatch_any, &server, &in);
}
