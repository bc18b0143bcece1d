/*
 * virtio-net: the driver of a modern (virtio 1.0) virtio-net PCI function.
 * It holds only its device caps (nic-mmio, nic-dma, nic-irq) and a console,
 * and exports "nic" (Nic) to the network stack. Read README.md.
 *
 * One event loop: a RECV on the Nic endpoint and an Interrupt.wait always in
 * flight. A Nic.receive with no frame waiting is held (deferred; several
 * may wait, answered oldest first) and
 * answered when the interrupt brings frames. Every number the device hands
 * back (used ring index, descriptor id, length, config offsets) is checked
 * before use: a device that breaks the rules is marked broken, never
 * trusted.
 */
#include "rt/capos.h"

/* PCI virtio capability types (virtio 1.0, 4.1.4) */
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR    3
#define CFG_DEVICE 4

/* common configuration layout (virtio_pci_common_cfg) */
#define C_DFSELECT   0x00
#define C_DF         0x04
#define C_GFSELECT   0x08
#define C_GF         0x0c
#define C_MSIX       0x10
#define C_NUMQ       0x12
#define C_STATUS     0x14
#define C_GEN        0x15
#define C_QSELECT    0x16
#define C_QSIZE      0x18
#define C_QMSIX      0x1a
#define C_QENABLE    0x1c
#define C_QNOTIFYOFF 0x1e
#define C_QDESC      0x20
#define C_QAVAIL     0x28
#define C_QUSED      0x30
#define C_LEN        0x38

#define S_ACK        1
#define S_DRIVER     2
#define S_DRIVER_OK  4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define S_FAILED     128

#define F_MAC        5
#define F_STATUS     16
#define F_VERSION_1  32
#define NET_S_LINK_UP 1
#define NO_VECTOR    0xffff

#define D_NEXT  1
#define D_WRITE 2
#define AVAIL_NO_INTERRUPT 1
#define USED_NO_NOTIFY 1            /* the device needs no kick for now (virtio 1.0, 2.4.7) */
#define CFG_EVERY 64                /* interrupts with ring progress between device status reads */

#define HDR      12                 /* virtio_net_hdr_v1 */
#define FRAME_MIN 14
#define FRAME_MAX 1514
#define BUF      2048               /* two buffers per DMA page */
#define QN       64                 /* descriptors per queue (at most) */
#define RXQ      0
#define TXQ      1
#define MAX_BARS 6

#define TAG_EP   0x4e45540000000001ull
#define TAG_IRQ  0x4e45540000000002ull
#define RECV_BUF (sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS + 8 + CAP_MAX_XFER * sizeof(struct cap_result_cap))

struct vq {
    uint16_t n;                     /* size in use (power of 2, <= QN) */
    volatile uint8_t *desc, *avail, *used;
    uint64_t ring_dev;
    volatile uint16_t *notify;
    uint16_t avail_idx, used_seen;
    uint8_t *buf[QN];               /* the driver's view of each descriptor's buffer */
    uint64_t buf_dev[QN];
    uint16_t free[QN], nfree;       /* TX: descriptors not in flight */
};

static uint32_t mmio, dma, irq, owner;
static volatile uint8_t *common, *isr, *devcfg;
static uint32_t devcfg_len;
static volatile uint8_t *notify_base;
static uint32_t notify_mult, notify_len;
static struct vq q[2];
static uint8_t mac[6];
static bool link_up, has_status, broken;
static uint64_t feats;
static struct { uint64_t rx, tx, rxb, txb, txfull, links, bad; } ctr;

/* Frames received and not yet handed out: the used entries read from the
 * receive ring, in arrival order, whose buffers stay with the driver until
 * a Nic.receive's result takes a copy; then they go back to the device.
 * rx_ours marks the descriptors in this queue (a device that hands one
 * back twice is caught). While no receive waits, frames wait in these
 * buffers, and once all are full QEMU holds further frames back. */
static uint16_t rxid[QN], rxlen[QN];
static uint32_t rxhead, rxn;
static bool rx_ours[QN];

/* Nic.receive calls held until frames come, answered oldest first (so
 * frames reach the stack in arrival order); a stack keeps several in
 * flight so that one interrupt's frames go out in one turn of this loop */
#define HELD 32
static struct { uint32_t id, frames, bytes; } held[HELD];
static uint32_t held_head, nheld;

static struct rt_incoming in;
static uint8_t recv_buf[RECV_BUF] __attribute__((aligned(8)));

/* ---- register access ---- */
static inline uint8_t r8(volatile uint8_t *b, uint32_t o) { return *(volatile uint8_t *)(b + o); }
static inline uint16_t r16(volatile uint8_t *b, uint32_t o) { return *(volatile uint16_t *)(b + o); }
static inline uint32_t r32(volatile uint8_t *b, uint32_t o) { return *(volatile uint32_t *)(b + o); }
static inline void w8(volatile uint8_t *b, uint32_t o, uint8_t v) { *(volatile uint8_t *)(b + o) = v; }
static inline void w16(volatile uint8_t *b, uint32_t o, uint16_t v) { *(volatile uint16_t *)(b + o) = v; }
static inline void w32(volatile uint8_t *b, uint32_t o, uint32_t v) { *(volatile uint32_t *)(b + o) = v; }
static inline void w64(volatile uint8_t *b, uint32_t o, uint64_t v)
{
    w32(b, o, (uint32_t)v);
    w32(b, o + 4, (uint32_t)(v >> 32));
}
static inline void barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* ---- the device caps ---- */
static int64_t read_config(uint16_t off, uint8_t width)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mmio);
    capnp_call call;
    capos_DeviceMmio_readConfig_Results_reader r;
    int e = capos_DeviceMmio_readConfig(&cl, &b, &call, off, width, &r);
    return e ? -1 : (int64_t)capos_DeviceMmio_readConfig_Results_get_value(r);
}

static uint64_t bar_addr[MAX_BARS], bar_size[MAX_BARS];

static int map_bar(uint8_t bar)
{
    if (bar >= MAX_BARS)
        return -1;
    if (bar_addr[bar])
        return 0;
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mmio);
    capnp_call call;
    capos_DeviceMmio_map_Results_reader r;
    int e = capos_DeviceMmio_map(&cl, &b, &call, bar, &r);
    if (e)
        return -1;
    bar_addr[bar] = capos_DeviceMmio_map_Results_get_addr(r);
    bar_size[bar] = capos_DeviceMmio_map_Results_get_size(r);
    return bar_addr[bar] ? 0 : -1;
}

static int dma_page(uint8_t **va, uint64_t *pa)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(dma);
    capnp_call call;
    capos_DMAPool_alloc_Results_reader r;
    if (capos_DMAPool_alloc(&cl, &b, &call, &r))
        return -1;
    *va = (uint8_t *)capos_DMAPool_alloc_Results_get_addr(r);
    *pa = capos_DMAPool_alloc_Results_get_deviceAddr(r);
    return *va ? 0 : -1;
}

static void irq_ack(void)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(irq);
    capnp_call call;
    capos_Interrupt_ack_Results_reader r;
    capos_Interrupt_ack(&cl, &b, &call, &r);
}

static uint8_t irq_params[16] __attribute__((aligned(8)));
static uint8_t irq_result[64] __attribute__((aligned(8)));

static void post_irq_wait(void)
{
    capnp_builder b;
    capnp_builder_init(&b, irq_params, sizeof irq_params);
    capos_Interrupt_wait_Params_init_root(&b);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = irq, .interface_id = capos_Interrupt_ID,
                         .method_id = capos_Interrupt_METHOD_wait, .addr = (uint64_t)irq_params,
                         .len = (uint32_t)len, .result_addr = (uint64_t)irq_result, .result_len = sizeof irq_result };
    rt_ring_submit_tagged(&s, TAG_IRQ);
}

static void post_recv(void)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)recv_buf,
                         .result_len = RECV_BUF };
    rt_ring_submit_tagged(&s, TAG_EP);
}

/* ---- discovery: the virtio capabilities in config space ---- */
/* The address of a capability's window, after checking it lies in its BAR. */
static volatile uint8_t *window(uint8_t bar, uint32_t off, uint32_t len, uint32_t need)
{
    if (len < need || map_bar(bar))
        return 0;
    if ((uint64_t)off + len > bar_size[bar])
        return 0;
    return (volatile uint8_t *)(bar_addr[bar] + off);
}

static int find_caps(void)
{
    int64_t st = read_config(0x06, 2);
    if (st < 0 || !(st & 0x10))
        return -1;                      /* no capability list */
    int64_t off = read_config(0x34, 1);
    for (int guard = 0; off >= 0x40 && off < 0xfc && guard < 48; guard++) {
        off &= 0xfc;
        int64_t id = read_config((uint16_t)off, 1);
        if (id == 9) {
            int64_t type = read_config((uint16_t)(off + 3), 1), bar = read_config((uint16_t)(off + 4), 1);
            int64_t o = read_config((uint16_t)(off + 8), 4), len = read_config((uint16_t)(off + 12), 4);
            if (type < 0 || bar < 0 || bar >= MAX_BARS || o < 0 || len < 0)
                goto next;
            /* the first capability of each type is the preferred one */
            if (type == CFG_COMMON && !common)
                common = window((uint8_t)bar, (uint32_t)o, (uint32_t)len, C_LEN);
            else if (type == CFG_ISR && !isr)
                isr = window((uint8_t)bar, (uint32_t)o, (uint32_t)len, 1);
            else if (type == CFG_DEVICE && !devcfg) {
                devcfg = window((uint8_t)bar, (uint32_t)o, (uint32_t)len, 6);
                devcfg_len = (uint32_t)len;
            } else if (type == CFG_NOTIFY && !notify_base) {
                int64_t m = off + 16 < 0xfc ? read_config((uint16_t)(off + 16), 4) : -1;
                if (m >= 0 && (notify_base = window((uint8_t)bar, (uint32_t)o, (uint32_t)len, 2))) {
                    notify_mult = (uint32_t)m;
                    notify_len = (uint32_t)len;
                }
            }
        }
    next:
        off = read_config((uint16_t)(off + 1), 1);
    }
    return common && notify_base && devcfg ? 0 : -1;
}

/* ---- device configuration (MAC, link) ---- */
static void read_netcfg(void)
{
    for (int tries = 0; tries < 8; tries++) {
        uint8_t gen = r8(common, C_GEN);
        uint8_t m[6];
        for (int i = 0; i < 6; i++)
            m[i] = r8(devcfg, (uint32_t)i);
        uint16_t st = devcfg_len >= 8 && has_status ? r16(devcfg, 6) : NET_S_LINK_UP;
        if (r8(common, C_GEN) != gen)
            continue;
        if (feats & (1ull << F_MAC))
            memcpy(mac, m, 6);
        bool up = st & NET_S_LINK_UP;
        if (up != link_up) {
            ctr.links++;
            printf("virtio-net: link %s\n", up ? "up" : "down");
        }
        link_up = up;
        return;
    }
}

/* ---- virtqueues ---- */
static int setup_queue(int idx, bool rx)
{
    struct vq *v = &q[idx];
    w16(common, C_QSELECT, (uint16_t)idx);
    uint16_t max = r16(common, C_QSIZE);
    if (!max || (max & (max - 1)))
        return -1;                      /* split queues are a power of 2 */
    v->n = max < QN ? max : QN;
    uint8_t *page;
    if (dma_page(&page, &v->ring_dev))
        return -1;
    /* one page: descriptors (16 B each), then the available ring, then the used ring (4-aligned) */
    uint32_t avail_off = 16u * v->n, used_off = (avail_off + 6 + 2u * v->n + 3) & ~3u;
    v->desc = page;
    v->avail = page + avail_off;
    v->used = page + used_off;
    for (uint16_t i = 0; i < v->n; i += 2) {
        uint8_t *bp;
        uint64_t pa;
        if (dma_page(&bp, &pa))
            return -1;
        for (int k = 0; k < 2 && i + k < v->n; k++) {
            v->buf[i + k] = bp + k * BUF;
            v->buf_dev[i + k] = pa + (uint64_t)k * BUF;
        }
    }
    uint16_t noff = r16(common, C_QNOTIFYOFF);
    uint64_t nat = (uint64_t)noff * notify_mult;
    if (nat + 2 > notify_len)
        return -1;
    v->notify = (volatile uint16_t *)(notify_base + nat);
    w16(common, C_QSIZE, v->n);
    w64(common, C_QDESC, v->ring_dev);
    w64(common, C_QAVAIL, v->ring_dev + avail_off);
    w64(common, C_QUSED, v->ring_dev + used_off);
    w16(common, C_QMSIX, 0);
    if (r16(common, C_QMSIX) != 0)
        printf("virtio-net: queue %d has no interrupt vector\n", idx);
    if (rx) {
        /* every descriptor a device-writable buffer, all posted */
        for (uint16_t i = 0; i < v->n; i++) {
            volatile uint8_t *d = v->desc + 16u * i;
            *(volatile uint64_t *)d = v->buf_dev[i];
            *(volatile uint32_t *)(d + 8) = BUF;
            *(volatile uint16_t *)(d + 12) = D_WRITE;
            *(volatile uint16_t *)(d + 14) = 0;
            *(volatile uint16_t *)(v->avail + 4 + 2u * i) = i;
        }
        v->avail_idx = v->n;
    } else {
        for (uint16_t i = 0; i < v->n; i++)
            v->free[i] = i;
        v->nfree = v->n;
        /* TX completions are reclaimed when sending and on RX interrupts */
        *(volatile uint16_t *)v->avail = AVAIL_NO_INTERRUPT;
    }
    barrier();
    *(volatile uint16_t *)(v->avail + 2) = v->avail_idx;
    w16(common, C_QENABLE, 1);
    return 0;
}

/* Notify the device of new available entries, unless it said it needs no
 * notice (it polls the ring while it works: QEMU's receive path while it
 * has buffers, its transmit path while a flush is scheduled). The flag is
 * read after the index is published (the barrier), as 2.4.7 asks: a
 * device that turns notices back on checks the ring again after it. */
static void kick(struct vq *v, uint16_t idx)
{
    barrier();
    if (*(volatile uint16_t *)v->used & USED_NO_NOTIFY)
        return;
    *v->notify = idx;
}

static void set_broken(const char *why)
{
    if (!broken)
        printf("virtio-net: device broken (%s): stopped\n", why);
    broken = true;
}

/* Used entries not yet seen, or -1 when the device claims more than the ring holds. */
static int used_pending(struct vq *v)
{
    uint16_t idx = *(volatile uint16_t *)(v->used + 2);
    barrier();
    uint16_t n = (uint16_t)(idx - v->used_seen);
    if (n > v->n) {
        set_broken("used index");
        return -1;
    }
    return n;
}

/* Whether either queue's used ring holds entries not yet seen. */
static bool rings_moved(void)
{
    return !broken && (*(volatile uint16_t *)(q[RXQ].used + 2) != q[RXQ].used_seen ||
                       *(volatile uint16_t *)(q[TXQ].used + 2) != q[TXQ].used_seen);
}

static void reclaim_tx(void)
{
    struct vq *v = &q[TXQ];
    int n = broken ? 0 : used_pending(v);
    for (int k = 0; k < n; k++) {
        volatile uint8_t *e = v->used + 4 + 8u * (v->used_seen % v->n);
        uint32_t id = *(volatile uint32_t *)e;
        v->used_seen++;
        if (id >= v->n || v->nfree >= v->n) {
            ctr.bad++;
            continue;
        }
        bool dup = false;               /* a descriptor the device returns twice is not freed twice */
        for (uint16_t i = 0; i < v->nfree && !dup; i++)
            dup = v->free[i] == id;
        if (dup)
            ctr.bad++;
        else
            v->free[v->nfree++] = (uint16_t)id;
    }
}

/* Put a receive buffer back in the available ring (published by rx_publish). */
static void rx_repost(uint16_t id)
{
    struct vq *v = &q[RXQ];
    *(volatile uint16_t *)(v->avail + 4 + 2u * (v->avail_idx % v->n)) = id;
    v->avail_idx++;
}

static void rx_publish(void)
{
    struct vq *v = &q[RXQ];
    barrier();
    *(volatile uint16_t *)(v->avail + 2) = v->avail_idx;
    kick(v, RXQ);
}

/* Take the new used entries of the receive ring into rxid/rxlen. A
 * malformed one (length out of bounds) goes straight back to the device. */
static void poll_rx(void)
{
    struct vq *v = &q[RXQ];
    int n = broken ? 0 : used_pending(v);
    if (n <= 0)
        return;
    bool reposted = false;
    for (int k = 0; k < n; k++) {
        volatile uint8_t *e = v->used + 4 + 8u * (v->used_seen % v->n);
        uint32_t id = *(volatile uint32_t *)e, len = *(volatile uint32_t *)(e + 4);
        v->used_seen++;
        if (id >= v->n || rx_ours[id] || rxn == QN) {
            ctr.bad++;                  /* out of range, or not the device's to return */
            continue;
        }
        if (len < HDR + FRAME_MIN || len > BUF || len - HDR > FRAME_MAX) {
            ctr.bad++;
            rx_repost((uint16_t)id);
            reposted = true;
            continue;
        }
        uint32_t s = (rxhead + rxn++) % QN;
        rxid[s] = (uint16_t)id;
        rxlen[s] = (uint16_t)(len - HDR);
        rx_ours[id] = true;
        ctr.rx++;
        ctr.rxb += len - HDR;
    }
    if (reposted)
        rx_publish();
}

/* ---- Nic ---- */
static int n_info(void *self, capos_Nic_info_Params_reader p, capos_Nic_info_Results_builder r)
{
    capos_Nic_info_Results_set_mac(r, mac, 6);
    capos_Nic_info_Results_set_mtu(r, FRAME_MAX - 14);
    capos_Nic_info_Results_set_linkUp(r, link_up && !broken);
    return CAPNP_OK;
}

static int n_send(void *self, capos_Nic_send_Params_reader p, capos_Nic_send_Results_builder r)
{
    struct vq *v = &q[TXQ];
    capnp_list l = capos_Nic_send_Params_get_frames(p);
    uint32_t sent = 0;
    reclaim_tx();
    for (uint32_t i = 0; i < l.count && !broken; i++, sent++) {
        capnp_data d = capnp_list_data(l, i);
        if (d.len < FRAME_MIN || d.len > FRAME_MAX)
            continue;                   /* malformed: taken and dropped */
        if (!v->nfree) {
            ctr.txfull += l.count - i;
            break;
        }
        uint16_t id = v->free[--v->nfree];
        memset(v->buf[id], 0, HDR);
        memcpy(v->buf[id] + HDR, d.ptr, d.len);
        volatile uint8_t *de = v->desc + 16u * id;
        *(volatile uint64_t *)de = v->buf_dev[id];
        *(volatile uint32_t *)(de + 8) = HDR + d.len;
        *(volatile uint16_t *)(de + 12) = 0;
        *(volatile uint16_t *)(de + 14) = 0;
        *(volatile uint16_t *)(v->avail + 4 + 2u * (v->avail_idx % v->n)) = id;
        v->avail_idx++;
        ctr.tx++;
        ctr.txb += d.len;
    }
    if (sent) {
        barrier();
        *(volatile uint16_t *)(v->avail + 2) = v->avail_idx;
        kick(v, TXQ);
    }
    capos_Nic_send_Results_set_sent(r, sent);
    return CAPNP_OK;
}

/* Fill a receive's results from the head of the frame queue (at least one
 * frame), copying straight out of the receive buffers; returns how many it
 * took, which the caller then consumes. */
static uint32_t fill(capos_Nic_receive_Results_builder r, uint32_t max_frames, uint32_t max_bytes)
{
    uint32_t n = 0, bytes = 0;
    if (max_bytes > CAP_MAX_RESULT - 256)
        max_bytes = CAP_MAX_RESULT - 256;
    while (n < rxn && n < max_frames) {
        uint32_t l = rxlen[(rxhead + n) % QN];
        if (n && bytes + l + 8 > max_bytes)
            break;
        bytes += l + 8;
        n++;
    }
    capnp_lbuilder lb = capos_Nic_receive_Results_init_frames(r, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = (rxhead + i) % QN;
        capnp_lset_data(lb, i, q[RXQ].buf[rxid[k]] + HDR, rxlen[k]);
    }
    return n;
}

/* The first n frames are answered: their buffers go back to the device
 * (published by the caller, once per batch). */
static void consume(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint16_t id = rxid[rxhead];
        rx_ours[id] = false;
        rx_repost(id);
        rxhead = (rxhead + 1) % QN;
    }
    rxn -= n;
}

static int n_receive(void *self, capos_Nic_receive_Params_reader p, capos_Nic_receive_Results_builder r)
{
    uint32_t mf = capos_Nic_receive_Params_get_maxFrames(p), mb = capos_Nic_receive_Params_get_maxBytes(p);
    if (nheld == HELD)
        return CAP_ERR_OVERLOADED;      /* at most HELD receives wait */
    poll_rx();
    if (rxn && !nheld) {
        consume(fill(r, mf ? mf : 1, mb));     /* the frames are copied into the result already */
        rx_publish();
        return CAPNP_OK;
    }
    uint32_t k = (held_head + nheld++) % HELD;
    held[k].id = in.hdr->call_id;
    held[k].frames = mf ? mf : 1;
    held[k].bytes = mb;
    in.deferred = true;
    return CAPNP_OK;
}

static int n_counters(void *self, capos_Nic_counters_Params_reader p, capos_Nic_counters_Results_builder r)
{
    capos_NicCounters_builder c = capos_Nic_counters_Results_init_counters(r);
    capos_NicCounters_set_rxFrames(c, ctr.rx);
    capos_NicCounters_set_txFrames(c, ctr.tx);
    capos_NicCounters_set_rxBytes(c, ctr.rxb);
    capos_NicCounters_set_txBytes(c, ctr.txb);
    capos_NicCounters_set_rxDropped(c, 0);     /* none: frames wait in the ring, QEMU holds the rest back */
    capos_NicCounters_set_txFull(c, ctr.txfull);
    capos_NicCounters_set_linkChanges(c, ctr.links);
    return CAPNP_OK;
}

static const capos_Nic_server srv = { n_info, n_send, n_receive, n_counters };

/* Answer the held receives, oldest first, while frames are there. A
 * receive whose caller died (a stack that was restarted) is dropped and
 * its frames go to the next one: nothing is lost to a dead caller. */
static void wake(void)
{
    static uint8_t out[CAP_MAX_RESULT] __attribute__((aligned(8)));
    uint32_t taken = 0;
    while (nheld && rxn) {
        capnp_builder b;
        capnp_builder_init(&b, out, sizeof out);
        uint32_t n = fill(capos_Nic_receive_Results_init_root(&b), held[held_head].frames, held[held_head].bytes);
        size_t len = 0;
        capnp_builder_finish(&b, &len);
        uint32_t id = held[held_head].id;
        held_head = (held_head + 1) % HELD;
        nheld--;
        if (rt_return(owner, id, out, (uint32_t)len, 0, 0, false) != CAP_ERR_DISCONNECTED) {
            consume(n);
            taken += n;
        }
    }
    if (taken)
        rx_publish();
}

/* ---- bring-up (virtio 1.0, 3.1.1) ---- */
static int start(void)
{
    if (find_caps()) {
        printf("virtio-net: no modern virtio capabilities\n");
        return -1;
    }
    w8(common, C_STATUS, 0);
    for (int i = 0; i < 1000 && r8(common, C_STATUS); i++)
        rt_timer_sleep_until(rt_timer_now() + 100000);
    if (r8(common, C_STATUS)) {
        printf("virtio-net: the device does not reset\n");
        return -1;
    }
    w8(common, C_STATUS, S_ACK);
    w8(common, C_STATUS, S_ACK | S_DRIVER);
    w32(common, C_DFSELECT, 0);
    uint64_t dev = r32(common, C_DF);
    w32(common, C_DFSELECT, 1);
    dev |= (uint64_t)r32(common, C_DF) << 32;
    uint64_t want = 1ull << F_VERSION_1 | 1ull << F_MAC | 1ull << F_STATUS;
    feats = dev & want;
    if (!(feats & (1ull << F_VERSION_1))) {
        printf("virtio-net: the device does not offer VERSION_1\n");
        w8(common, C_STATUS, S_FAILED);
        return -1;
    }
    has_status = feats & (1ull << F_STATUS);
    w32(common, C_GFSELECT, 0);
    w32(common, C_GF, (uint32_t)feats);
    w32(common, C_GFSELECT, 1);
    w32(common, C_GF, (uint32_t)(feats >> 32));
    w8(common, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(r8(common, C_STATUS) & S_FEATURES_OK)) {
        printf("virtio-net: features refused\n");
        w8(common, C_STATUS, S_FAILED);
        return -1;
    }
    w16(common, C_MSIX, 0);             /* configuration changes (link) on vector 0 too */
    if (r16(common, C_NUMQ) < 2 || setup_queue(RXQ, true) || setup_queue(TXQ, false)) {
        printf("virtio-net: queue setup failed\n");
        w8(common, C_STATUS, S_FAILED);
        return -1;
    }
    if (!(feats & (1ull << F_MAC))) {   /* a locally administered address of our own */
        static const uint8_t m[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
        memcpy(mac, m, 6);
    }
    w8(common, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    kick(&q[RXQ], RXQ);
    read_netcfg();
    return 0;
}

int main(void)
{
    mmio = rt_capset_require("nic-mmio");
    dma = rt_capset_require("nic-dma");
    irq = rt_capset_require("nic-irq");
    owner = rt_capset_require("nic");
    if (start())
        return 2;
    printf("virtio-net: up, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u+%u descriptors\n", mac[0], mac[1],
           mac[2], mac[3], mac[4], mac[5], link_up ? "up" : "down", q[RXQ].n, q[TXQ].n);
    post_recv();
    post_irq_wait();
    bool irq_ok = true;
    uint32_t irqs_since_cfg = 0;
    for (;;) {
        struct cap_cqe c;
        /* without a working interrupt the rings are polled every millisecond */
        uint64_t timeout = irq_ok ? CAP_TIMEOUT_FOREVER : 1000000;
        bool got = rt_ring_next(&c, timeout);
        if (got && c.user_data == TAG_IRQ) {
            if (c.result < 0) {
                printf("virtio-net: Interrupt.wait failed (%d): polling\n", c.result);
                irq_ok = false;
            } else {
                irq_ack();
                post_irq_wait();
            }
            /* One vector serves the queues and configuration changes. The
             * device status and configuration (ten MMIO reads, each a trip
             * into QEMU's device model) are read when an interrupt brings
             * no ring progress (a configuration change brings none), and
             * every CFG_EVERY interrupts besides, not on every frame's. */
            if (!rings_moved() || ++irqs_since_cfg >= CFG_EVERY) {
                irqs_since_cfg = 0;
                if (!broken && (r8(common, C_STATUS) & S_NEEDS_RESET))
                    set_broken("needs reset");
                read_netcfg();
            }
        } else if (got && c.user_data == TAG_EP) {
            if (c.result == CAP_ERR_DISCONNECTED)
                return 0;               /* the endpoint is gone */
            in.ncaps = 0;
            rt_serve_delivered(owner, &c, capos_Nic_dispatch_any, &srv, &in, recv_buf, &in);
            for (uint32_t k = 0; k < in.ncaps; k++)
                rt_release(in.caps[k]);
            post_recv();
        }
        poll_rx();
        reclaim_tx();
        wake();
    }
}
