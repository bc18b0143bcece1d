/*
 * Host tests of lib/store over a simulated disk that can lose power at any
 * write or flush: the writes since the last flush land in any subset, in
 * any order, and (half the time) one sector lands only in part. After each
 * crash the store is opened again on what is durable and must hold every
 * acknowledged commit, the one in flight either whole or not at all, and
 * nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"

static int failures, checks;
#define CHECK(c, ...) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = (rng_state += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* ---- the simulated disk ---- */
#define MAXSEC 1024
#define MAXPEND 128
struct sim {
    uint64_t n;
    uint8_t durable[MAXSEC][STORE_SECTOR], cur[MAXSEC][STORE_SECTOR];
    struct { uint64_t sector; uint8_t data[STORE_SECTOR]; } pend[MAXPEND];
    uint32_t npend;
    uint64_t ops, crash_at;          /* crash at the crash_at-th write or flush (0: never) */
    bool dead, tear, crashed, tore;
    uint64_t writes, flushes;
};

static void crash(struct sim *d)
{
    /* each pending sector write lands or not, in order; maybe one lands in part */
    int torn_i = d->tear && d->npend ? (int)below(d->npend) : -1;
    for (uint32_t i = 0; i < d->npend; i++) {
        if ((int)i == torn_i) {
            uint32_t k = 1 + below(STORE_SECTOR - 1);
            memcpy(d->durable[d->pend[i].sector], d->pend[i].data, k);
            d->tore = true;
        } else if (below(2)) {
            memcpy(d->durable[d->pend[i].sector], d->pend[i].data, STORE_SECTOR);
        }
    }
    d->npend = 0;
    d->dead = d->crashed = true;
}

static int sim_read(void *ctx, uint64_t sector, uint32_t count, uint8_t *buf)
{
    struct sim *d = ctx;
    if (d->dead || sector + count > d->n)
        return -1;
    memcpy(buf, d->cur[sector], (size_t)count * STORE_SECTOR);
    return 0;
}

static int sim_write(void *ctx, uint64_t sector, uint32_t count, const uint8_t *buf)
{
    struct sim *d = ctx;
    if (d->dead || sector + count > d->n || count > 7)
        return -1;
    d->writes++;
    for (uint32_t i = 0; i < count; i++) {
        if (d->npend == MAXPEND) {
            printf("simulated disk: too many writes between flushes\n");
            exit(2);
        }
        d->pend[d->npend].sector = sector + i;
        memcpy(d->pend[d->npend++].data, buf + (size_t)i * STORE_SECTOR, STORE_SECTOR);
        memcpy(d->cur[sector + i], buf + (size_t)i * STORE_SECTOR, STORE_SECTOR);
    }
    if (++d->ops == d->crash_at) {
        crash(d);
        return -1;
    }
    return 0;
}

static int sim_flush(void *ctx)
{
    struct sim *d = ctx;
    if (d->dead)
        return -1;
    d->flushes++;
    if (++d->ops == d->crash_at) {
        crash(d);
        return -1;
    }
    for (uint32_t i = 0; i < d->npend; i++)
        memcpy(d->durable[d->pend[i].sector], d->pend[i].data, STORE_SECTOR);
    d->npend = 0;
    return 0;
}

/* power on again: what is durable is what there is */
static void reboot(struct sim *d)
{
    memcpy(d->cur, d->durable, sizeof d->cur);
    d->npend = 0;
    d->dead = false;
    d->crash_at = 0;
}

static struct sim disk;
static struct store_io io = { &disk, sim_read, sim_write, sim_flush, 7, 0 };
static struct store st;
#define CAP 64
static struct store_entry tab[CAP];

/* ---- the model: 3 namespaces x 12 keys ---- */
#define NNS 3
#define NK 12
static const char *nsname[NNS] = { "credentials", "accounts", "audit" };
struct model { bool has[NNS][NK]; uint16_t len[NNS][NK]; uint8_t val[NNS][NK][STORE_VALUE_MAX]; };
static struct model acked, inflight;

static void keyname(int k, char *out) { sprintf(out, "key-%02d", k); }

static bool matches(const struct model *m)
{
    uint32_t live = 0;
    for (int n = 0; n < NNS; n++)
        for (int k = 0; k < NK; k++) {
            char key[16];
            keyname(k, key);
            const struct store_entry *e = store_get(&st, nsname[n], strlen(nsname[n]), key, strlen(key));
            if (!!e != m->has[n][k])
                return false;
            if (e && (e->vlen != m->len[n][k] || memcmp(e->val, m->val[n][k], e->vlen)))
                return false;
            live += m->has[n][k];
        }
    return live == st.count;
}

static void random_txn(struct store_txn *t, struct model *m)
{
    store_txn_init(t);
    uint32_t nops = 1 + below(6);
    for (uint32_t i = 0; i < nops; i++) {
        int n = (int)below(NNS), k = (int)below(NK);
        char key[16];
        keyname(k, key);
        if (below(4) == 0) {
            store_txn_del(t, nsname[n], strlen(nsname[n]), key, strlen(key));
            m->has[n][k] = false;
        } else {
            uint32_t len = below(5) == 0 ? below(STORE_VALUE_MAX + 1) : below(80);
            uint8_t v[STORE_VALUE_MAX];
            for (uint32_t b = 0; b < len; b++)
                v[b] = (uint8_t)rnd();
            store_txn_put(t, nsname[n], strlen(nsname[n]), key, strlen(key), v, len);
            if (t->err == STORE_OK) {
                m->has[n][k] = true;
                m->len[n][k] = (uint16_t)len;
                memcpy(m->val[n][k], v, len);
            }
        }
    }
}

/* ---- the crash-consistency property ---- */
static struct { uint64_t runs, crashes, torn_sectors, inflight_visible, inflight_absent, full, scrubbed, commits, compactions, interrupted; } fig;

static void crash_runs(uint32_t runs)
{
    static struct store_txn t;
    for (uint32_t r = 0; r < runs; r++) {
        rng_state = 0x5eed0000ull + r;
        memset(&disk, 0, sizeof disk);
        disk.n = io.sectors = 80 + below(200);
        memset(&acked, 0, sizeof acked);
        fig.runs++;
        for (int life = 0; life < 4; life++) {       /* power on, commit, lose power: four times */
            reboot(&disk);
            int e = store_open(&st, &io, tab, CAP, rnd());
            CHECK(e == STORE_OK, "run %u life %d: open %d: %s", r, life, e, store_message(&st));
            if (e)
                return;
            bool ok = matches(&acked) || (life > 0 && matches(&inflight));
            CHECK(ok, "run %u life %d: recovered state is neither the acknowledged one nor it plus the commit in flight", r, life);
            if (!ok)
                return;
            if (life > 0) {
                if (matches(&acked) && !matches(&inflight))
                    fig.inflight_absent++;
                else if (!matches(&acked))
                    fig.inflight_visible++;
            }
            fig.scrubbed += st.report.torn;
            fig.interrupted += st.report.interrupted;
            memcpy(&acked, matches(&acked) ? &acked : &inflight, sizeof acked);
            if (life == 3)
                break;
            disk.crash_at = disk.ops + 1 + below(60);
            disk.tear = below(2);
            disk.crashed = disk.tore = false;
            while (!disk.crashed) {
                memcpy(&inflight, &acked, sizeof acked);
                random_txn(&t, &inflight);
                e = store_commit(&st, &t);
                if (e == STORE_OK) {
                    memcpy(&acked, &inflight, sizeof acked);
                    fig.commits++;
                } else if (e == STORE_E_FULL || e == STORE_E_TABLE_FULL) {
                    fig.full++;
                    CHECK(matches(&acked), "run %u: a refused commit changed the state", r);
                    disk.crash_at = disk.ops + 1;   /* pull the plug at the next write or flush */
                    memcpy(&inflight, &acked, sizeof acked);
                    uint8_t one = 1;
                    store_txn_init(&t);
                    store_txn_put(&t, "audit", 5, "key-00", 6, &one, 1);
                    inflight.has[2][0] = true;
                    inflight.len[2][0] = 1;
                    inflight.val[2][0][0] = 1;
                    if (store_commit(&st, &t) == STORE_E_FULL && !disk.crashed) {
                        crash(&disk);                /* nothing was in flight */
                    }
                } else {
                    CHECK(e == STORE_E_IO && disk.crashed, "run %u: commit failed %d without a crash", r, e);
                    if (!disk.crashed)
                        return;
                }
            }
            fig.crashes++;
            fig.torn_sectors += disk.tore;
            fig.compactions += st.report.compactions;
        }
    }
}

/* ---- corruption is detected, never mistaken for a torn tail ---- */
static void build(uint32_t commits, uint64_t *starts)
{
    static struct store_txn t;
    memset(&disk, 0, sizeof disk);
    disk.n = io.sectors = 600;
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 77) == STORE_OK, "open blank");
    rng_state = 99;
    memset(&acked, 0, sizeof acked);
    for (uint32_t i = 0; i < commits; i++) {
        starts[i] = st.tail;
        memcpy(&inflight, &acked, sizeof acked);
        random_txn(&t, &inflight);
        CHECK(store_commit(&st, &t) == STORE_OK, "commit %u", i);
        memcpy(&acked, &inflight, sizeof acked);
    }
    starts[commits] = st.tail;
}

static void corruption(void)
{
    uint64_t starts[21];
    static uint8_t image[MAXSEC][STORE_SECTOR];
    build(20, starts);
    memcpy(image, disk.durable, sizeof image);
    uint32_t detected = 0, tried = 0;
    for (uint32_t c = 0; c < 20; c++) {
        for (uint64_t sec = starts[c]; sec < starts[c + 1]; sec++) {
            for (int where = 0; where < 3; where++) {
                /* a byte of the payload, of the head tag, of the tail tag */
                uint32_t off = where == 0 ? 8 + below(STORE_PAYLOAD) : where == 1 ? below(8) : STORE_SECTOR - 8 + below(8);
                if (c == 19 && where)
                    continue;    /* a damaged tag on the last commit looks like a torn write: see README */
                memcpy(disk.durable, image, sizeof image);
                disk.durable[sec][off] ^= (uint8_t)(1 + below(255));
                reboot(&disk);
                int e = store_open(&st, &io, tab, CAP, 1);
                tried++;
                detected += e == STORE_E_CORRUPT;
                CHECK(e == STORE_E_CORRUPT && !strncmp(store_message(&st), "corrupt: ", 9),
                      "commit %u sector %lu offset %u: open %d (%s)", c, (unsigned long)sec, off, e, store_message(&st));
            }
        }
    }
    printf("  corruption: %u of %u damaged sectors of acknowledged commits detected\n", detected, tried);
    memcpy(disk.durable, image, sizeof image);
    disk.durable[0][20] ^= 4;
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 1) == STORE_E_CORRUPT && strstr(store_message(&st), "superblock"),
          "a damaged superblock: %s", store_message(&st));
    memcpy(disk.durable, image, sizeof image);
    memcpy(disk.durable[0], "not a store", 11);
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 1) == STORE_E_CORRUPT && strstr(store_message(&st), "bad magic"),
          "a foreign sector 0: %s", store_message(&st));
    /* the undamaged image opens with everything */
    memcpy(disk.durable, image, sizeof image);
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 1) == STORE_OK && matches(&acked) && st.report.commits == 20,
          "the undamaged image: %s", store_message(&st));
    /* a table too small for the log: refused with a message, no overrun */
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, 2, 1) == STORE_E_TABLE_FULL, "a small table");
}

static void bounds(void)
{
    static struct store_txn t;
    uint64_t starts[3];
    build(2, starts);
    uint8_t big[STORE_VALUE_MAX + 1] = { 0 };
    char longkey[STORE_KEY_MAX + 1];
    memset(longkey, 'k', sizeof longkey);
    store_txn_init(&t);
    store_txn_put(&t, "accounts", 8, longkey, STORE_KEY_MAX + 1, "v", 1);
    CHECK(store_commit(&st, &t) == STORE_E_TOO_BIG, "key over bound");
    store_txn_init(&t);
    store_txn_put(&t, "accounts", 8, "k", 1, big, STORE_VALUE_MAX + 1);
    CHECK(store_commit(&st, &t) == STORE_E_TOO_BIG, "value over bound");
    store_txn_init(&t);
    store_txn_put(&t, "a-namespace-too-long", 20, "k", 1, "v", 1);
    CHECK(store_commit(&st, &t) == STORE_E_TOO_BIG, "namespace over bound");
    store_txn_init(&t);
    for (int i = 0; i < 10; i++)
        store_txn_put(&t, "accounts", 8, longkey, STORE_KEY_MAX, big, STORE_VALUE_MAX);
    CHECK(store_commit(&st, &t) == STORE_E_TOO_BIG, "a commit over its size");
    store_txn_init(&t);
    store_txn_put(&t, "accounts", 8, "", 0, "v", 1);
    CHECK(store_commit(&st, &t) == STORE_E_ARG, "empty key");
    CHECK(matches(&acked), "refusals changed nothing");
    /* the largest commit fits */
    store_txn_init(&t);
    for (int i = 0; i < 7; i++) {
        longkey[0] = (char)('a' + i);
        store_txn_put(&t, "accounts", 8, longkey, STORE_KEY_MAX, big, STORE_VALUE_MAX);
    }
    CHECK(store_commit(&st, &t) == STORE_OK, "seven largest values in one commit");
    /* namespaces: the same key in two is two entries; listing sees one */
    store_txn_init(&t);
    store_txn_put(&t, "ns-a", 4, "same", 4, "A", 1);
    store_txn_put(&t, "ns-b", 4, "same", 4, "B", 1);
    CHECK(store_commit(&st, &t) == STORE_OK, "two namespaces");
    const struct store_entry *a = store_get(&st, "ns-a", 4, "same", 4), *b = store_get(&st, "ns-b", 4, "same", 4);
    CHECK(a && b && a->val[0] == 'A' && b->val[0] == 'B', "namespaces are separate");
    uint32_t cur = 0, n = 0;
    while (store_next(&st, "ns-a", 4, &cur))
        n++;
    CHECK(n == 1, "listing ns-a sees %u entries", n);
    /* a failed write leaves the store refusing commits, not guessing */
    disk.crash_at = disk.ops + 1;
    store_txn_init(&t);
    store_txn_put(&t, "ns-a", 4, "k", 1, "v", 1);
    CHECK(store_commit(&st, &t) == STORE_E_IO, "a write error");
    CHECK(store_commit(&st, &t) == STORE_E_FAILED, "then no more commits");
}

static void full_disk(void)
{
    static struct store_txn t;
    static uint8_t v[300], big[1000];
    memset(&disk, 0, sizeof disk);
    disk.n = io.sectors = 120;
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 5) == STORE_OK, "open");
    int e, n = 0;
    /* overwriting a few keys for ever: compaction keeps the log from filling */
    for (int i = 0; i < 400; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i % 5);
        memset(v, i, sizeof v);
        store_txn_init(&t);
        store_txn_put(&t, "audit", 5, key, strlen(key), v, sizeof v);
        CHECK((e = store_commit(&st, &t)) == STORE_OK, "overwrite %d: %d", i, e);
    }
    uint64_t compactions = st.report.compactions;
    CHECK(compactions > 3, "compactions: %lu", (unsigned long)compactions);
    /* damage to the first commit of the region in use: reported, never a silent step back to the old region */
    static uint8_t image[MAXSEC][STORE_SECTOR];
    memcpy(image, disk.durable, sizeof image);
    uint64_t start = st.region_start;
    for (int where = 0; where < 3; where++) {
        memcpy(disk.durable, image, sizeof image);
        disk.durable[start][where == 0 ? 20 : where == 1 ? 3 : 300] ^= 0x10;   /* header, head tag, payload */
        reboot(&disk);
        e = store_open(&st, &io, tab, CAP, 5);
        CHECK(e == STORE_E_CORRUPT, "damaged region start (%d): %d %s", where, e, store_message(&st));
    }
    memcpy(disk.durable, image, sizeof image);
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 5) == STORE_OK, "reopen after compactions: %s", store_message(&st));
    for (int k = 0; k < 5; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        const struct store_entry *x = store_get(&st, "audit", 5, key, strlen(key));
        int last = 395 + k;
        CHECK(x && x->vlen == sizeof v && x->val[0] == (uint8_t)last && x->val[299] == (uint8_t)last, "k%d after compactions", k);
    }
    /* new keys until the live data fills a region: FULL, and nothing lost */
    for (;;) {
        char key[16];
        snprintf(key, sizeof key, "new%d", n);
        memset(big, n, sizeof big);
        store_txn_init(&t);
        store_txn_put(&t, "accounts", 8, key, strlen(key), big, sizeof big);
        if ((e = store_commit(&st, &t)))
            break;
        n++;
    }
    CHECK(e == STORE_E_FULL, "a full disk says so (%d)", e);
    reboot(&disk);
    CHECK(store_open(&st, &io, tab, CAP, 5) == STORE_OK, "reopen a full disk: %s", store_message(&st));
    bool all = true;
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "new%d", i);
        const struct store_entry *x = store_get(&st, "accounts", 8, key, strlen(key));
        all = all && x && x->vlen == sizeof big && x->val[0] == (uint8_t)i && x->val[999] == (uint8_t)i;
    }
    CHECK(all && store_get(&st, "audit", 5, "k0", 2), "every acknowledged commit after reopening a full disk");
    printf("  full disk: 400 overwrites in a 120-sector store (%lu compactions); then %d new keys, then STORE_E_FULL;"
           " all there after reopening\n", (unsigned long)compactions, n);
}

int main(int argc, char **argv)
{
    uint32_t runs = argc > 1 ? (uint32_t)atoi(argv[1]) : 3000;
    bounds();
    corruption();
    full_disk();
    crash_runs(runs);
    printf("  crash runs: %lu disks, %lu power losses (%lu with a sector torn in part), %lu commits acknowledged;\n"
           "  the commit in flight was whole after %lu of them and absent after %lu; %lu torn tails scrubbed;"
           " %lu full-disk refusals\n  %lu compactions, %lu cut short by the power loss and recovered from the old region\n",
           fig.runs, fig.crashes, fig.torn_sectors, fig.commits, fig.inflight_visible, fig.inflight_absent,
           fig.scrubbed, fig.full, fig.compactions, fig.interrupted);
    printf("store: %d of %d checks failed\n", failures, checks);
    return failures != 0;
}
