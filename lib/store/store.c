/*
 * lib/store: see store.h and README.md for the format and the argument.
 */
#include "store.h"

#define SB_MAGIC  0x31747353534f7063ull    /* "cpOSSst1" */
#define C_MAGIC   0x63545343u              /* "CSTc" */
#define VERSION   1u

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

uint32_t store_crc32c(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;
    crc = ~crc;
    while (n--) {
        crc ^= *b++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* the tag of sector `idx` of commit `seq`: at both ends of the sector */
static uint64_t tag(uint64_t epoch, uint64_t seq, uint32_t idx)
{
    return mix(epoch ^ mix(seq * 0x9e3779b97f4a7c15ull + idx + 1));
}

static void msg(struct store *s, const char *a, uint64_t n1, const char *b, uint64_t n2, const char *c)
{
    /* a message from fixed text and two numbers (no formatter in a freestanding library) */
    char *o = s->msg, *end = s->msg + sizeof s->msg - 1;
    const char *parts[3] = { a, b, c };
    uint64_t nums[2] = { n1, n2 };
    for (int i = 0; i < 3; i++) {
        for (const char *q = parts[i]; q && *q && o < end; q++)
            *o++ = *q;
        if (i < 2 && parts[i + 1]) {
            char d[24];
            int k = 0;
            uint64_t v = nums[i];
            do { d[k++] = (char)('0' + v % 10); v /= 10; } while (v);
            while (k && o < end)
                *o++ = d[--k];
        }
    }
    *o = 0;
}

const char *store_message(const struct store *s) { return s->msg; }

static int io_read(struct store *s, uint64_t sector, uint32_t count, uint8_t *buf)
{
    while (count) {
        uint32_t k = count < s->io->max_sectors ? count : s->io->max_sectors;
        if (s->io->read(s->io->ctx, sector, k, buf))
            return STORE_E_IO;
        sector += k;
        count -= k;
        buf += (size_t)k * STORE_SECTOR;
    }
    return STORE_OK;
}

static int io_write(struct store *s, uint64_t sector, uint32_t count, const uint8_t *buf)
{
    while (count) {
        uint32_t k = count < s->io->max_sectors ? count : s->io->max_sectors;
        if (s->io->write(s->io->ctx, sector, k, buf))
            return STORE_E_IO;
        sector += k;
        count -= k;
        buf += (size_t)k * STORE_SECTOR;
    }
    return STORE_OK;
}

/* ---- the table ---- */

static struct store_entry *find(const struct store *s, const char *ns, uint32_t nslen, const void *key, uint32_t klen)
{
    for (uint32_t i = 0; i < s->cap; i++) {
        struct store_entry *e = &s->tab[i];
        if (e->used && e->nslen == nslen && e->klen == klen && !__builtin_memcmp(e->ns, ns, nslen) &&
            !__builtin_memcmp(e->key, key, klen))
            return e;
    }
    return 0;
}

const struct store_entry *store_get(const struct store *s, const char *ns, uint32_t nslen, const void *key,
                                    uint32_t klen)
{
    if (nslen > STORE_NS_MAX || klen > STORE_KEY_MAX)
        return 0;
    return find(s, ns, nslen, key, klen);
}

const struct store_entry *store_next(const struct store *s, const char *ns, uint32_t nslen, uint32_t *cursor)
{
    for (; *cursor < s->cap; (*cursor)++) {
        const struct store_entry *e = &s->tab[*cursor];
        if (e->used && e->nslen == nslen && !__builtin_memcmp(e->ns, ns, nslen)) {
            (*cursor)++;
            return e;
        }
    }
    return 0;
}

/* One operation of a commit's byte run: kind, nslen, klen, vlen (2), names, value. */
struct op { uint8_t kind; const char *ns; uint32_t nslen; const uint8_t *key; uint32_t klen; const uint8_t *val; uint32_t vlen; };

static int parse_op(const uint8_t *p, uint32_t len, uint32_t *off, struct op *o)
{
    if (len - *off < 5)
        return -1;
    const uint8_t *h = p + *off;
    o->kind = h[0];
    o->nslen = h[1];
    o->klen = h[2];
    o->vlen = get16(h + 3);
    if ((o->kind != 1 && o->kind != 2) || o->nslen == 0 || o->nslen > STORE_NS_MAX || o->klen == 0 ||
        o->klen > STORE_KEY_MAX || o->vlen > STORE_VALUE_MAX || (o->kind == 2 && o->vlen))
        return -1;
    uint32_t need = 5 + o->nslen + o->klen + o->vlen;
    if (len - *off < need)
        return -1;
    o->ns = (const char *)h + 5;
    o->key = h + 5 + o->nslen;
    o->val = o->key + o->klen;
    *off += need;
    return 0;
}

/* Check every op parses and the table has room; then (apply) apply them. */
static int apply(struct store *s, const uint8_t *ops, uint32_t len, uint32_t nops, bool really)
{
    struct op o;
    uint32_t off = 0, fresh = 0;
    for (uint32_t i = 0; i < nops; i++) {
        if (parse_op(ops, len, &off, &o))
            return STORE_E_CORRUPT;
        if (o.kind == 1 && !find(s, o.ns, o.nslen, o.key, o.klen))
            fresh++;                         /* conservative: a key put twice counts twice */
    }
    if (off != len)
        return STORE_E_CORRUPT;
    if (s->count + fresh > s->cap)
        return STORE_E_TABLE_FULL;
    if (!really)
        return STORE_OK;
    off = 0;
    for (uint32_t i = 0; i < nops; i++) {
        parse_op(ops, len, &off, &o);
        struct store_entry *e = find(s, o.ns, o.nslen, o.key, o.klen);
        if (o.kind == 2) {
            if (e) {
                e->used = 0;
                s->count--;
            }
            continue;
        }
        if (!e) {
            for (uint32_t k = 0; k < s->cap && !e; k++)
                if (!s->tab[k].used)
                    e = &s->tab[k];
            e->used = 1;
            e->nslen = (uint8_t)o.nslen;
            __builtin_memset(e->ns, 0, sizeof e->ns);
            __builtin_memcpy(e->ns, o.ns, o.nslen);
            e->klen = (uint8_t)o.klen;
            __builtin_memcpy(e->key, o.key, o.klen);
            s->count++;
        }
        e->vlen = (uint16_t)o.vlen;
        __builtin_memcpy(e->val, o.val, o.vlen);
    }
    return STORE_OK;
}

/* ---- transactions ---- */

void store_txn_init(struct store_txn *t)
{
    t->len = 0;
    t->nops = 0;
    t->err = STORE_OK;
}

static void add(struct store_txn *t, uint8_t kind, const char *ns, uint32_t nslen, const void *key, uint32_t klen,
                const void *val, uint32_t vlen)
{
    if (t->err)
        return;
    if (nslen == 0 || klen == 0) {
        t->err = STORE_E_ARG;
        return;
    }
    uint32_t need = 5 + nslen + klen + vlen;
    if (nslen > STORE_NS_MAX || klen > STORE_KEY_MAX || vlen > STORE_VALUE_MAX || t->nops >= STORE_OPS_MAX ||
        need > STORE_TXN_BYTES - t->len) {
        t->err = STORE_E_TOO_BIG;
        return;
    }
    uint8_t *p = t->ops + t->len;
    p[0] = kind;
    p[1] = (uint8_t)nslen;
    p[2] = (uint8_t)klen;
    put16(p + 3, (uint16_t)vlen);
    __builtin_memcpy(p + 5, ns, nslen);
    __builtin_memcpy(p + 5 + nslen, key, klen);
    if (vlen)
        __builtin_memcpy(p + 5 + nslen + klen, val, vlen);
    t->len += need;
    t->nops++;
}

void store_txn_put(struct store_txn *t, const char *ns, uint32_t nslen, const void *key, uint32_t klen,
                   const void *val, uint32_t vlen)
{
    add(t, 1, ns, nslen, key, klen, val, vlen);
}

void store_txn_del(struct store_txn *t, const char *ns, uint32_t nslen, const void *key, uint32_t klen)
{
    add(t, 2, ns, nslen, key, klen, 0, 0);
}

/* Lay commit `seq` (header + ops) out in s->buf as whole tagged sectors. */
static uint32_t layout(struct store *s, uint64_t seq, const uint8_t *ops, uint32_t len, uint32_t nops)
{
    uint32_t total = STORE_HEADER + len, n = (total + STORE_PAYLOAD - 1) / STORE_PAYLOAD;
    uint8_t hdr[STORE_HEADER];
    put32(hdr, C_MAGIC);
    put16(hdr + 4, VERSION);
    put16(hdr + 6, (uint16_t)nops);
    put64(hdr + 8, s->epoch);
    put64(hdr + 16, seq);
    put32(hdr + 24, n);
    put32(hdr + 28, len);
    put32(hdr + 32, store_crc32c(0, ops, len));
    put32(hdr + 36, store_crc32c(0, hdr, 36));
    __builtin_memset(s->buf, 0, (size_t)n * STORE_SECTOR);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *sec = s->buf + (size_t)i * STORE_SECTOR;
        put64(sec, tag(s->epoch, seq, i));
        put64(sec + STORE_SECTOR - 8, tag(s->epoch, seq, i));
    }
    /* the payload stream runs through bytes 8..503 of each sector */
    for (uint32_t b = 0; b < total; b++) {
        uint8_t v = b < STORE_HEADER ? hdr[b] : ops[b - STORE_HEADER];
        s->buf[(size_t)(b / STORE_PAYLOAD) * STORE_SECTOR + 8 + b % STORE_PAYLOAD] = v;
    }
    return n;
}

int store_commit(struct store *s, struct store_txn *t)
{
    if (t->err)
        return t->err;
    if (s->failed)
        return STORE_E_FAILED;
    if (t->nops == 0)
        return STORE_OK;
    int e = apply(s, t->ops, t->len, t->nops, false);
    if (e)
        return e;
    uint32_t n = (STORE_HEADER + t->len + STORE_PAYLOAD - 1) / STORE_PAYLOAD;
    if (s->tail + n > s->sectors)
        return STORE_E_FULL;
    layout(s, s->seq, t->ops, t->len, t->nops);
    if (io_write(s, s->tail, n, s->buf) || s->io->flush(s->io->ctx)) {
        s->failed = true;                /* what is on the disk past the tail is unknown now */
        return STORE_E_IO;
    }
    s->tail += n;
    s->seq++;
    return apply(s, t->ops, t->len, t->nops, true);
}

/* ---- open and recovery ---- */

static void sb_layout(uint8_t *sec, uint64_t sectors, uint64_t epoch)
{
    __builtin_memset(sec, 0, STORE_SECTOR);
    put64(sec, SB_MAGIC);
    put32(sec + 8, VERSION);
    put32(sec + 12, STORE_SECTOR);
    put64(sec + 16, sectors);
    put64(sec + 24, epoch);
    put64(sec + 32, STORE_LOG_START);
    put32(sec + 40, store_crc32c(0, sec, 40));
}

/* The header of commit `seq` if the sector at buf is its whole first sector: its length in sectors, else 0. */
static uint32_t header_ok(const struct store *s, const uint8_t *sec, uint64_t seq, uint64_t at)
{
    const uint8_t *h = sec + 8;
    uint64_t t = tag(s->epoch, seq, 0);
    if (get64(sec) != t || get64(sec + STORE_SECTOR - 8) != t)
        return 0;
    if (get32(h) != C_MAGIC || get32(h + 36) != store_crc32c(0, h, 36) || get16(h + 4) != VERSION ||
        get64(h + 8) != s->epoch || get64(h + 16) != seq)
        return 0;
    uint32_t n = get32(h + 24), len = get32(h + 28);
    if (n == 0 || n > STORE_COMMIT_SECTORS || len > STORE_TXN_BYTES ||
        (STORE_HEADER + len + STORE_PAYLOAD - 1) / STORE_PAYLOAD != n || at + n > s->sectors)
        return 0;
    return n;
}

enum { WHOLE, TORN, DAMAGED };

/* Read and check commit `seq` at `at`: WHOLE (ops gathered at s->buf), TORN
 * (some sector is missing: not written, or written in part) or DAMAGED
 * (every sector is there and the checksum or the ops are wrong). */
static int check(struct store *s, uint64_t seq, uint64_t at, uint32_t *nout, uint32_t *lenout, uint32_t *nopsout,
                 int *err)
{
    *err = STORE_OK;
    if (at >= s->sectors)
        return TORN;
    if ((*err = io_read(s, at, 1, s->buf)))
        return TORN;
    uint32_t n = header_ok(s, s->buf, seq, at);
    if (!n)
        return TORN;
    if ((*err = io_read(s, at, n, s->buf)))
        return TORN;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *sec = s->buf + (size_t)i * STORE_SECTOR;
        uint64_t t = tag(s->epoch, seq, i);
        if (get64(sec) != t || get64(sec + STORE_SECTOR - 8) != t)
            return TORN;
    }
    uint8_t hdr[STORE_HEADER];
    __builtin_memcpy(hdr, s->buf + 8, STORE_HEADER);
    uint32_t len = get32(hdr + 28), total = STORE_HEADER + len;
    /* gather the payload stream in place (it only moves towards the start) */
    for (uint32_t b = STORE_HEADER; b < total; b++)
        s->buf[b - STORE_HEADER] = s->buf[(size_t)(b / STORE_PAYLOAD) * STORE_SECTOR + 8 + b % STORE_PAYLOAD];
    if (store_crc32c(0, s->buf, len) != get32(hdr + 32))
        return DAMAGED;
    /* the rest of the last sector's payload is zero */
    for (uint32_t b = total; b < n * STORE_PAYLOAD; b++)
        if (s->buf[(size_t)(b / STORE_PAYLOAD) * STORE_SECTOR + 8 + b % STORE_PAYLOAD])
            return DAMAGED;
    int e = apply(s, s->buf, len, get16(hdr + 6), false);
    if (e == STORE_E_TABLE_FULL) {
        *err = e;
        return TORN;
    }
    if (e)
        return DAMAGED;
    *nout = n;
    *lenout = len;
    *nopsout = get16(hdr + 6);
    return WHOLE;
}

int store_open(struct store *s, const struct store_io *io, struct store_entry *tab, uint32_t cap, uint64_t epoch)
{
    __builtin_memset(&s->report, 0, sizeof s->report);
    s->io = io;
    s->tab = tab;
    s->cap = cap;
    s->count = 0;
    s->failed = true;                    /* until open succeeds */
    s->msg[0] = 0;
    for (uint32_t i = 0; i < cap; i++)
        tab[i].used = 0;
    if (io->max_sectors == 0 || io->sectors < STORE_LOG_START + STORE_COMMIT_SECTORS) {
        msg(s, "disk too small: ", io->sectors, " sectors", 0, 0);
        return STORE_E_ARG;
    }
    uint8_t *sb = s->buf;
    if (io_read(s, 0, 1, sb)) {
        msg(s, "cannot read the superblock", 0, 0, 0, 0);
        return STORE_E_IO;
    }
    bool blank = true;
    for (uint32_t i = 0; i < STORE_SECTOR; i++)
        blank = blank && sb[i] == 0;
    if (blank) {
        sb_layout(sb, io->sectors, epoch | 1);
        if (io_write(s, 0, 1, sb) || io->flush(io->ctx)) {
            msg(s, "cannot write the superblock", 0, 0, 0, 0);
            return STORE_E_IO;
        }
        s->report.formatted = true;
    }
    if (get64(sb) != SB_MAGIC) {
        msg(s, "corrupt: sector 0 is not a store superblock (bad magic)", 0, 0, 0, 0);
        return STORE_E_CORRUPT;
    }
    if (get32(sb + 40) != store_crc32c(0, sb, 40)) {
        msg(s, "corrupt: the superblock fails its checksum", 0, 0, 0, 0);
        return STORE_E_CORRUPT;
    }
    if (get32(sb + 8) != VERSION || get32(sb + 12) != STORE_SECTOR || get64(sb + 32) != STORE_LOG_START) {
        msg(s, "corrupt: superblock version ", get32(sb + 8), " is not supported", 0, 0);
        return STORE_E_CORRUPT;
    }
    s->sectors = get64(sb + 16);
    s->epoch = get64(sb + 24);
    if (s->sectors > io->sectors) {
        msg(s, "corrupt: the store claims ", s->sectors, " sectors, the disk has ", io->sectors, "");
        return STORE_E_CORRUPT;
    }
    uint64_t seq = 1, at = STORE_LOG_START;
    for (;;) {
        uint32_t n = 0, len = 0, nops = 0;
        int err, r = check(s, seq, at, &n, &len, &nops, &err);
        if (err == STORE_E_IO) {
            msg(s, "cannot read the log at sector ", at, "", 0, 0);
            return STORE_E_IO;
        }
        if (err == STORE_E_TABLE_FULL) {
            msg(s, "the table is too small for the keys of commit ", seq, "", 0, 0);
            return STORE_E_TABLE_FULL;
        }
        if (r == DAMAGED) {
            msg(s, "corrupt: commit ", seq, " at sector ", at, " fails its checksum");
            return STORE_E_CORRUPT;
        }
        if (r == TORN)
            break;
        apply(s, s->buf, len, nops, true);      /* checked by check() */
        at += n;
        seq++;
    }
    s->seq = seq;
    s->tail = at;
    s->report.commits = seq - 1;
    s->report.tail = at;
    /* Past the tail no sector may be the first of a commit (any sequence
     * number) but a torn commit `seq` at the tail itself: one there means
     * commits were lost to damage. A torn tail: some sector of [at, at +
     * STORE_COMMIT_SECTORS) carries a tag of commit `seq`. */
    uint64_t end = at + STORE_COMMIT_SECTORS < s->sectors ? at + STORE_COMMIT_SECTORS : s->sectors;
    bool torn = false;
    for (uint64_t q = at; q < s->sectors;) {
        uint32_t k = s->sectors - q < STORE_COMMIT_SECTORS ? (uint32_t)(s->sectors - q) : STORE_COMMIT_SECTORS;
        if (io_read(s, q, k, s->buf)) {
            msg(s, "cannot read the log at sector ", q, "", 0, 0);
            return STORE_E_IO;
        }
        for (uint32_t j = 0; j < k; j++, q++) {
            const uint8_t *sec = s->buf + (size_t)j * STORE_SECTOR, *h = sec + 8;
            uint64_t hs = get64(h + 16);
            if (get32(h) == C_MAGIC && get32(h + 36) == store_crc32c(0, h, 36) && get64(h + 8) == s->epoch &&
                get64(sec) == tag(s->epoch, hs, 0) && get64(sec + STORE_SECTOR - 8) == tag(s->epoch, hs, 0) &&
                (q > at || hs != seq)) {
                msg(s, "corrupt: the log ends at commit ", seq - 1, " but another commit begins at sector ", q,
                    " (commits were lost to damage)");
                return STORE_E_CORRUPT;
            }
            for (uint32_t i = 0; q < end && i < STORE_COMMIT_SECTORS; i++) {
                uint64_t t = tag(s->epoch, seq, i);
                torn = torn || get64(sec) == t || get64(sec + STORE_SECTOR - 8) == t;
            }
        }
    }
    if (torn) {
        /* scrub it, so the next commit's sectors are never mistaken for it */
        __builtin_memset(s->buf, 0, sizeof s->buf);
        if (io_write(s, at, (uint32_t)(end - at), s->buf) || io->flush(io->ctx)) {
            msg(s, "cannot scrub the torn tail at sector ", at, "", 0, 0);
            return STORE_E_IO;
        }
        s->report.torn = true;
    }
    s->failed = false;
    return STORE_OK;
}
