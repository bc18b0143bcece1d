/*
 * ipc-server: serves IpcProbe on the endpoint owner cap "probe".
 * Argument "idle": hold the endpoint but never RECV (calls queue up).
 */
#include "../rt/capos.h"

static uint32_t owner;
static struct rt_incoming in;
static uint32_t filled[300];
static uint32_t nfilled;

static int echo(void *self, capos_IpcProbe_echo_Params_reader p, capos_IpcProbe_echo_Results_builder r)
{
    capnp_data d = capos_IpcProbe_echo_Params_get_data(p);
    capos_IpcProbe_echo_Results_set_data(r, d.ptr, d.len);
    capos_IpcProbe_echo_Results_set_callerRef0(r, in.hdr->caller_ref[0]);
    capos_IpcProbe_echo_Results_set_callerRef1(r, in.hdr->caller_ref[1]);
    capos_IpcProbe_echo_Results_set_badge(r, in.hdr->badge);
    capos_IpcProbe_echo_Results_set_epoch(r, in.hdr->session_epoch);
    if (in.hdr->flags & CAP_RECV_F_PRINCIPAL)
        capos_IpcProbe_echo_Results_set_principal(r, in.hdr->principal, strnlen(in.hdr->principal, 32));
    if (in.hdr->flags & CAP_RECV_F_PROFILE)
        capos_IpcProbe_echo_Results_set_profile(r, in.hdr->profile, strnlen(in.hdr->profile, 32));
    return CAPNP_OK;
}

static int take_cap(void *self, capos_IpcProbe_takeCap_Params_reader p, capos_IpcProbe_takeCap_Results_builder r)
{
    uint32_t idx = capos_IpcProbe_takeCap_Params_get_cap(p);
    if (idx >= in.ncaps)
        return CAP_ERR_INVALID_ARGUMENT;
    uint32_t cap = in.caps[idx];
    uint64_t iface = in.cap_ifaces[idx];
    static bool wrote;
    if (iface == IFACE_CONSOLE && !wrote) {
        wrote = true;
        uint32_t save = rt_console;
        rt_console = cap;
        printf("ipc-server: this line went through a Console cap that arrived in a call\n");
        rt_console = save;
    }
    capos_IpcProbe_takeCap_Results_set_interfaceId(r, iface);
    for (uint32_t i = 0; i < in.ncaps; i++)
        cap_release_cap(in.caps[i]);          /* used; nothing is kept */
    return CAPNP_OK;
}

static int hold(void *self, capos_IpcProbe_hold_Params_reader p, capos_IpcProbe_hold_Results_builder r)
{
    in.deferred = true;                        /* never answered */
    return CAPNP_OK;
}

static int fill_table(void *self, capos_IpcProbe_fillTable_Params_reader p, capos_IpcProbe_fillTable_Results_builder r)
{
    for (;;) {
        int64_t f = rt_endpoint_facet(owner, 99);
        if (f < 0 || nfilled == sizeof filled / sizeof filled[0])
            break;
        filled[nfilled++] = (uint32_t)f;
    }
    capos_IpcProbe_fillTable_Results_set_filled(r, nfilled);
    return CAPNP_OK;
}

static int drain_table(void *self, capos_IpcProbe_drainTable_Params_reader p, capos_IpcProbe_drainTable_Results_builder r)
{
    while (nfilled)
        cap_release_cap(filled[--nfilled]);
    return CAPNP_OK;
}

static const capos_IpcProbe_server server = {
    .echo = echo, .takeCap = take_cap, .hold = hold, .fillTable = fill_table, .drainTable = drain_table,
};

static int dispatch(const void *srv, void *self, capnp_server_call *c)
{
    return capos_IpcProbe_dispatch(srv, self, c);
}

int main(void)
{
    int64_t o = capset_lookup("probe");
    if (o < 0)
        return 2;
    owner = (uint32_t)o;
    if (!strcmp(rt_capset->args, "idle")) {
        for (;;)
            timer_sleep_until(timer_now() + 1000000000ull);
    }
    static uint8_t buf[1024] __attribute__((aligned(8)));
    for (;;) {
        int r = rt_serve_one(owner, dispatch, &server, 0, buf, sizeof buf, &in);
        if (r == CAP_ERR_DISCONNECTED)
            return 0;
    }
}
