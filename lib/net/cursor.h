/*
 * The one way lib/net reads and writes wire bytes: a bounds-checked cursor
 * (in the manner of OpenSSH's sshbuf).  Fields are big-endian.  A read or
 * write past the end sets `err` and from then on reads yield zero and writes
 * store nothing, so a parser reads every field and checks once.
 */
#ifndef NET_CURSOR_H
#define NET_CURSOR_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct net_rd {
    const uint8_t *p;
    size_t len, off;
    bool err;
};

struct net_wr {
    uint8_t *p;
    size_t cap, len;
    bool err;
};

static inline struct net_rd rd_init(const uint8_t *p, size_t len)
{
    return (struct net_rd){ .p = p, .len = len };
}

/* True when n more bytes are there; otherwise marks the cursor failed. */
static inline bool rd_need(struct net_rd *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return false;
    }
    return true;
}

static inline size_t rd_left(const struct net_rd *r) { return r->err ? 0 : r->len - r->off; }
static inline bool rd_ok(const struct net_rd *r) { return !r->err; }
static inline size_t rd_pos(const struct net_rd *r) { return r->off; }

/* Where the cursor stands (start of a span to checksum). */
static inline const uint8_t *rd_here(const struct net_rd *r) { return r->p + r->off; }

static inline uint8_t rd_u8(struct net_rd *r)
{
    if (!rd_need(r, 1))
        return 0;
    return r->p[r->off++];
}

static inline uint16_t rd_u16(struct net_rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    const uint8_t *q = r->p + r->off;
    r->off += 2;
    return (uint16_t)(q[0] << 8 | q[1]);
}

static inline uint32_t rd_u32(struct net_rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *q = r->p + r->off;
    r->off += 4;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* n bytes in place (null if fewer are left). */
static inline const uint8_t *rd_bytes(struct net_rd *r, size_t n)
{
    if (!rd_need(r, n))
        return 0;
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

static inline void rd_copy(struct net_rd *r, void *out, size_t n)
{
    const uint8_t *q = rd_bytes(r, n);
    uint8_t *o = out;
    for (size_t i = 0; i < n; i++)
        o[i] = q ? q[i] : 0;
}

static inline void rd_skip(struct net_rd *r, size_t n) { (void)rd_bytes(r, n); }

/* The next n bytes as a cursor of their own (failed, and this one too, if short). */
static inline struct net_rd rd_sub(struct net_rd *r, size_t n)
{
    const uint8_t *q = rd_bytes(r, n);
    struct net_rd s = rd_init(q, q ? n : 0);
    s.err = !q;
    return s;
}

/* Everything left, as a cursor of its own. */
static inline struct net_rd rd_rest(struct net_rd *r) { return rd_sub(r, rd_left(r)); }

static inline struct net_wr wr_init(uint8_t *p, size_t cap)
{
    return (struct net_wr){ .p = p, .cap = cap };
}

static inline bool wr_need(struct net_wr *w, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = true;
        return false;
    }
    return true;
}

static inline bool wr_ok(const struct net_wr *w) { return !w->err; }
static inline size_t wr_len(const struct net_wr *w) { return w->len; }

static inline void wr_u8(struct net_wr *w, uint8_t v)
{
    if (wr_need(w, 1))
        w->p[w->len++] = v;
}

static inline void wr_u16(struct net_wr *w, uint16_t v)
{
    if (!wr_need(w, 2))
        return;
    w->p[w->len++] = (uint8_t)(v >> 8);
    w->p[w->len++] = (uint8_t)v;
}

static inline void wr_u32(struct net_wr *w, uint32_t v)
{
    if (!wr_need(w, 4))
        return;
    w->p[w->len++] = (uint8_t)(v >> 24);
    w->p[w->len++] = (uint8_t)(v >> 16);
    w->p[w->len++] = (uint8_t)(v >> 8);
    w->p[w->len++] = (uint8_t)v;
}

static inline void wr_bytes(struct net_wr *w, const void *d, size_t n)
{
    if (!wr_need(w, n))
        return;
    const uint8_t *s = d;
    for (size_t i = 0; i < n; i++)
        w->p[w->len + i] = s[i];
    w->len += n;
}

static inline void wr_zero(struct net_wr *w, size_t n)
{
    if (!wr_need(w, n))
        return;
    for (size_t i = 0; i < n; i++)
        w->p[w->len + i] = 0;
    w->len += n;
}

/* Reserve n bytes to be filled in later (a checksum); returns their offset. */
static inline size_t wr_reserve(struct net_wr *w, size_t n)
{
    size_t at = w->len;
    wr_zero(w, n);
    return at;
}

/* Store a 16-bit field at an offset already written (checksums, lengths). */
static inline void wr_u16_at(struct net_wr *w, size_t at, uint16_t v)
{
    if (w->err || at > w->len || w->len - at < 2) {
        w->err = true;
        return;
    }
    w->p[at] = (uint8_t)(v >> 8);
    w->p[at + 1] = (uint8_t)v;
}

/* Pointer to n bytes appended by the caller (bulk payload copies). */
static inline uint8_t *wr_space(struct net_wr *w, size_t n)
{
    if (!wr_need(w, n))
        return 0;
    uint8_t *q = w->p + w->len;
    w->len += n;
    return q;
}

#endif
