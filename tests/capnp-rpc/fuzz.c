/*
 * libFuzzer target for lib/capnp-rpc.  The first byte picks a side:
 *   even: the bytes are what a client sends to the test server;
 *   odd:  the bytes are what a server answers to our client, which has
 *         asked a bootstrap and two pipelined calls first.
 * The rest is fed one frame at a time, each reply drained.  Whatever
 * happens, closing the connection must leave no table entry behind and
 * every export must have been dropped.
 */
#include <stdlib.h>

#include "capos.capnp.h"
#include "pair.h"

static void fake_random(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)i;
}

static int fake_verify(const uint8_t *sig, const uint8_t *msg, size_t len, const uint8_t *pk)
{
    return sig[0] == msg[0] ? 0 : -1;
}

static const uint8_t key[1][32] = { { 7 } };

static void drain(crpc_conn *c)
{
    size_t n;
    crpc_output(c, &n);
    crpc_output_done(c, n);
}

static void run_server(const uint8_t *data, size_t size)
{
    static struct tsrv s;
    tsrv_init(&s, 0);
    s.random = fake_random;
    s.verify = fake_verify;
    s.keys = key;
    s.nkeys = 1;
    size_t off = 0;
    while (off < size) {
        size_t used;
        crpc_event ev;
        int rc = crpc_input(&s.rpc, data + off, size - off, &used, &ev);
        drain(&s.rpc);
        if (rc != CRPC_OK)
            break;
        off += used;
    }
    int exported = 0;
    for (int i = 0; i < TSRV_EXPORTS; i++)
        exported += (int)s.ex[i].gen;
    crpc_close(&s.rpc);
    if (crpc_live(&s.rpc) != 0 || s.dropped != exported)
        abort();
}

static void run_client(const uint8_t *data, size_t size)
{
    static struct client c;
    client_init(&c);
    uint32_t qb, q;
    crpc_bootstrap(&c.rpc, &qb);
    crpc_call call;
    crpc_call_begin(&c.rpc, &call, crpc_target_answer(qb, 0, 0), capos_RemoteAdmission_ID, 0, 0, 2);
    crpc_call_send(&c.rpc, &call, &q);
    uint16_t f0 = 0;
    crpc_call_begin(&c.rpc, &call, crpc_target_answer(q, 1, &f0), capos_RemoteCapSet_ID, 0, 0, 0);
    crpc_call_send(&c.rpc, &call, &q);
    drain(&c.rpc);
    size_t off = 0;
    while (off < size) {
        size_t used;
        crpc_event ev;
        int rc = crpc_input(&c.rpc, data + off, size - off, &used, &ev);
        if (rc != CRPC_OK)
            break;
        if (ev.kind == CRPC_EV_RETURN) { /* read what came, use the caps, finish */
            capnp_struct r = crpc_content(&ev);
            (void)capnp_get_u64(r, 0);
            (void)capnp_get_text(r, 0);
            for (uint32_t i = 0; i < ev.ncaps; i++)
                if (ev.caps[i] != CAPNP_NO_CAP && !(ev.caps[i] & CRPC_H_EXPORT)) {
                    crpc_call_begin(&c.rpc, &call, crpc_target_import(ev.caps[i]), 1, 0, 0, 0);
                    crpc_call_send(&c.rpc, &call, &q);
                    crpc_release(&c.rpc, ev.caps[i]);
                }
        }
        if (ev.kind == CRPC_EV_RETURN || ev.kind == CRPC_EV_EXCEPTION)
            crpc_finish(&c.rpc, ev.question);
        drain(&c.rpc);
        off += used;
    }
    crpc_close(&c.rpc);
    if (crpc_live(&c.rpc) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        run_client(data + 1, size - 1);
    else
        run_server(data + 1, size - 1);
    return 0;
}
