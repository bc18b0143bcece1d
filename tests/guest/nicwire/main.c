/*
 * nicwire: a virtual Ethernet wire for the network-stack proofs. Serves
 * Nic on two exports, "a" and "b": a frame sent on one is received on the
 * other. Each direction queues at most QMAX frames (send takes fewer when
 * full: back-pressure); a receive waits until a frame is there (up to
 * HELD per side, answered oldest first).
 */
#include "rt/capos.h"

#define QMAX 64
#define FMAX 1514
#define HELD 8                            /* receives that may wait on one side */
#define RECV_BUF (sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS + 8 + CAP_MAX_XFER * sizeof(struct cap_result_cap))

struct side {
    uint32_t owner;
    uint8_t mac[6];
    uint32_t head, n;                     /* frames waiting to be received here */
    uint16_t len[QMAX];
    uint8_t q[QMAX][FMAX];
    uint32_t held_head, nheld;            /* receives deferred, answered oldest first */
    struct { uint32_t call_id, max_frames, max_bytes; } held[HELD];
    uint64_t rx, tx;
};
static struct side sides[2];
static struct rt_incoming in;
static int cur;
static uint8_t bufs[2][RECV_BUF] __attribute__((aligned(8)));

static int n_info(void *self, capos_Nic_info_Params_reader p, capos_Nic_info_Results_builder r)
{
    capos_Nic_info_Results_set_mac(r, sides[cur].mac, 6);
    capos_Nic_info_Results_set_mtu(r, 1500);
    capos_Nic_info_Results_set_linkUp(r, true);
    return CAPNP_OK;
}

static int n_send(void *self, capos_Nic_send_Params_reader p, capos_Nic_send_Results_builder r)
{
    struct side *o = &sides[!cur];
    capnp_list l = capos_Nic_send_Params_get_frames(p);
    uint32_t sent = 0;
    for (uint32_t i = 0; i < l.count && o->n < QMAX; i++, sent++) {
        capnp_data d = capnp_list_data(l, i);
        if (d.len < 14 || d.len > FMAX)
            continue;                     /* malformed: taken and dropped */
        uint32_t k = (o->head + o->n++) % QMAX;
        memcpy(o->q[k], d.ptr, d.len);
        o->len[k] = (uint16_t)d.len;
    }
    sides[cur].tx += sent;
    capos_Nic_send_Results_set_sent(r, sent);
    return CAPNP_OK;
}

/* Fill a receive's results from side s's queue. */
static void fill(struct side *s, capos_Nic_receive_Results_builder r, uint32_t max_frames, uint32_t max_bytes)
{
    uint32_t n = 0, bytes = 0;
    if (max_bytes > CAP_MAX_RESULT - 256)
        max_bytes = CAP_MAX_RESULT - 256;
    while (n < s->n && n < max_frames) {
        uint32_t l = s->len[(s->head + n) % QMAX];
        if (n && bytes + l + 8 > max_bytes)
            break;
        bytes += l + 8;
        n++;
    }
    capnp_lbuilder lb = capos_Nic_receive_Results_init_frames(r, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = (s->head + i) % QMAX;
        capnp_lset_data(lb, i, s->q[k], s->len[k]);
    }
    s->head = (s->head + n) % QMAX;
    s->n -= n;
    s->rx += n;
}

static int n_receive(void *self, capos_Nic_receive_Params_reader p, capos_Nic_receive_Results_builder r)
{
    struct side *s = &sides[cur];
    uint32_t mf = capos_Nic_receive_Params_get_maxFrames(p), mb = capos_Nic_receive_Params_get_maxBytes(p);
    if (s->nheld == HELD)
        return CAP_ERR_OVERLOADED;
    if (s->n && !s->nheld) {
        fill(s, r, mf ? mf : 1, mb);
        return CAPNP_OK;
    }
    uint32_t k = (s->held_head + s->nheld++) % HELD;
    s->held[k].call_id = in.hdr->call_id;
    s->held[k].max_frames = mf ? mf : 1;
    s->held[k].max_bytes = mb;
    in.deferred = true;
    return CAPNP_OK;
}

static int n_counters(void *self, capos_Nic_counters_Params_reader p, capos_Nic_counters_Results_builder r)
{
    capos_NicCounters_builder c = capos_Nic_counters_Results_init_counters(r);
    capos_NicCounters_set_rxFrames(c, sides[cur].rx);
    capos_NicCounters_set_txFrames(c, sides[cur].tx);
    return CAPNP_OK;
}

static const capos_Nic_server srv = { n_info, n_send, n_receive, n_counters };

static void post(int i)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = sides[i].owner, .result_addr = (uint64_t)bufs[i],
                         .result_len = RECV_BUF };
    rt_ring_submit_tagged(&s, 0x4e570000ull | (uint64_t)i);
}

/* Answer the waiting receives, oldest first, while frames are there. */
static void wake(int i)
{
    struct side *s = &sides[i];
    static uint8_t out[CAP_MAX_RESULT] __attribute__((aligned(8)));
    while (s->nheld && s->n) {
        capnp_builder b;
        capnp_builder_init(&b, out, sizeof out);
        uint32_t k = s->held_head;
        fill(s, capos_Nic_receive_Results_init_root(&b), s->held[k].max_frames, s->held[k].max_bytes);
        size_t len = 0;
        capnp_builder_finish(&b, &len);
        s->held_head = (k + 1) % HELD;
        s->nheld--;
        rt_return(s->owner, s->held[k].call_id, out, (uint32_t)len, 0, 0, false);
    }
}

int main(void)
{
    sides[0].owner = rt_capset_require("a");
    sides[1].owner = rt_capset_require("b");
    for (int i = 0; i < 2; i++) {
        static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0 };
        memcpy(sides[i].mac, base, 6);
        sides[i].mac[5] = (uint8_t)(i + 1);
        post(i);
    }
    for (;;) {
        struct cap_cqe c;
        while (!rt_ring_poll(&c))
            sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
        int i = (int)(c.user_data & 1);
        if ((c.user_data & ~1ull) != 0x4e570000ull || c.result < 0)
            continue;
        cur = i;
        in.ncaps = 0;
        rt_serve_delivered(sides[i].owner, &c, capos_Nic_dispatch_any, &srv, &in, bufs[i], &in);
        for (uint32_t k = 0; k < in.ncaps; k++)
            rt_release(in.caps[k]);
        post(i);
        wake(0);
        wake(1);
    }
}
