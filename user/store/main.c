/*
 * store: the crash-safe key-value store (lib/store) over a BlockDevice.
 * Holds "disk" (BlockDevice), a console to log to, and the owner side of
 * each of its exports: every export is a namespace named like it, and a
 * call on it reaches only that namespace's keys. A damaged disk is reported
 * once, with the library's message, and every call then answers `corrupt`.
 */
#include "rt/capos.h"
#include "store/store.h"
#include "cpu/rdrand.h"

#define MAX_NS  8
#define TABLE   256
#define TAG(i)  (0x5700000000000000ull | (i))

struct ns { char name[STORE_NS_MAX + 1]; uint32_t len, owner; };
static struct ns nss[MAX_NS];
static uint32_t nns, disk;
static struct store st;
static struct store_entry tab[TABLE];
static struct store_txn txn;
static struct store_io io;
static int state = capos_StoreError_none;
static uint64_t commits;
static struct rt_incoming rx;
static uint8_t rbuf[MAX_NS][sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));

static int d_read(void *ctx, uint64_t sector, uint32_t count, uint8_t *buf)
{
    RT_BUFS(b, 128, 4096 + 256);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_read_Results_reader r;
    if (capos_BlockDevice_read(&cl, &b, &call, sector, count, &r) || capos_BlockDevice_read_Results_get_error(r))
        return -1;
    capnp_data d = capos_BlockDevice_read_Results_get_data(r);
    if (d.len != count * STORE_SECTOR)
        return -1;
    memcpy(buf, d.ptr, d.len);
    return 0;
}

static int d_write(void *ctx, uint64_t sector, uint32_t count, const uint8_t *buf)
{
    RT_BUFS(b, 4096 + 256, 128);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_write_Results_reader r;
    return capos_BlockDevice_write(&cl, &b, &call, sector, buf, (size_t)count * STORE_SECTOR, &r) ||
           capos_BlockDevice_write_Results_get_error(r) ? -1 : 0;
}

static int d_flush(void *ctx)
{
    RT_BUFS(b, 128, 128);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_flush_Results_reader r;
    return capos_BlockDevice_flush(&cl, &b, &call, &r) || capos_BlockDevice_flush_Results_get_error(r) ? -1 : 0;
}

static int err_of(int e)
{
    switch (e) {
    case STORE_OK: return capos_StoreError_none;
    case STORE_E_IO: return capos_StoreError_ioError;
    case STORE_E_CORRUPT: return capos_StoreError_corrupt;
    case STORE_E_FULL: case STORE_E_TABLE_FULL: return capos_StoreError_full;
    case STORE_E_TOO_BIG: return capos_StoreError_tooBig;
    case STORE_E_NOT_FOUND: return capos_StoreError_notFound;
    case STORE_E_FAILED: return capos_StoreError_failed;
    default: return capos_StoreError_badArgument;
    }
}

static const struct ns *caller_ns(void *self) { return self; }

static int do_get(void *self, capos_Store_get_Params_reader p, capos_Store_get_Results_builder r)
{
    const struct ns *n = caller_ns(self);
    capnp_data k = capos_Store_get_Params_get_key(p);
    int e = state;
    if (!e && (k.len == 0 || k.len > STORE_KEY_MAX))
        e = k.len ? capos_StoreError_tooBig : capos_StoreError_badArgument;
    if (!e) {
        const struct store_entry *x = store_get(&st, n->name, n->len, k.ptr, k.len);
        if (x)
            capos_Store_get_Results_set_value(r, x->val, x->vlen);
        else
            e = capos_StoreError_notFound;
    }
    capos_Store_get_Results_set_error(r, (uint16_t)e);
    return CAPNP_OK;
}

static int do_commit(void *self, capos_Store_commit_Params_reader p, capos_Store_commit_Results_builder r)
{
    const struct ns *n = caller_ns(self);
    int e = state;
    if (!e) {
        capnp_list ops = capos_Store_commit_Params_get_ops(p);
        store_txn_init(&txn);
        for (uint32_t i = 0; i < ops.count; i++) {
            capos_StoreOp_reader o = capos_StoreOp_list_get(ops, i);
            capnp_data k = capos_StoreOp_get_key(o), v = capos_StoreOp_get_value(o);
            if (capos_StoreOp_get_delete(o))
                store_txn_del(&txn, n->name, n->len, k.ptr, k.len);
            else
                store_txn_put(&txn, n->name, n->len, k.ptr, k.len, v.ptr, v.len);
        }
        uint64_t before = st.report.compactions;
        int se = store_commit(&st, &txn);
        if (st.report.compactions != before)
            printf("store: compacted the log: %u keys, %lu of %lu sectors of the region in use\n", st.count,
                   st.tail - st.region_start, st.region_end - st.region_start);
        if (se == STORE_OK)
            commits++;
        else if (se == STORE_E_IO || se == STORE_E_FAILED)
            printf("store: a write to the disk failed: no more commits\n");
        e = err_of(se);
    }
    capos_Store_commit_Results_set_error(r, (uint16_t)e);
    return CAPNP_OK;
}

static int do_list(void *self, capos_Store_list_Params_reader p, capos_Store_list_Results_builder r)
{
    const struct ns *n = caller_ns(self);
    uint32_t cur = capos_Store_list_Params_get_cursor(p), k = 0, start = cur;
    if (state)
        return CAPNP_OK;
    /* count, then fill: at most 32 keys an answer */
    while (k < 32 && store_next(&st, n->name, n->len, &cur))
        k++;
    capnp_lbuilder l = capos_Store_list_Results_init_keys(r, k);
    cur = start;
    for (uint32_t i = 0; i < k; i++) {
        const struct store_entry *x = store_next(&st, n->name, n->len, &cur);
        capnp_lset_data(l, i, x->key, x->klen);
    }
    uint32_t probe = cur;
    capos_Store_list_Results_set_cursor(r, store_next(&st, n->name, n->len, &probe) ? cur : 0);
    return CAPNP_OK;
}

static int do_info(void *self, capos_Store_info_Params_reader p, capos_Store_info_Results_builder r)
{
    const struct ns *n = caller_ns(self);
    uint32_t cur = 0, k = 0;
    while (!state && store_next(&st, n->name, n->len, &cur))
        k++;
    capos_Store_info_Results_set_keys(r, k);
    capos_Store_info_Results_set_commits(r, st.report.commits + commits);
    capos_Store_info_Results_set_freeSectors(r, state ? 0 : st.region_end - st.tail);
    capos_Store_info_Results_set_state(r, (uint16_t)state);
    return CAPNP_OK;
}

static const capos_Store_server server = { .get = do_get, .commit = do_commit, .list = do_list, .info = do_info };

static int open_store(void)
{
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_info_Results_reader ir;
    if (capos_BlockDevice_info(&cl, &b, &call, &ir)) {
        printf("store: the disk does not answer\n");
        return capos_StoreError_ioError;
    }
    io = (struct store_io){ 0, d_read, d_write, d_flush, capos_BlockDevice_info_Results_get_maxSectors(ir),
                            capos_BlockDevice_info_Results_get_sectors(ir) };
    uint64_t epoch = 0;
    if (!rdrand_fill(&epoch, sizeof epoch))
        epoch = rt_timer_now() ^ 0x9e3779b97f4a7c15ull;
    int e = store_open(&st, &io, tab, TABLE, epoch);
    if (e) {
        printf("store: %s\n", store_message(&st));
        return err_of(e);
    }
    printf("store: %s %lu commits, %lu of %lu sectors of the region in use free%s%s\n",
           st.report.formatted ? "formatted a blank disk:" : "recovered", st.report.commits, st.region_end - st.tail,
           st.region_end - st.region_start, st.report.torn ? ", a torn last commit ignored" : "",
           st.report.interrupted ? ", an interrupted compaction ignored" : "");
    return capos_StoreError_none;
}

int main(void)
{
    disk = rt_capset_require("disk");
    for (uint32_t i = 0; i < rt_capset->count && nns < MAX_NS; i++) {
        const struct capset_entry *c = &rt_capset->entries[i];
        if (c->interface_id != capos_Endpoint_ID)
            continue;
        uint32_t len = (uint32_t)strlen(c->name);
        if (len == 0 || len > STORE_NS_MAX) {
            printf("store: export \"%s\": a namespace name is 1 to %u bytes\n", c->name, STORE_NS_MAX);
            continue;
        }
        memcpy(nss[nns].name, c->name, len + 1);
        nss[nns].len = len;
        nss[nns++].owner = c->cap_id;
    }
    state = open_store();
    struct cap_sqe sq[MAX_NS];
    for (uint32_t i = 0; i < nns; i++) {
        sq[i] = (struct cap_sqe){ .opcode = CAP_OP_RECV, .cap_id = nss[i].owner, .result_addr = (uint64_t)rbuf[i],
                                  .result_len = sizeof rbuf[i] };
        rt_ring_submit_tagged(&sq[i], TAG(i));
    }
    for (uint32_t live = nns; live;) {
        struct cap_cqe c;
        while (!rt_ring_next(&c, CAP_TIMEOUT_FOREVER))
            ;
        uint64_t i = c.user_data ^ TAG(0);
        if (i >= nns)
            continue;
        if (c.result == CAP_ERR_DISCONNECTED) {
            live--;
            continue;
        }
        rx.ncaps = 0;
        rt_serve_delivered(nss[i].owner, &c, capos_Store_dispatch_any, &server, &nss[i], rbuf[i], &rx);
        for (uint32_t k = 0; k < rx.ncaps; k++)
            rt_release(rx.caps[k]);
        rt_ring_submit_tagged(&sq[i], TAG(i));
    }
    return 0;
}
