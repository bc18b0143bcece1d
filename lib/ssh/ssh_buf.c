/* The checked cursor and writer of ssh_buf.h: the only code that reads or
 * writes an SSH length field, byte order, or a cursor's fields. */
#include "ssh_buf.h"
#include <string.h>

void rd_init(struct ssh_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->err = 0;
}

/* n bytes at the cursor, consumed; NULL (and the sticky error) if fewer are left */
static const uint8_t *take(struct ssh_rd *r, size_t n)
{
    if (r->err || r->len - r->off < n) { r->err = 1; return NULL; }
    const uint8_t *s = r->p + r->off;
    r->off += n;
    return s;
}

uint8_t rd_u8(struct ssh_rd *r)
{
    const uint8_t *s = take(r, 1);
    return s ? s[0] : 0;
}

int rd_bool(struct ssh_rd *r)
{
    return rd_u8(r) != 0;
}

uint32_t rd_u32(struct ssh_rd *r)
{
    const uint8_t *s = take(r, 4);
    if (!s) return 0;
    return ((uint32_t)s[0] << 24) | ((uint32_t)s[1] << 16) | ((uint32_t)s[2] << 8) | s[3];
}

const uint8_t *rd_str(struct ssh_rd *r, size_t *len)
{
    size_t at = r->off;
    uint32_t n = rd_u32(r);
    const uint8_t *s = take(r, n);
    if (!s) { r->off = at; *len = 0; return (const uint8_t *)""; }
    *len = n;
    return s;
}

const uint8_t *rd_bytes(struct ssh_rd *r, size_t n)
{
    return take(r, n);
}

const uint8_t *rd_name(struct ssh_rd *r, size_t *len)
{
    if (r->err) { *len = 0; return NULL; }
    size_t j = r->off;
    while (j < r->len && r->p[j] != ',') j++;
    const uint8_t *s = r->p + r->off;
    *len = j - r->off;
    if (j == r->len) { r->off = j; r->err = 1; }   /* that was the last name */
    else r->off = j + 1;
    return s;
}

const uint8_t *rd_line(struct ssh_rd *r, size_t max, size_t *len)
{
    size_t left = r->err ? 0 : r->len - r->off;
    size_t lim = left < max ? left : max;
    const uint8_t *s = r->p + r->off;
    size_t n = 0;
    while (n < lim && s[n] != '\n') n++;
    if (n == lim) { *len = 0; return NULL; }
    r->off += n + 1;
    if (n > 0 && s[n - 1] == '\r') n--;
    *len = n;
    return s;
}

int rd_failed(const struct ssh_rd *r)
{
    return r->err;
}

int rd_done(const struct ssh_rd *r)
{
    return !r->err && r->off == r->len;
}

size_t rd_left(const struct ssh_rd *r)
{
    return r->len - r->off;
}

const uint8_t *rd_consumed(const struct ssh_rd *r, size_t *len)
{
    *len = r->off;
    return r->p;
}

const uint8_t *rd_all(const struct ssh_rd *r, size_t *len)
{
    *len = r->len;
    return r->p;
}

void wr_init(struct ssh_wr *w, void *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
}

uint8_t *wr_reserve(struct ssh_wr *w, size_t n)
{
    if (w->err || w->cap - w->len < n) { w->err = 1; return NULL; }
    uint8_t *s = w->p + w->len;
    w->len += n;
    return s;
}

void wr_raw(struct ssh_wr *w, const void *d, size_t n)
{
    uint8_t *s = wr_reserve(w, n);
    if (s && n) memcpy(s, d, n);
}

void wr_u8(struct ssh_wr *w, uint8_t v)
{
    wr_raw(w, &v, 1);
}

void wr_bool(struct ssh_wr *w, int v)
{
    wr_u8(w, v ? 1 : 0);
}

static void store_u32(uint8_t *s, uint32_t v)
{
    s[0] = (uint8_t)(v >> 24);
    s[1] = (uint8_t)(v >> 16);
    s[2] = (uint8_t)(v >> 8);
    s[3] = (uint8_t)v;
}

void wr_u32(struct ssh_wr *w, uint32_t v)
{
    uint8_t *s = wr_reserve(w, 4);
    if (s) store_u32(s, v);
}

void wr_str(struct ssh_wr *w, const void *d, size_t n)
{
    if (n > UINT32_MAX || w->err || w->cap - w->len < 4 || w->cap - w->len - 4 < n) { w->err = 1; return; }
    wr_u32(w, (uint32_t)n);
    wr_raw(w, d, n);
}

void wr_cstr(struct ssh_wr *w, const char *s)
{
    wr_str(w, s, strlen(s));
}

void wr_namelist(struct ssh_wr *w, const char *const *names)
{
    size_t mark = wr_str_open(w);
    for (const char *const *n = names; *n; n++) {
        if (n != names) wr_u8(w, ',');
        wr_raw(w, *n, strlen(*n));
    }
    wr_str_close(w, mark);
}

void wr_mpint(struct ssh_wr *w, const uint8_t *be, size_t n)
{
    while (n > 0 && be[0] == 0) { be++; n--; }
    size_t mark = wr_str_open(w);
    if (n > 0 && (be[0] & 0x80)) wr_u8(w, 0);  /* keep it positive */
    wr_raw(w, be, n);
    wr_str_close(w, mark);
}

size_t wr_str_open(struct ssh_wr *w)
{
    size_t mark = w->len;
    wr_u32(w, 0);
    return mark;
}

void wr_str_close(struct ssh_wr *w, size_t mark)
{
    if (w->err || w->len < mark + 4 || w->len - mark - 4 > UINT32_MAX) { w->err = 1; return; }
    store_u32(w->p + mark, (uint32_t)(w->len - mark - 4));
}

int wr_failed(const struct ssh_wr *w)
{
    return w->err;
}

size_t wr_len(const struct ssh_wr *w)
{
    return w->len;
}

const uint8_t *wr_data(const struct ssh_wr *w)
{
    return w->p;
}

int str_eq(const uint8_t *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n == l && memcmp(s, lit, l) == 0;
}
