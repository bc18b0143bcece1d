/*
 * lib/store: see store.h and README.md for the format and the argument.
 */
#include "store.h"

#define SB_MAGIC  0x31747353534f7063ull    /* "cpOSSst1" */
#define C_MAGIC   0x63545343u              /* "CSTc" */
#define VERSION   1u
#define F_BEGIN   1u                       /* the state starts empty at this commit */
#define F_END     2u                       /* the state is whole after this commit */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* CRC-32C (Castagnoli, reflected), a byte at a time through a table the
 * compiler computes: CRC_BIT is one shift of the bitwise algorithm, CRC_BYTE
 * eight of them, and CRC_T16/CRC_T256 spell out the 256 entries. About eight
 * times fewer instructions than the bitwise loop, and no state to set up. */
#define CRC_BIT(c)   (((c) >> 1) ^ (0x82F63B78u & (0u - ((c) & 1u))))
#define CRC_BYTE(i)  CRC_BIT(CRC_BIT(CRC_BIT(CRC_BIT(CRC_BIT(CRC_BIT(CRC_BIT(CRC_BIT((uint32_t)(i)))))))))
#define CRC_T4(i)    CRC_BYTE(i), CRC_BYTE((i) + 1), CRC_BYTE((i) + 2), CRC_BYTE((i) + 3)
#define CRC_T16(i)   CRC_T4(i), CRC_T4((i) + 4), CRC_T4((i) + 8), CRC_T4((i) + 12)
#define CRC_T64(i)   CRC_T16(i), CRC_T16((i) + 16), CRC_T16((i) + 32), CRC_T16((i) + 48)
static const uint32_t crc_table[256] = { CRC_T64(0), CRC_T64(64), CRC_T64(128), CRC_T64(192) };

uint32_t store_crc32c(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;
    crc = ~crc;
    while (n--)
        crc = (crc >> 8) ^ crc_table[(crc ^ *b++) & 0xffu];
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
static uint32_t layout(struct store *s, uint64_t seq, const uint8_t *ops, uint32_t len, uint32_t nops, uint8_t flags)
{
    uint32_t total = STORE_HEADER + len, n = (total + STORE_PAYLOAD - 1) / STORE_PAYLOAD;
    uint8_t hdr[STORE_HEADER];
    put32(hdr, C_MAGIC);
    hdr[4] = VERSION;
    hdr[5] = flags;
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
    /* the payload stream (the header, then the ops) runs through bytes
     * 8..503 of each sector; the header fits in the first sector's share */
    _Static_assert(STORE_HEADER <= STORE_PAYLOAD, "a commit header fits in one sector");
    __builtin_memcpy(s->buf + 8, hdr, STORE_HEADER);
    for (uint32_t b = STORE_HEADER; b < total;) {
        uint32_t in_sec = b % STORE_PAYLOAD, chunk = STORE_PAYLOAD - in_sec;
        if (chunk > total - b)
            chunk = total - b;
        __builtin_memcpy(s->buf + (size_t)(b / STORE_PAYLOAD) * STORE_SECTOR + 8 + in_sec, ops + (b - STORE_HEADER), chunk);
        b += chunk;
    }
    return n;
}

static uint32_t sectors_for(uint32_t len) { return (STORE_HEADER + len + STORE_PAYLOAD - 1) / STORE_PAYLOAD; }

/* Write commit s->seq at s->tail and flush: one commit in flight at a time. */
static int write_commit(struct store *s, const uint8_t *ops, uint32_t len, uint32_t nops, uint8_t flags)
{
    uint32_t n = layout(s, s->seq, ops, len, nops, flags);
    if (s->seq + 1 > s->max_seen)
        s->max_seen = s->seq + 1;         /* never reuse a number that may be on the disk */
    if (io_write(s, s->tail, n, s->buf) || s->io->flush(s->io->ctx)) {
        s->failed = true;                 /* what is on the disk past the tail is unknown now */
        return STORE_E_IO;
    }
    s->tail += n;
    s->seq++;
    return STORE_OK;
}

/* Pack the live entries into snapshot commits: with write false, only count
 * the sectors; with write true, write them from the other region's start. */
static int snapshot(struct store *s, bool write, uint64_t *sectors)
{
    struct store_txn *t = &s->snap;
    uint32_t i = 0;
    bool first = true;
    *sectors = 0;
    do {
        store_txn_init(t);
        for (; i < s->cap; i++) {
            const struct store_entry *e = &s->tab[i];
            if (!e->used)
                continue;
            uint32_t need = 5 + e->nslen + e->klen + e->vlen;
            if (t->nops >= STORE_OPS_MAX || need > STORE_TXN_BYTES - t->len)
                break;
            store_txn_put(t, e->ns, e->nslen, e->key, e->klen, e->val, e->vlen);
        }
        uint8_t flags = (uint8_t)((first ? F_BEGIN : 0) | (i >= s->cap ? F_END : 0));
        *sectors += sectors_for(t->len);
        if (write) {
            int e = write_commit(s, t->ops, t->len, t->nops, flags);
            if (e)
                return e;
        }
        first = false;
    } while (i < s->cap);
    return STORE_OK;
}

/* Copy the live entries to the other region as a snapshot and make it the
 * active one. The old region stays whole until the snapshot is complete. */
static int compact(struct store *s)
{
    uint64_t need = 0;
    snapshot(s, false, &need);
    if (need + STORE_COMMIT_SECTORS > s->other_end - s->other_start)
        return STORE_E_FULL;              /* the live data alone fills a region: nothing written */
    uint64_t tail = s->tail, seq = s->seq;
    s->tail = s->other_start;
    s->seq = s->max_seen + 1;             /* above every number any sector of it may carry */
    int e = snapshot(s, true, &need);
    if (e) {
        s->tail = tail;
        s->seq = seq;
        return e;
    }
    uint64_t st = s->region_start, en = s->region_end;
    s->region_start = s->other_start;
    s->region_end = s->other_end;
    s->other_start = st;
    s->other_end = en;
    s->report.compactions++;
    return STORE_OK;
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
    uint32_t n = sectors_for(t->len);
    if (s->tail + n > s->region_end && (e = compact(s)))
        return e;
    if (s->tail + n > s->region_end)
        return STORE_E_FULL;
    if ((e = write_commit(s, t->ops, t->len, t->nops, F_END)))
        return e;
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

/* The sequence number of the commit whose whole first sector is at sec (its
 * header and both its tags check), else 0; *flags, *n: its flags, sectors. */
static uint64_t header_any(const struct store *s, const uint8_t *sec, uint8_t *flags, uint32_t *n)
{
    const uint8_t *h = sec + 8;
    if (get32(h) != C_MAGIC || get32(h + 36) != store_crc32c(0, h, 36) || h[4] != VERSION ||
        get64(h + 8) != s->epoch)
        return 0;
    uint64_t seq = get64(h + 16), t = tag(s->epoch, seq, 0);
    uint32_t len = get32(h + 28);
    if (get64(sec) != t || get64(sec + STORE_SECTOR - 8) != t || seq == 0 || len > STORE_TXN_BYTES ||
        get32(h + 24) != sectors_for(len))
        return 0;
    *flags = h[5];
    *n = get32(h + 24);
    return seq;
}

/* The header of commit `seq` at `at`, inside [at, end): its length in sectors, else 0. */
static uint32_t header_ok(const struct store *s, const uint8_t *sec, uint64_t seq, uint64_t at, uint64_t end)
{
    uint8_t flags;
    uint32_t n;
    if (header_any(s, sec, &flags, &n) != seq || at + n > end)
        return 0;
    return n;
}

enum { WHOLE, TORN, DAMAGED };

/* Read and check commit `seq` at `at` (inside [at, end)): WHOLE (ops
 * gathered at s->buf), TORN (some sector is missing: not written, or
 * written in part) or DAMAGED (every sector is there and the checksum or
 * the ops are wrong). dry: also check the ops apply to the table. */
static int check(struct store *s, uint64_t seq, uint64_t at, uint64_t end, bool dry, uint32_t *nout, uint32_t *lenout,
                 uint32_t *nopsout, uint8_t *flagsout, int *err)
{
    *err = STORE_OK;
    if (at >= end)
        return TORN;
    if ((*err = io_read(s, at, 1, s->buf)))
        return TORN;
    uint32_t n = header_ok(s, s->buf, seq, at, end);
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
    /* gather the payload stream in place, a sector's share at a time: every
     * byte only moves towards the start, so a forward copy never reads a
     * byte it already overwrote */
    for (uint32_t b = STORE_HEADER, to = 0; b < total;) {
        uint32_t in_sec = b % STORE_PAYLOAD, chunk = STORE_PAYLOAD - in_sec;
        if (chunk > total - b)
            chunk = total - b;
        const uint8_t *from = s->buf + (size_t)(b / STORE_PAYLOAD) * STORE_SECTOR + 8 + in_sec;
        for (uint32_t k = 0; k < chunk; k++)
            s->buf[to + k] = from[k];
        to += chunk;
        b += chunk;
    }
    if (store_crc32c(0, s->buf, len) != get32(hdr + 32))
        return DAMAGED;
    /* the rest of the last sector's payload is zero */
    for (uint32_t b = total; b < n * STORE_PAYLOAD; b++)
        if (s->buf[(size_t)(b / STORE_PAYLOAD) * STORE_SECTOR + 8 + b % STORE_PAYLOAD])
            return DAMAGED;
    if (hdr[5] & ~(F_BEGIN | F_END))
        return DAMAGED;
    if (dry) {
        int e = apply(s, s->buf, len, get16(hdr + 6), false);
        if (e == STORE_E_TABLE_FULL) {
            *err = e;
            return TORN;
        }
        if (e)
            return DAMAGED;
    }
    *nout = n;
    *lenout = len;
    *nopsout = get16(hdr + 6);
    *flagsout = hdr[5];
    return WHOLE;
}

static void clear_table(struct store *s)
{
    for (uint32_t i = 0; i < s->cap; i++)
        s->tab[i].used = 0;
    s->count = 0;
}

/* Replay the region [start, end) from its first commit `seq`: STORE_OK with
 * *complete (its snapshot reached its end), s->tail and s->seq set. */
static int replay(struct store *s, uint64_t start, uint64_t end, uint64_t seq, bool *complete)
{
    clear_table(s);
    *complete = false;
    s->report.commits = 0;
    uint64_t at = start;
    for (;;) {
        uint32_t n = 0, len = 0, nops = 0;
        uint8_t flags = 0;
        int err, r = check(s, seq, at, end, true, &n, &len, &nops, &flags, &err);
        if (err == STORE_E_IO) {
            msg(s, "cannot read the log at sector ", at, "", 0, 0);
            return STORE_E_IO;
        }
        if (err == STORE_E_TABLE_FULL) {
            msg(s, "the table is too small for the keys of commit ", seq, "", 0, 0);
            return STORE_E_TABLE_FULL;
        }
        if (r == DAMAGED || (r == WHOLE && (flags & F_BEGIN) && at != start)) {
            msg(s, "corrupt: commit ", seq, " at sector ", at, " fails its checksum");
            return STORE_E_CORRUPT;
        }
        if (r == TORN)
            break;
        apply(s, s->buf, len, nops, true);      /* checked by check() */
        if (*complete)
            s->report.commits++;                 /* a commit after the snapshot */
        if (flags & F_END)
            *complete = true;
        at += n;
        seq++;
    }
    s->tail = at;
    s->seq = seq;
    return STORE_OK;
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
    clear_table(s);
    if (io->max_sectors == 0 || io->sectors < STORE_LOG_START + 4 * STORE_COMMIT_SECTORS) {
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
    if (s->sectors > io->sectors || s->sectors < STORE_LOG_START + 4 * STORE_COMMIT_SECTORS) {
        msg(s, "corrupt: the store claims ", s->sectors, " sectors, the disk has ", io->sectors, "");
        return STORE_E_CORRUPT;
    }
    /* two regions of the log; the active one starts with a snapshot */
    uint64_t half = (s->sectors - STORE_LOG_START) / 2;
    uint64_t rs[2] = { STORE_LOG_START, STORE_LOG_START + half }, re[2] = { STORE_LOG_START + half, STORE_LOG_START + 2 * half };
    /* every commit header on the disk: the highest number, each region's first */
    uint64_t first[2] = { 0, 0 };
    s->max_seen = 0;
    for (int r = 0; r < 2; r++) {
        for (uint64_t q = rs[r]; q < re[r];) {
            uint32_t k = re[r] - q < STORE_COMMIT_SECTORS ? (uint32_t)(re[r] - q) : STORE_COMMIT_SECTORS;
            if (io_read(s, q, k, s->buf)) {
                msg(s, "cannot read the log at sector ", q, "", 0, 0);
                return STORE_E_IO;
            }
            for (uint32_t j = 0; j < k; j++, q++) {
                uint8_t flags;
                uint32_t n;
                uint64_t hs = header_any(s, s->buf + (size_t)j * STORE_SECTOR, &flags, &n);
                if (hs > s->max_seen)
                    s->max_seen = hs;
                if (hs && q == rs[r] && (flags & F_BEGIN))
                    first[r] = hs;
            }
        }
    }
    s->max_seen++;                       /* the commit in flight at a power loss may be the next */
    if (!first[0] && !first[1]) {
        if (s->max_seen > 1) {
            msg(s, "corrupt: no log region starts with a snapshot (its first commit is damaged)", 0, 0, 0, 0);
            return STORE_E_CORRUPT;
        }
        /* a new store: its first region starts with an empty snapshot */
        s->region_start = rs[0], s->region_end = re[0], s->other_start = rs[1], s->other_end = re[1];
        s->tail = rs[0];
        s->seq = 1;
        s->failed = false;
        int e = write_commit(s, 0, 0, 0, F_BEGIN | F_END);
        if (e) {
            msg(s, "cannot write the first commit", 0, 0, 0, 0);
            return e;
        }
        return STORE_OK;
    }
    /* the newest region whose snapshot is whole; an older one if a compaction was cut short */
    int order[2] = { first[0] >= first[1] ? 0 : 1, first[0] >= first[1] ? 1 : 0 };
    int act = -1;
    for (int k = 0; k < 2 && act < 0; k++) {
        int r = order[k];
        if (!first[r])
            continue;
        bool complete;
        int e = replay(s, rs[r], re[r], first[r], &complete);
        if (e)
            return e;
        if (complete)
            act = r;
        else
            s->report.interrupted = true;
    }
    if (act < 0) {
        msg(s, "corrupt: no log region holds a whole snapshot", 0, 0, 0, 0);
        return STORE_E_CORRUPT;
    }
    s->region_start = rs[act], s->region_end = re[act], s->other_start = rs[1 - act], s->other_end = re[1 - act];
    uint64_t seq = s->seq, at = s->tail;
    s->report.tail = at;
    /* Past the tail of the active region no commit may have a number from
     * `seq` on (but a torn commit `seq` at the tail itself): one there means
     * commits were lost to damage. In the other region no whole commit that
     * ends a snapshot may have such a number: a newer region whose first
     * commit was damaged. A torn tail: some sector of [at, at +
     * STORE_COMMIT_SECTORS) carries a tag of commit `seq`. */
    uint64_t end = at + STORE_COMMIT_SECTORS < s->region_end ? at + STORE_COMMIT_SECTORS : s->region_end;
    bool torn = false;
    for (uint64_t q = at; q < s->region_end;) {
        uint32_t k = s->region_end - q < STORE_COMMIT_SECTORS ? (uint32_t)(s->region_end - q) : STORE_COMMIT_SECTORS;
        if (io_read(s, q, k, s->buf)) {
            msg(s, "cannot read the log at sector ", q, "", 0, 0);
            return STORE_E_IO;
        }
        for (uint32_t j = 0; j < k; j++, q++) {
            const uint8_t *sec = s->buf + (size_t)j * STORE_SECTOR;
            uint8_t flags;
            uint32_t n;
            uint64_t hs = header_any(s, sec, &flags, &n);
            if (hs > seq || (hs == seq && q > at)) {
                msg(s, "corrupt: the log ends at commit ", seq - 1, " but a later commit begins at sector ", q,
                    " (commits were lost to damage)");
                return STORE_E_CORRUPT;
            }
            for (uint32_t i = 0; q < end && i < STORE_COMMIT_SECTORS; i++) {
                uint64_t t = tag(s->epoch, seq, i);
                torn = torn || get64(sec) == t || get64(sec + STORE_SECTOR - 8) == t;
            }
        }
    }
    for (uint64_t q = s->other_start; q < s->other_end;) {
        uint32_t k = s->other_end - q < STORE_COMMIT_SECTORS ? (uint32_t)(s->other_end - q) : STORE_COMMIT_SECTORS;
        if (io_read(s, q, k, s->buf)) {
            msg(s, "cannot read the log at sector ", q, "", 0, 0);
            return STORE_E_IO;
        }
        uint64_t cand = 0, cq = 0;
        for (uint32_t j = 0; j < k && !cand; j++) {
            uint8_t flags;
            uint32_t n;
            uint64_t hs = header_any(s, s->buf + (size_t)j * STORE_SECTOR, &flags, &n);
            if (hs >= seq && (flags & F_END)) {
                cand = hs;
                cq = q + j;
            }
        }
        if (!cand) {
            q += k;
            continue;
        }
        uint8_t f2;
        uint32_t n, len, nops;
        int err;
        if (check(s, cand, cq, s->other_end, false, &n, &len, &nops, &f2, &err) == WHOLE) {
            msg(s, "corrupt: commit ", cand, " at sector ", cq, " is newer than the log in use (a region's start is damaged)");
            return STORE_E_CORRUPT;
        }
        q = cq + 1;                        /* check() used the buffer: read on from the next sector */
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
