/*
 * crasher: a test service that serves Echo once per life: it answers the
 * first call, then exits with 3, so the supervisor's restart policy can be
 * watched from outside (tests/services). Test images only.
 */
#include "rt/capos.h"

static bool answered;

static int do_echo(void *self, capos_Echo_echo_Params_reader p, capos_Echo_echo_Results_builder r)
{
    capnp_data d = capos_Echo_echo_Params_get_data(p);
    capos_Echo_echo_Results_set_data(r, d.ptr, d.len);
    answered = true;
    return CAPNP_OK;
}

static const capos_Echo_server server = { .echo = do_echo };

int main(void)
{
    uint32_t owner = rt_capset_require("echo");
    printf("crasher: up\n");
    static uint8_t buf[1024] __attribute__((aligned(8)));
    struct rt_incoming in;
    while (!answered)
        if (rt_serve_one(owner, capos_Echo_dispatch_any, &server, &in, buf, sizeof buf, &in) == CAP_ERR_DISCONNECTED)
            return 0;
    return 3;
}
