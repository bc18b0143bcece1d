/*
 * ipc-server: serves IpcProbe on the endpoint owner cap "probe".
 * Argument "idle": hold the endpoint but never RECV (calls queue up).
 * Argument "orphan": take one call, wait while the proof kills its caller,
 * then answer it (the RETURN must see DISCONNECTED), answer a call id that
 * was never given (NO_SUCH_CALL) and the right one again (NO_SUCH_CALL:
 * the first RETURN ended it), print the three results and exit.
 * Argument "silent": answer SILENT_CALLS calls with a silent RETURN
 * (CAP_SQE_F_SILENT) submitted with the next RECV, one cap_enter each,
 * counting any CQE that is not a RECV's (a silent RETURN that succeeds
 * posts none); then a silent RETURN to a call id never given (its error
 * is posted: NO_SUCH_CALL) and one with an unknown flag (INVALID_REQUEST);
 * print what it saw and exit.
 * Argument "pair": every answer is a silent RETURN submitted together with
 * a RECV (the shape the kernel's endpoint fast path takes), made hostile
 * in turn: the RETURN to a caller killed while the server held its call
 * (DISCONNECTED), to a call id never given (NO_SUCH_CALL) with a RECV into
 * unmapped memory (INVALID_RESULT_BUFFER), a good RETURN with a RECV into
 * the ring (BUFFER_OVERLAPS_RING; the caller still gets its answer), the
 * same id again (NO_SUCH_CALL); then PAIR_CALLS calls answered the fast
 * way. Prints what each pair's CQEs said, and exits.
 */
#include "rt/capos.h"
#include "capos_test.capnp.h"

static uint32_t owner;
static struct rt_incoming in;
static uint32_t filled[300];
static uint32_t nfilled;

static int echo(void *self, capos_test_IpcProbe_echo_Params_reader p, capos_test_IpcProbe_echo_Results_builder r)
{
    capnp_data d = capos_test_IpcProbe_echo_Params_get_data(p);
    capos_test_IpcProbe_echo_Results_set_data(r, d.ptr, d.len);
    capos_test_IpcProbe_echo_Results_set_callerRef0(r, in.hdr->caller_ref[0]);
    capos_test_IpcProbe_echo_Results_set_callerRef1(r, in.hdr->caller_ref[1]);
    capos_test_IpcProbe_echo_Results_set_badge(r, in.hdr->badge);
    capos_test_IpcProbe_echo_Results_set_epoch(r, in.hdr->session_epoch);
    if (in.hdr->flags & CAP_RECV_F_PRINCIPAL)
        capos_test_IpcProbe_echo_Results_set_principal(r, in.hdr->principal, strnlen(in.hdr->principal, 32));
    if (in.hdr->flags & CAP_RECV_F_PROFILE)
        capos_test_IpcProbe_echo_Results_set_profile(r, in.hdr->profile, strnlen(in.hdr->profile, 32));
    return CAPNP_OK;
}

static int take_cap(void *self, capos_test_IpcProbe_takeCap_Params_reader p, capos_test_IpcProbe_takeCap_Results_builder r)
{
    uint32_t idx = capos_test_IpcProbe_takeCap_Params_get_cap(p);
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
    capos_test_IpcProbe_takeCap_Results_set_interfaceId(r, iface);
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);          /* used; nothing is kept */
    return CAPNP_OK;
}

static int hold(void *self, capos_test_IpcProbe_hold_Params_reader p, capos_test_IpcProbe_hold_Results_builder r)
{
    in.deferred = true;                        /* never answered */
    return CAPNP_OK;
}

static int fill_table(void *self, capos_test_IpcProbe_fillTable_Params_reader p, capos_test_IpcProbe_fillTable_Results_builder r)
{
    for (;;) {
        int64_t f = rt_endpoint_facet(owner, 99);
        if (f < 0 || nfilled == sizeof filled / sizeof filled[0])
            break;
        filled[nfilled++] = (uint32_t)f;
    }
    capos_test_IpcProbe_fillTable_Results_set_filled(r, nfilled);
    return CAPNP_OK;
}

static int drain_table(void *self, capos_test_IpcProbe_drainTable_Params_reader p, capos_test_IpcProbe_drainTable_Results_builder r)
{
    while (nfilled)
        rt_release(filled[--nfilled]);
    return CAPNP_OK;
}

static const capos_test_IpcProbe_server server = {
    .echo = echo, .takeCap = take_cap, .hold = hold, .fillTable = fill_table, .drainTable = drain_table,
};

/* "slow": rt_serve_forever, where hold answers after 200 ms: the proof
 * kills its caller meanwhile, the RETURN finds the caller gone, and the
 * loop must go on serving. */
static int slow_hold(void *self, capos_test_IpcProbe_hold_Params_reader p, capos_test_IpcProbe_hold_Results_builder r)
{
    rt_timer_sleep_until(rt_timer_now() + 200000000ull);
    return CAPNP_OK;
}

static const capos_test_IpcProbe_server slow_server = {
    .echo = echo, .takeCap = take_cap, .hold = slow_hold, .fillTable = fill_table, .drainTable = drain_table,
};

static int dispatch(const void *srv, void *self, capnp_server_call *c)
{
    return capos_test_IpcProbe_dispatch(srv, self, c);
}

/* "ooo": keep up to four RECVs posted, and answer what arrived in reverse
 * order after a pseudo-random pause: callers see out-of-order completions. */
static void serve_out_of_order(void)
{
    enum { N = 4 };
    static uint8_t bufs[N][512] __attribute__((aligned(8)));
    uint64_t tags[N];
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < N; i++) {
        struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)bufs[i], .result_len = 512 };
        tags[i] = rt_ring_submit_tagged(&s, 0x0EE0000000000000ull | (uint64_t)i);
    }
    for (;;) {
        int got[N], n = 0;
        struct cap_cqe c;
        /* completions may already sit in the runtime's stash (a RETURN's
         * wait drained them): look there before sleeping */
        while (!rt_ring_poll(&c))
            sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
        do {
            for (int i = 0; i < N; i++) {
                if (c.user_data != tags[i])
                    continue;
                if (c.result < 0)
                    exit(0);
                got[n++] = i;
            }
        } while (n < N && rt_ring_poll(&c));
        if (!n)
            continue;
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        rt_timer_sleep_until(rt_timer_now() + (rng % 300000));
        for (int k = n - 1; k >= 0; k--) {          /* the last to arrive is answered first */
            int i = got[k];
            const struct cap_recv_hdr *h = (const void *)bufs[i];
            uint8_t out[256] __attribute__((aligned(8)));
            capnp_builder b;
            size_t len = 0;
            capnp_msg m;
            capnp_data d = { 0, 0 };
            if (capnp_msg_init(&m, bufs[i] + sizeof *h, h->params_len) == CAPNP_OK)
                d = capos_test_IpcProbe_echo_Params_get_data(capos_test_IpcProbe_echo_Params_read_root(&m));
            capnp_builder_init(&b, out, sizeof out);
            capos_test_IpcProbe_echo_Results_set_data(capos_test_IpcProbe_echo_Results_init_root(&b), d.ptr, d.len);
            capnp_builder_finish(&b, &len);
            rt_return(owner, h->call_id, out, (uint32_t)len, 0, 0, false);
            struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)bufs[i], .result_len = 512 };
            tags[i] = rt_ring_submit_tagged(&s, 0x0EE0000000000000ull | (uint64_t)i);
        }
    }
}

static int orphan(void)
{
    static uint8_t buf[512] __attribute__((aligned(8)));
    struct rt_incoming call;
    int r = rt_recv(owner, buf, sizeof buf, &call);
    if (r < 0)
        return 3;
    uint32_t id = call.hdr->call_id;
    rt_timer_sleep_until(rt_timer_now() + 200000000ull);    /* the proof kills the caller meanwhile */
    int dead = rt_return(owner, id, 0, 0, 0, 0, false);
    int wrong = rt_return(owner, id + 1000, 0, 0, 0, 0, false);
    int again = rt_return(owner, id, 0, 0, 0, 0, false);
    printf("IPC-SERVER orphan return=%d wrong-id=%d again=%d\n", dead, wrong, again);
    return 0;
}

#define SILENT_CALLS 3

static int silent(void)
{
    static uint8_t buf[512] __attribute__((aligned(8)));
    struct cap_sqe recv = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    uint64_t recv_tag = rt_ring_submit(&recv);
    uint32_t answered = 0, stray = 0, last_id = 0;
    struct cap_cqe *cq = (struct cap_cqe *)((char *)rt_ring + RING_CQ_OFFSET);
    while (answered < SILENT_CALLS) {
        sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
        while (rt_ring->cq_head != rt_ring->cq_tail) {
            struct cap_cqe c = cq[rt_ring->cq_head & (RING_CQ_ENTRIES - 1)];
            rt_ring->cq_head++;
            if (c.user_data != recv_tag || c.result < 0) {
                stray++;                                 /* a RETURN's CQE, or a failed RECV */
                continue;
            }
            last_id = ((struct cap_recv_hdr *)buf)->call_id;
            struct cap_sqe ret = { .opcode = CAP_OP_RETURN, .cap_id = owner, .call_id = last_id,
                                   .flags = CAP_SQE_F_SILENT };
            rt_ring_submit(&ret);
            answered++;
            if (answered < SILENT_CALLS)
                recv_tag = rt_ring_submit(&recv);        /* answer and wait for the next in one enter */
        }
    }
    struct cap_cqe c;
    struct cap_sqe bad = { .opcode = CAP_OP_RETURN, .cap_id = owner, .call_id = last_id + 1000, .flags = CAP_SQE_F_SILENT };
    rt_ring_wait(rt_ring_submit(&bad), &c);
    int wrong = c.result;
    bad = (struct cap_sqe){ .opcode = CAP_OP_RETURN, .cap_id = owner, .call_id = last_id, .flags = CAP_SQE_F_SILENT | 4 };
    rt_ring_wait(rt_ring_submit(&bad), &c);
    printf("IPC-SERVER silent answered=%u stray=%u wrong-id=%d bad-flag=%d\n", answered, stray, wrong, c.result);
    return 0;
}

#define PAIR_CALLS 3

static struct cap_cqe held;                   /* a RECV's CQE pair() took early */
static bool has_held;

/* The next CQE on this thread's ring, waiting for it. */
static struct cap_cqe next_cqe(void)
{
    struct cap_cqe c;
    if (has_held) {
        has_held = false;
        return held;
    }
    while (!rt_ring_poll(&c))
        sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
    return c;
}

/* Submit a silent RETURN of call `id` and a RECV into (addr, len) in one
 * cap_enter, and take the CQEs it posts at once: the RETURN's (an error)
 * into *ret_err and the RECV's (an error) into *recv_err, 0 for none. */
static void pair(uint32_t id, uint64_t addr, uint32_t len, uint64_t *recv_tag, int *ret_err, int *recv_err)
{
    struct cap_sqe ret = { .opcode = CAP_OP_RETURN, .cap_id = owner, .call_id = id, .flags = CAP_SQE_F_SILENT };
    struct cap_sqe recv = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = addr, .result_len = len };
    uint64_t rt = rt_ring_submit(&ret);
    *recv_tag = rt_ring_submit(&recv);
    sys_cap_enter(1, 20000000);                       /* an error comes at once; a call maybe later */
    *ret_err = *recv_err = 0;
    struct cap_cqe c;
    while (rt_ring_poll(&c)) {
        if (c.user_data == rt)
            *ret_err = c.result;
        else if (c.user_data == *recv_tag && c.result < 0)
            *recv_err = c.result;
        else
            held = c, has_held = true;                /* a call came at once: next_cqe gives it */
    }
}

static int pairs(void)
{
    static uint8_t buf[512] __attribute__((aligned(8)));
    struct cap_sqe recv = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    uint64_t recv_tag = rt_ring_submit(&recv);
    struct cap_cqe c = next_cqe();                    /* the victim's call */
    if (c.user_data != recv_tag || c.result < 0)
        return 3;
    uint32_t id = ((struct cap_recv_hdr *)buf)->call_id;
    rt_timer_sleep_until(rt_timer_now() + 200000000ull);    /* the proof kills the caller meanwhile */
    int dead, ign, wrong, badbuf, ringbuf, again;
    pair(id, (uint64_t)buf, sizeof buf, &recv_tag, &dead, &ign);
    c = next_cqe();                                   /* the proof's first call */
    if (c.user_data != recv_tag || c.result < 0)
        return 4;
    id = ((struct cap_recv_hdr *)buf)->call_id;
    pair(id + 1000, 0x1000, sizeof buf, &recv_tag, &wrong, &badbuf);
    pair(id, (uint64_t)rt_ring, sizeof buf, &recv_tag, &ign, &ringbuf);   /* answered; the RECV refused */
    pair(id, (uint64_t)buf, sizeof buf, &recv_tag, &again, &ign);         /* answered already */
    uint32_t answered = 0, stray = 0;
    while (answered < PAIR_CALLS) {
        c = next_cqe();
        if (c.user_data != recv_tag || c.result < 0) {
            stray++;                                  /* a RETURN's CQE, or a failed RECV */
            continue;
        }
        struct cap_sqe ret = { .opcode = CAP_OP_RETURN, .cap_id = owner, .flags = CAP_SQE_F_SILENT,
                               .call_id = ((struct cap_recv_hdr *)buf)->call_id };
        rt_ring_submit(&ret);
        answered++;
        if (answered < PAIR_CALLS)
            recv_tag = rt_ring_submit(&recv);         /* answer and wait for the next in one enter */
        else
            sys_cap_enter(0, 0);
    }
    while (rt_ring_poll(&c))
        stray++;
    printf("IPC-SERVER pair dead=%d wrong-id=%d bad-buf=%d ring-buf=%d again=%d answered=%u stray=%u\n",
           dead, wrong, badbuf, ringbuf, again, answered, stray);
    return 0;
}

int main(void)
{
    int64_t o = rt_capset_lookup("probe");
    if (o < 0)
        return 2;
    owner = (uint32_t)o;
    if (!strcmp(rt_capset->args, "ooo"))
        serve_out_of_order();
    if (!strcmp(rt_capset->args, "orphan"))
        return orphan();
    if (!strcmp(rt_capset->args, "slow")) {
        rt_serve_forever(owner, dispatch, &slow_server, &in);
        printf("IPC-SERVER slow: the serve loop ended\n");
        return 0;
    }
    if (!strcmp(rt_capset->args, "silent"))
        return silent();
    if (!strcmp(rt_capset->args, "pair"))
        return pairs();
    if (!strcmp(rt_capset->args, "idle")) {
        for (;;)
            rt_timer_sleep_until(rt_timer_now() + 1000000000ull);
    }
    static uint8_t buf[1024] __attribute__((aligned(8)));
    for (;;) {
        int r = rt_serve_one(owner, dispatch, &server, 0, buf, sizeof buf, &in);
        if (r == CAP_ERR_DISCONNECTED)
            return 0;
    }
}
