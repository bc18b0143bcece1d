/*
 * libFuzzer target for the reader.  Each input is taken as a framed message
 * and read three ways: the generic walk (capnp_msg_validate), every
 * generated accessor of the test schema's All and of the project schema's
 * spawn params, and the generated server dispatch of Calc (which validates
 * and then decodes params and encodes results), and the client side
 * (lib/capnp/rpc.c and the generated result readers): a call whose
 * transport answers with the input as the result message, the lengths and
 * capability counts it reports sometimes lying.  Run under ASan/UBSan, any
 * read outside the input or undefined behaviour stops the fuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capnp.h"
#include "capos.capnp.h"
#include "test.capnp.h"

/* Keep the compiler from dropping reads whose values are unused. */
static volatile uint64_t sink;

static void touch_text(capnp_text t)
{
    if (t.len)
        sink += (uint8_t)t.str[t.len - 1] + (uint8_t)t.str[t.len]; /* the NUL */
}

static void touch_data(capnp_data d)
{
    if (d.len)
        sink += d.ptr[0] + d.ptr[d.len - 1];
}

/* Visit at most this many elements of a list: the traversal limit bounds
 * what the reader does, this only bounds the fuzzer's time per input. */
#define MAXE 64u
static uint32_t lim(capnp_list l) { return l.count < MAXE ? l.count : MAXE; }

static void read_inner(test_Inner_reader in)
{
    sink += test_Inner_get_id(in);
    touch_text(test_Inner_get_name(in));
}

static void read_all(test_All_reader r)
{
    /* each value as unsigned: sums of signed fields could overflow */
    sink += (uint64_t)test_All_get_b(r) + (uint64_t)test_All_get_i8(r) +
            (uint64_t)test_All_get_i16(r) + (uint64_t)test_All_get_i32(r) +
            (uint64_t)test_All_get_i64(r) + test_All_get_u8(r) +
            test_All_get_u16(r) + test_All_get_u32(r) + test_All_get_u64(r) +
            test_All_get_color(r);
    sink += test_All_get_f32(r) != 0;
    sink += test_All_get_f64(r) != 0;
    touch_text(test_All_get_text(r));
    touch_data(test_All_get_data(r));
    read_inner(test_All_get_inner(r));
    capnp_list l = test_All_get_u16List(r);
    for (uint32_t i = 0; i < lim(l); i++)
        sink += capnp_list_u16(l, i);
    l = test_All_get_i64List(r);
    for (uint32_t i = 0; i < lim(l); i++)
        sink += capnp_list_u64(l, i);
    l = test_All_get_boolList(r);
    for (uint32_t i = 0; i < lim(l); i++)
        sink += capnp_list_bool(l, i);
    l = test_All_get_textList(r);
    for (uint32_t i = 0; i < lim(l); i++)
        touch_text(capnp_list_text(l, i));
    l = test_All_get_innerList(r);
    for (uint32_t i = 0; i < lim(l); i++)
        read_inner(test_Inner_list_get(l, i));
    l = test_All_get_colorList(r);
    for (uint32_t i = 0; i < lim(l); i++)
        sink += capnp_list_u16(l, i);
    l = test_All_get_dataList(r);
    for (uint32_t i = 0; i < lim(l); i++)
        touch_data(capnp_list_data(l, i));
    l = test_All_get_f64List(r);
    for (uint32_t i = 0; i < lim(l); i++)
        sink += capnp_list_u64(l, i);
    l = test_All_get_listList(r);
    for (uint32_t i = 0; i < lim(l); i++) {
        capnp_list e = capnp_list_list(l, i, CAPNP_ELEM_FOUR);
        for (uint32_t k = 0; k < lim(e); k++)
            sink += capnp_list_u32(e, k);
    }
    switch (test_All_which(r)) {
    case test_All_which_num: sink += test_All_get_num(r); break;
    case test_All_which_word: touch_text(test_All_get_word(r)); break;
    case test_All_which_sub: read_inner(test_All_get_sub(r)); break;
    }
    test_All_grp_reader g = test_All_get_grp(r);
    sink += (uint64_t)test_All_grp_get_x(g) + (uint64_t)test_All_grp_get_y(g);
    test_All_choice_reader c = test_All_get_choice(r);
    sink += test_All_choice_get_small(c) + test_All_choice_get_big(c);
}

static void read_spawn(capos_ProcessSpawner_spawn_Params_reader p)
{
    touch_text(capos_ProcessSpawner_spawn_Params_get_binary(p));
    capnp_list g = capos_ProcessSpawner_spawn_Params_get_grants(p);
    for (uint32_t i = 0; i < lim(g); i++) {
        capos_CapGrant_reader gr = capos_CapGrant_list_get(g, i);
        touch_text(capos_CapGrant_get_name(gr));
        sink += capos_CapGrant_get_cap(gr);
    }
}

static int h_add(void *self, test_Calc_add_Params_reader p, test_Calc_add_Results_builder r)
{
    test_Calc_add_Results_set_sum(r, (int32_t)((uint32_t)test_Calc_add_Params_get_a(p) +
                                               (uint32_t)test_Calc_add_Params_get_b(p)));
    return CAPNP_OK;
}

static int h_total(void *self, test_Calc_total_Params_reader p, test_Calc_total_Results_builder r)
{
    capnp_list items = test_Calc_total_Params_get_items(p);
    capnp_lbuilder names = test_Calc_total_Results_init_names(r, lim(items));
    for (uint32_t i = 0; i < lim(items); i++) {
        capnp_text t = test_Inner_get_name(test_Inner_list_get(items, i));
        capnp_lset_text(names, i, t.str, t.len);
    }
    return CAPNP_OK;
}

static int h_hold(void *self, test_Calc_hold_Params_reader p, test_Calc_hold_Results_builder r)
{
    test_Calc_hold_Results_set_back(r, capnp_add_cap(r.s, test_Calc_hold_Params_get_cap(p)));
    return CAPNP_OK;
}

/* ------------------------------------------------- the client side */
/* The transport of a call: the input comes back as the result message.
 * The input's last byte picks the method called and how the transport
 * behaves (the first bytes are the framing, too regular to choose with). */
enum reply_kind {
    REPLY_HONEST,       /* the input, its length, one cap */
    REPLY_LONG,         /* claims more bytes than the result buffer holds */
    REPLY_MANY_CAPS,    /* claims more caps than the caps buffer holds */
    REPLY_ERROR,        /* the service's error, nothing else */
    REPLY_KINDS
};

struct reply {
    const uint8_t *data;
    size_t size;
    enum reply_kind kind;
};

static int reply_transport(void *ctx, uint64_t iface, uint16_t method, const void *params,
                           size_t params_len, const uint32_t *param_caps, uint32_t param_ncaps,
                           void *result, size_t result_cap, size_t *result_len,
                           uint32_t *result_caps, uint32_t result_caps_cap, uint32_t *result_ncaps)
{
    const struct reply *r = ctx;
    size_t n = r->size < result_cap ? r->size : result_cap;
    switch (r->kind) {
    case REPLY_ERROR:
        return CAPNP_ERR_INVALID;
    case REPLY_HONEST:
    case REPLY_LONG:
    case REPLY_MANY_CAPS:
    case REPLY_KINDS:
        break;
    }
    memcpy(result, r->data, n);
    *result_len = r->kind == REPLY_LONG ? result_cap + 8 : n;
    if (result_caps_cap)
        result_caps[0] = 9;
    *result_ncaps = r->kind == REPLY_MANY_CAPS ? result_caps_cap + 1 : result_caps_cap ? 1 : 0;
    return CAPNP_OK;
}

static void client_side(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    uint8_t pick = data[size - 1];
    struct reply rep = { data, size, (enum reply_kind)(pick / 3 % REPLY_KINDS) };
    capnp_client cl = { reply_transport, &rep };
    /* the result buffer is word-aligned, as a transport's would be */
    static uint64_t pbuf[128], rbuf[4096];
    static uint32_t pcaps[2], rcaps[2];
    const capnp_call_bufs bufs = { pbuf, sizeof pbuf, pcaps, 2, rbuf, sizeof rbuf, rcaps, 2 };
    capnp_call call;
    switch (pick % 3) {
    case 0: {
        test_Calc_add_Results_reader r;
        if (test_Calc_add(&cl, &bufs, &call, 1, 2, &r) == CAPNP_OK)
            sink += (uint32_t)test_Calc_add_Results_get_sum(r);
        break;
    }
    case 1: {
        test_Calc_total_Params_builder p = test_Calc_total_start(&call, &cl, &bufs);
        test_Inner_set_name(test_Inner_list_at(test_Calc_total_Params_init_items(p, 1), 0), "x", 1);
        test_Calc_total_Results_reader r;
        if (test_Calc_total_send(&call, &r) != CAPNP_OK)
            break;
        sink += test_Calc_total_Results_get_sum(r);
        capnp_list l = test_Calc_total_Results_get_names(r);
        for (uint32_t i = 0; i < lim(l); i++)
            touch_text(capnp_list_text(l, i));
        break;
    }
    case 2: {
        test_Calc_hold_Results_reader r;
        if (test_Calc_hold(&cl, &bufs, &call, 3, "t", 1, &r) != CAPNP_OK)
            break;
        uint32_t back = test_Calc_hold_Results_get_back(r);
        /* a cap index the reader hands out is inside the caps it was given */
        if (back != CAPNP_NO_CAP && back >= call.result_ncaps)
            abort();
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    client_side(data, size);

    capnp_msg m;
    uint32_t caps[2] = { 5, 6 };

    if (capnp_msg_init(&m, data, size) == CAPNP_OK)
        capnp_msg_validate(&m);

    if (capnp_msg_init(&m, data, size) == CAPNP_OK) {
        capnp_msg_set_limits(&m, 1u << 16, 16);
        capnp_msg_set_caps(&m, caps, 2);
        read_all(test_All_read_root(&m));
    }
    if (capnp_msg_init(&m, data, size) == CAPNP_OK)
        read_spawn(capos_ProcessSpawner_spawn_Params_read_root(&m));

    static const test_Calc_server srv = { h_add, h_total, h_hold };
    uint8_t result[2048];
    uint32_t rcaps[2];
    uint16_t method = size ? data[0] % 4 : 0; /* 3: an unknown method */
    capnp_server_call c = { test_Calc_ID, method, data, size, caps, 2,
                            result, sizeof result, 0, rcaps, 2, 0 };
    int e = test_Calc_dispatch(&srv, 0, &c);
    if (e == CAPNP_OK) {
        /* what we encoded must read back as a valid message */
        if (capnp_msg_init(&m, result, c.result_len) != CAPNP_OK ||
            capnp_msg_validate(&m) != CAPNP_OK)
            abort();
    } else if (c.result_len != 0) {
        abort();
    }
    return 0;
}
