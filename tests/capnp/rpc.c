/*
 * Client stubs and server dispatch, end to end through a loopback transport
 * (the stub's capnp_call_fn hands the bytes straight to the generated
 * dispatch function).  Uses the test schema's Calc and the project schema's
 * Timer.  Checks values, capability passing both ways, and the stable
 * errors: unknown interface, unknown method, unimplemented method, result
 * buffer too small, malformed params.
 */
#include "capnp.h"
#include "capos.capnp.h"
#include "test.capnp.h"
#include "testutil.h"

/* --------------------------------------------------------- Calc server */
static int calc_add(void *self, test_Calc_add_Params_reader p, test_Calc_add_Results_builder r)
{
    test_Calc_add_Results_set_sum(r, test_Calc_add_Params_get_a(p) + test_Calc_add_Params_get_b(p));
    return CAPNP_OK;
}

static int calc_total(void *self, test_Calc_total_Params_reader p, test_Calc_total_Results_builder r)
{
    capnp_list items = test_Calc_total_Params_get_items(p);
    uint64_t sum = 0;
    capnp_lbuilder names = test_Calc_total_Results_init_names(r, items.count);
    for (uint32_t i = 0; i < items.count; i++) {
        test_Inner_reader in = test_Inner_list_get(items, i);
        capnp_text t = test_Inner_get_name(in);
        sum += test_Inner_get_id(in);
        capnp_lset_text(names, i, t.str, t.len);
    }
    test_Calc_total_Results_set_sum(r, sum);
    return CAPNP_OK;
}

/* hold: the server sees the cap the client sent (through the param side
 * table) and sends back a new one in the results side table. */
struct calc_state {
    uint32_t held;
    capnp_text tag;
    const uint32_t *param_caps;
    uint32_t *result_caps;
};

static int calc_hold(void *self, test_Calc_hold_Params_reader p, test_Calc_hold_Results_builder r)
{
    struct calc_state *st = self;
    uint32_t idx = test_Calc_hold_Params_get_cap(p);
    if (idx == CAPNP_NO_CAP)
        return CAPNP_ERR_INVALID;
    st->held = st->param_caps[idx];
    st->tag = test_Calc_hold_Params_get_tag(p);
    test_Calc_hold_Results_set_back(r, capnp_add_cap(r.s, st->held + 1));
    return CAPNP_OK;
}

static const test_Calc_server calc_server = { calc_add, calc_total, calc_hold };
static const test_Calc_server calc_partial = { calc_add, 0, 0 };

struct loop {
    const test_Calc_server *srv;
    struct calc_state st;
    uint64_t force_iface; /* nonzero: send this interface id instead */
    int force_method;     /* >= 0: send this method id instead */
};

static int calc_transport(void *ctx, uint64_t iface, uint16_t method, const void *params,
                          size_t params_len, const uint32_t *param_caps, uint32_t param_ncaps,
                          void *result, size_t result_cap, size_t *result_len,
                          uint32_t *result_caps, uint32_t result_caps_cap, uint32_t *result_ncaps)
{
    struct loop *l = ctx;
    capnp_server_call c = {
        .interface_id = l->force_iface ? l->force_iface : iface,
        .method_id = l->force_method >= 0 ? (uint16_t)l->force_method : method,
        .params = params, .params_len = params_len,
        .param_caps = param_caps, .param_ncaps = param_ncaps,
        .result = result, .result_cap = result_cap,
        .result_caps = result_caps, .result_caps_cap = result_caps_cap,
    };
    l->st.param_caps = param_caps;
    int e = test_Calc_dispatch(l->srv, &l->st, &c);
    *result_len = c.result_len;
    *result_ncaps = c.result_ncaps;
    return e;
}

static uint8_t pbuf[1024], rbuf[1024];
static uint32_t pcaps[4], rcaps[4];
static const capnp_call_bufs bufs = { pbuf, sizeof pbuf, pcaps, 4, rbuf, sizeof rbuf, rcaps, 4 };

static void test_calc(void)
{
    struct loop l = { &calc_server, { 0 }, 0, -1 };
    capnp_client cl = { calc_transport, &l };
    capnp_call call;

    test_Calc_add_Results_reader ar;
    EXPECT(test_Calc_add(&cl, &bufs, &call, 2, 40, &ar) == CAPNP_OK);
    EXPECT(test_Calc_add_Results_get_sum(ar) == 42);

    /* a struct-list param through the two-step form */
    test_Calc_total_Params_builder tp = test_Calc_total_start(&call, &cl, &bufs);
    capnp_lbuilder items = test_Calc_total_Params_init_items(tp, 3);
    const char *names[3] = { "one", "two", "three" };
    for (uint32_t i = 0; i < 3; i++) {
        test_Inner_builder in = test_Inner_list_at(items, i);
        test_Inner_set_id(in, i + 1);
        test_Inner_set_name(in, names[i], strlen(names[i]));
    }
    test_Calc_total_Results_reader tr;
    EXPECT(test_Calc_total_send(&call, &tr) == CAPNP_OK);
    EXPECT(test_Calc_total_Results_get_sum(tr) == 6);
    capnp_list nl = test_Calc_total_Results_get_names(tr);
    EXPECT(nl.count == 3 && strcmp(capnp_list_text(nl, 2).str, "three") == 0);

    /* capabilities both ways */
    test_Calc_hold_Results_reader hr;
    EXPECT(test_Calc_hold(&cl, &bufs, &call, 77, "tag", 3, &hr) == CAPNP_OK);
    EXPECT(l.st.held == 77);
    EXPECT(l.st.tag.len == 3 && memcmp(l.st.tag.str, "tag", 3) == 0);
    uint32_t back = test_Calc_hold_Results_get_back(hr);
    EXPECT(call.result_ncaps == 1 && back == 0 && rcaps[back] == 78);
    /* no cap: the server refuses, its error comes back unchanged */
    EXPECT(test_Calc_hold(&cl, &bufs, &call, CAPNP_NO_CAP, "", 0, &hr) == CAPNP_ERR_INVALID);
}

static void test_errors(void)
{
    struct loop l = { &calc_partial, { 0 }, 0, -1 };
    capnp_client cl = { calc_transport, &l };
    capnp_call call;
    test_Calc_add_Results_reader ar;
    test_Calc_hold_Results_reader hr;

    EXPECT(test_Calc_hold(&cl, &bufs, &call, 1, "", 0, &hr) == CAPNP_ERR_UNIMPLEMENTED);
    l.force_method = 3;
    EXPECT(test_Calc_add(&cl, &bufs, &call, 1, 1, &ar) == CAPNP_ERR_UNKNOWN_METHOD);
    l.force_method = 0xffff;
    EXPECT(test_Calc_add(&cl, &bufs, &call, 1, 1, &ar) == CAPNP_ERR_UNKNOWN_METHOD);
    l.force_method = -1;
    l.force_iface = capos_Timer_ID;
    EXPECT(test_Calc_add(&cl, &bufs, &call, 1, 1, &ar) == CAPNP_ERR_UNKNOWN_INTERFACE);
    l.force_iface = 0;

    /* results that do not fit the caller's buffer */
    uint8_t small[16];
    capnp_call_bufs sb = bufs;
    sb.result_buf = small;
    sb.result_cap = sizeof small;
    EXPECT(test_Calc_add(&cl, &sb, &call, 1, 1, &ar) == CAPNP_ERR_NO_SPACE);

    /* params that do not fit: the stub fails before the transport runs */
    capnp_call_bufs pb = bufs;
    pb.params_cap = 24;
    test_Calc_hold_Results_reader hr2;
    EXPECT(test_Calc_hold(&cl, &pb, &call, 1, "a long tag that does not fit", 28, &hr2) ==
           CAPNP_ERR_NO_SPACE);

    /* malformed params straight into dispatch */
    const uint64_t w[] = { SEG1(1), P_STRUCT(4, 1, 0) };
    uint8_t *bad = le_words(w, 2);
    capnp_server_call c = { .interface_id = test_Calc_ID, .method_id = 0,
                            .params = bad, .params_len = 16,
                            .result = rbuf, .result_cap = sizeof rbuf };
    EXPECT(test_Calc_dispatch(&calc_server, &l.st, &c) == CAPNP_ERR_OUT_OF_BOUNDS);
    EXPECT(c.result_len == 0);
    c.params_len = 12;
    EXPECT(test_Calc_dispatch(&calc_server, &l.st, &c) == CAPNP_ERR_SEGMENT_TABLE);
    free(bad);

    /* an interface with no methods answers every call "unknown method" */
    static const test_Silent_server silent = { 0 };
    c.interface_id = test_Silent_ID;
    c.params_len = 16;
    EXPECT(test_Silent_dispatch(&silent, 0, &c) == CAPNP_ERR_UNKNOWN_METHOD);
    c.interface_id = test_Calc_ID;
    EXPECT(test_Silent_dispatch(&silent, 0, &c) == CAPNP_ERR_UNKNOWN_INTERFACE);
}

/* ------------------------------------- the project schema: capos Timer */
static int timer_now(void *self, capos_Timer_now_Params_reader p, capos_Timer_now_Results_builder r)
{
    capos_Timer_now_Results_set_ns(r, 123456789012ull);
    return CAPNP_OK;
}

static int timer_transport(void *ctx, uint64_t iface, uint16_t method, const void *params,
                           size_t params_len, const uint32_t *param_caps, uint32_t param_ncaps,
                           void *result, size_t result_cap, size_t *result_len,
                           uint32_t *result_caps, uint32_t result_caps_cap, uint32_t *result_ncaps)
{
    static const capos_Timer_server srv = { timer_now, 0, 0 };
    capnp_server_call c = { iface, method, params, params_len, param_caps, param_ncaps,
                            result, result_cap, 0, result_caps, result_caps_cap, 0 };
    int e = capos_Timer_dispatch(&srv, 0, &c);
    *result_len = c.result_len;
    *result_ncaps = c.result_ncaps;
    return e;
}

static void test_capos_timer(void)
{
    capnp_client cl = { timer_transport, 0 };
    capnp_call call;
    capos_Timer_now_Results_reader r;
    EXPECT(capos_Timer_now(&cl, &bufs, &call, &r) == CAPNP_OK);
    EXPECT(capos_Timer_now_Results_get_ns(r) == 123456789012ull);
    capos_Timer_sleepUntil_Results_reader s;
    EXPECT(capos_Timer_sleepUntil(&cl, &bufs, &call, 5, &s) == CAPNP_ERR_UNIMPLEMENTED);
    EXPECT(capos_Timer_METHOD_now == 0 && capos_Timer_METHOD_sleepUntil == 1);
    EXPECT(capos_Console_ID == 0x8e4bdb43eb8876cbull);
    EXPECT(capos_ProcessSpawner_ID == 0x9e1654edee2cff9cull);
}

/* ------------------------------ the project schema: ProcessSpawner */
struct spawner {
    const uint32_t *param_caps;
    char binary[16];
    char names[2][16];
    uint32_t granted[2];
    uint32_t ngrants;
};

static int do_spawn(void *self, capos_ProcessSpawner_spawn_Params_reader p,
                    capos_ProcessSpawner_spawn_Results_builder r)
{
    struct spawner *sp = self;
    capnp_text bin = capos_ProcessSpawner_spawn_Params_get_binary(p);
    capnp_list g = capos_ProcessSpawner_spawn_Params_get_grants(p);
    if (bin.len >= sizeof sp->binary || g.count > 2)
        return CAPNP_ERR_INVALID;
    memcpy(sp->binary, bin.str, bin.len + 1);
    sp->ngrants = g.count;
    for (uint32_t i = 0; i < g.count; i++) {
        capos_CapGrant_reader gr = capos_CapGrant_list_get(g, i);
        capnp_text n = capos_CapGrant_get_name(gr);
        if (n.len >= sizeof sp->names[i])
            return CAPNP_ERR_INVALID;
        memcpy(sp->names[i], n.str, n.len + 1);
        uint32_t idx = capos_CapGrant_get_cap(gr);
        sp->granted[i] = idx == CAPNP_NO_CAP ? CAPNP_NO_CAP : sp->param_caps[idx];
    }
    capos_ProcessSpawner_spawn_Results_set_handle(r, capnp_add_cap(r.s, 900));
    return CAPNP_OK;
}

static int spawner_transport(void *ctx, uint64_t iface, uint16_t method, const void *params,
                             size_t params_len, const uint32_t *param_caps, uint32_t param_ncaps,
                             void *result, size_t result_cap, size_t *result_len,
                             uint32_t *result_caps, uint32_t result_caps_cap, uint32_t *result_ncaps)
{
    static const capos_ProcessSpawner_server srv = { do_spawn };
    struct spawner *sp = ctx;
    capnp_server_call c = { iface, method, params, params_len, param_caps, param_ncaps,
                            result, result_cap, 0, result_caps, result_caps_cap, 0 };
    sp->param_caps = param_caps;
    int e = capos_ProcessSpawner_dispatch(&srv, sp, &c);
    *result_len = c.result_len;
    *result_ncaps = c.result_ncaps;
    return e;
}

/* The two-step stub with a struct list of grants carrying capabilities,
 * as the README's example writes it. */
static void test_capos_spawn(void)
{
    struct spawner sp = { 0 };
    capnp_client cl = { spawner_transport, &sp };
    capnp_call call;
    capos_ProcessSpawner_spawn_Params_builder p = capos_ProcessSpawner_spawn_start(&call, &cl, &bufs);
    capos_ProcessSpawner_spawn_Params_set_binary(p, "shell", 5);
    capnp_lbuilder g = capos_ProcessSpawner_spawn_Params_init_grants(p, 2);
    capos_CapGrant_builder g0 = capos_CapGrant_list_at(g, 0);
    capos_CapGrant_set_name(g0, "console", 7);
    capos_CapGrant_set_cap(g0, capnp_add_cap(p.s, 31));
    capos_CapGrant_builder g1 = capos_CapGrant_list_at(g, 1);
    capos_CapGrant_set_name(g1, "timer", 5);
    capos_CapGrant_set_cap(g1, capnp_add_cap(p.s, 32));
    capos_ProcessSpawner_spawn_Results_reader res;
    EXPECT(capos_ProcessSpawner_spawn_send(&call, &res) == CAPNP_OK);
    EXPECT(strcmp(sp.binary, "shell") == 0 && sp.ngrants == 2);
    EXPECT(strcmp(sp.names[0], "console") == 0 && sp.granted[0] == 31);
    EXPECT(strcmp(sp.names[1], "timer") == 0 && sp.granted[1] == 32);
    uint32_t h = capos_ProcessSpawner_spawn_Results_get_handle(res);
    EXPECT(h != CAPNP_NO_CAP && call.result_ncaps == 1 && bufs.result_caps[h] == 900);
}

static void test_consts(void)
{
    EXPECT(test_maxItems == 16);
    EXPECT(test_minDelta == INT64_MIN);
    EXPECT(strcmp(test_greeting, "hi \"there\"") == 0);
    EXPECT(test_favourite == test_Color_green);
}

int main(void)
{
    test_calc();
    test_errors();
    test_capos_timer();
    test_capos_spawn();
    test_consts();
    T_SUMMARY("capnp-rpc");
}
