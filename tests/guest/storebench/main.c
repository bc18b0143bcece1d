/*
 * storebench: the capOS side of make bench-store-guest (bench/store-guest).
 * Holds one Store namespace ("store"), the timer, a console and power.
 * Times with the kernel clock (Timer.now; under QEMU's -icount shift=0 a
 * virtual clock that counts instructions, and follows the host's time while
 * the guest is idle waiting for the disk). Args "COMMITS BYTES": once the
 * store answers (it has opened its disk), three phases:
 *   commits  COMMITS commits of one 64-byte value each (keys c0..c63 in
 *            turn); the store flushes the disk before it answers each one
 *   write    BYTES of 1024-byte values (the store's largest), as many to a
 *            commit as fit one call's parameters, keys s0..s127 in turn
 *   read     BYTES read back with Store.get, one value a call, in the
 *            order written, each compared with what its key last got
 * Args "open DISKBYTES" (a boot on a disk the first run wrote): the time
 * from this program's start to the store's first answer, which comes once
 * the store has read the whole disk (recovery).
 * Each phase prints one line for the host to parse:
 *   STOREBENCH <phase> ops=<n> bytes=<n> ns=<n> error=<StoreError or 100+CAP_ERR>
 * then the store's counters (Store.info); then it powers off.
 */
#include "rt/capos.h"

enum {
    SMALL_VALUE = 64,
    SMALL_KEYS = 64,
    BIG_VALUE = 1024,              /* STORE_VALUE_MAX */
    BIG_KEYS = 128,
    PER_COMMIT = 3,                /* 1 KiB values that fit a call's 4 KiB of parameters */
};

static uint32_t store;

static int commit(const char (*keys)[8], const uint8_t (*vals)[BIG_VALUE], uint32_t vlen, uint32_t n)
{
    RT_BUFS(b, CAP_MAX_PARAMS, 256);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, n);
    for (uint32_t i = 0; i < n; i++) {
        capos_StoreOp_builder o = capos_StoreOp_list_at(l, i);
        capos_StoreOp_set_key(o, keys[i], (uint32_t)strlen(keys[i]));
        capos_StoreOp_set_value(o, vals[i], vlen);
    }
    capos_Store_commit_Results_reader r;
    int e = capos_Store_commit_send(&call, &r);
    return e ? 100 + rt_error(e) : capos_Store_commit_Results_get_error(r);
}

/* value number i of the write phase: its bytes depend on i alone */
static void pattern(uint8_t *v, uint64_t i)
{
    for (uint32_t j = 0; j < BIG_VALUE; j++)
        v[j] = (uint8_t)(i * 131 + j);
}

static void report(const char *phase, uint64_t ops, uint64_t bytes, uint64_t ns, int err)
{
    printf("STOREBENCH %s ops=%lu bytes=%lu ns=%lu error=%d\n", phase, ops, bytes, ns, err);
}

static void small_commits(uint32_t count)
{
    static uint8_t val[1][BIG_VALUE];
    char key[1][8];
    int e = 0;
    uint32_t i = 0;
    uint64_t t0 = rt_timer_now();
    for (; i < count && !e; i++) {
        fmt_snprintf(key[0], sizeof key[0], "c%u", i % SMALL_KEYS);
        memset(val[0], (int)i, SMALL_VALUE);
        e = commit((const char (*)[8])key, (const uint8_t (*)[BIG_VALUE])val, SMALL_VALUE, 1);
    }
    uint64_t t1 = rt_timer_now();
    report("commits", e ? i - 1 : i, (uint64_t)(e ? i - 1 : i) * SMALL_VALUE, t1 - t0, e);
}

static void seq_write(uint64_t values)
{
    static uint8_t vals[PER_COMMIT][BIG_VALUE];
    char keys[PER_COMMIT][8];
    int e = 0;
    uint64_t done = 0, commits = 0;
    uint64_t t0 = rt_timer_now();
    while (done < values && !e) {
        uint32_t n = values - done < PER_COMMIT ? (uint32_t)(values - done) : PER_COMMIT;
        for (uint32_t k = 0; k < n; k++) {
            fmt_snprintf(keys[k], sizeof keys[k], "s%u", (uint32_t)((done + k) % BIG_KEYS));
            pattern(vals[k], done + k);
        }
        e = commit((const char (*)[8])keys, (const uint8_t (*)[BIG_VALUE])vals, BIG_VALUE, n);
        if (!e) {
            done += n;
            commits++;
        }
    }
    uint64_t t1 = rt_timer_now();
    report("write", commits, done * BIG_VALUE, t1 - t0, e);
}

static void seq_read(uint64_t values)
{
    static uint8_t want[BIG_VALUE];
    uint64_t i = 0, bad = 0, ns = 0;
    int e = 0;
    for (; i < values && !e; i++) {
        char key[8];
        uint32_t k = (uint32_t)(i % BIG_KEYS);
        fmt_snprintf(key, sizeof key, "s%u", k);
        RT_BUFS(b, 256, CAP_MAX_RESULT);
        capnp_client cl = RT_CLIENT(store);
        capnp_call call;
        capos_Store_get_Results_reader r;
        uint64_t t0 = rt_timer_now();
        e = capos_Store_get(&cl, &b, &call, key, (uint32_t)strlen(key), &r);
        e = e ? 100 + rt_error(e) : capos_Store_get_Results_get_error(r);
        ns += rt_timer_now() - t0;
        if (e)
            break;
        /* the last value written to key k; compared outside the timed span */
        uint64_t last = k + (values - 1 - k) / BIG_KEYS * BIG_KEYS;
        pattern(want, last);
        capnp_data d = capos_Store_get_Results_get_value(r);
        bad += d.len != BIG_VALUE || memcmp(d.ptr, want, BIG_VALUE) != 0;
    }
    report("read", i, i * BIG_VALUE, ns, e);
    printf("STOREBENCH read-check values=%lu wrong=%lu\n", i, bad);
}

/* Store.info: prints the store's counters; its state (a StoreError) */
static int info(const char *when)
{
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_info_Results_reader ir;
    int e = capos_Store_info(&cl, &b, &call, &ir);
    if (e)
        return 100 + rt_error(e);
    printf("STOREBENCH info-%s commits=%lu free-sectors=%lu\n", when, capos_Store_info_Results_get_commits(ir),
           capos_Store_info_Results_get_freeSectors(ir));
    return capos_Store_info_Results_get_state(ir);
}

static uint64_t number(const char **s)
{
    uint64_t v = 0;
    while (**s == ' ')
        (*s)++;
    for (; **s >= '0' && **s <= '9'; (*s)++)
        v = v * 10 + (uint64_t)(**s - '0');
    return v;
}

int main(void)
{
    store = rt_capset_require("store");
    const char *a = rt_capset->args;
    if (!strncmp(a, "open ", 5)) {
        /* a second boot on the written disk: the store reads all of it */
        a += 5;
        uint64_t disk = number(&a), t0 = rt_timer_now();
        int state = info("open");
        report("open", 0, disk, rt_timer_now() - t0, state);
        rt_power_off(rt_capset_require("power"), 0);
    }
    uint32_t commits = (uint32_t)number(&a);
    uint64_t values = number(&a) / BIG_VALUE;
    /* the store answers once it has opened its disk (a blank one is
     * formatted first): wait for that outside the timed spans */
    printf("STOREBENCH start commits=%u values=%lu state=%d\n", commits, values, info("open"));
    small_commits(commits);
    seq_write(values);
    if (values >= BIG_KEYS)
        seq_read(values);
    else
        printf("STOREBENCH read skipped: fewer than %u values written\n", BIG_KEYS);
    info("end");
    printf("STOREBENCH done\n");
    rt_power_off(rt_capset_require("power"), 0);
}
