/*
 * The builder: one segment, allocated front to back in the caller's buffer.
 * Space is zeroed as it is allocated so unset fields read as defaults.
 * Every failure is sticky in b->err and turns later writes into no-ops.
 */
#include "build.h"
#include "wire.h"

#define HDR 8 /* one-segment table: count-1, size */

/* From the runtime (or libc on the host): whole-word moves rather than a
 * byte at a time, which is what an encoder of frames spends its time on. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

static void bfail(capnp_builder *b, int err)
{
    if (b->err == CAPNP_OK)
        b->err = err;
}

uint8_t *capnp_b_word(capnp_builder *b, uint32_t w)
{
    return b->buf + HDR + (size_t)w * 8;
}

/* Allocate n words, not yet written; returns the first word index or -1.
 * The caller writes every byte of them (the buffer may hold old bytes). */
static int64_t alloc_unzeroed(capnp_builder *b, uint64_t n)
{
    if (b->err != CAPNP_OK)
        return -1;
    if (n > b->cap_words - b->used) {
        bfail(b, CAPNP_ERR_NO_SPACE);
        return -1;
    }
    uint32_t w = b->used;
    b->used += (uint32_t)n;
    return w;
}

/* Allocate n zeroed words; returns the first word index or -1. */
static int64_t alloc(capnp_builder *b, uint64_t n)
{
    int64_t w = alloc_unzeroed(b, n);
    if (w >= 0)
        memset(capnp_b_word(b, (uint32_t)w), 0, n * 8);
    return w;
}

int capnp_builder_init(capnp_builder *b, void *buf, size_t len)
{
    b->buf = buf;
    b->used = 0;
    b->err = CAPNP_OK;
    b->caps = 0;
    b->ncaps = 0;
    b->caps_cap = 0;
    size_t words = len < HDR ? 0 : (len - HDR) / 8;
    if (words > 0x1fffffffu) /* what a 29-bit offset can reach */
        words = 0x1fffffffu;
    b->cap_words = (uint32_t)words;
    if (alloc(b, 1) < 0) /* the root pointer */
        return b->err;
    return CAPNP_OK;
}

void capnp_builder_set_caps(capnp_builder *b, uint32_t *caps, uint32_t cap)
{
    b->caps = caps;
    b->caps_cap = cap;
    b->ncaps = 0;
}

uint32_t capnp_builder_add_cap(capnp_builder *b, uint32_t handle)
{
    if (b->ncaps >= b->caps_cap) {
        bfail(b, CAPNP_ERR_NO_SPACE);
        return CAPNP_NO_CAP;
    }
    b->caps[b->ncaps] = handle;
    return b->ncaps++;
}

uint32_t capnp_add_cap(capnp_sbuilder s, uint32_t handle)
{
    return s.b ? capnp_builder_add_cap(s.b, handle) : CAPNP_NO_CAP;
}

int capnp_builder_finish(capnp_builder *b, size_t *len)
{
    *len = 0;
    if (b->err != CAPNP_OK)
        return b->err;
    capnp_st32(b->buf, 0);
    capnp_st32(b->buf + 4, b->used);
    *len = HDR + (size_t)b->used * 8;
    return CAPNP_OK;
}

/* ---------------------------------------------- writing pointers at a word */

static const capnp_sbuilder no_struct = { 0, 0, 0, 0 };
static const capnp_lbuilder no_list = { 0, 0, 0, 0, 0, 0 };

static void put_ptr(capnp_builder *b, uint32_t pw, uint32_t target,
                    uint32_t kind, uint32_t hi)
{
    int32_t off = (int32_t)target - (int32_t)(pw + 1);
    uint32_t lo = ((uint32_t)off << 2) | kind;
    capnp_st64(capnp_b_word(b, pw), (uint64_t)lo | ((uint64_t)hi << 32));
}

capnp_sbuilder capnp_b_struct_at(capnp_builder *b, uint32_t pw, uint16_t dw,
                                uint16_t pc)
{
    int64_t w = alloc(b, (uint64_t)dw + pc);
    if (w < 0)
        return no_struct;
    /* An empty struct points at offset -1 (its own pointer word): offset 0
     * with no sizes would be the all-zero word, which means null. */
    uint32_t target = dw + pc ? (uint32_t)w : pw;
    put_ptr(b, pw, target, CAPNP_PTR_STRUCT, dw | ((uint32_t)pc << 16));
    capnp_sbuilder s = { b, (uint32_t)w, dw, pc };
    return s;
}

static const uint8_t elem_bits[8] = { 0, 1, 8, 16, 32, 64, 64, 0 };

capnp_lbuilder capnp_b_list_at(capnp_builder *b, uint32_t pw,
                              enum capnp_elem esize, uint32_t count)
{
    if (esize == CAPNP_ELEM_COMPOSITE || count >= (1u << 29)) {
        bfail(b, CAPNP_ERR_INVALID);
        return no_list;
    }
    int64_t w = alloc(b, ((uint64_t)count * elem_bits[esize] + 63) / 64);
    if (w < 0)
        return no_list;
    put_ptr(b, pw, (uint32_t)w, CAPNP_PTR_LIST, (uint32_t)esize | (count << 3));
    capnp_lbuilder l = { b, (uint32_t)w, count, (uint8_t)esize, 0, 0 };
    return l;
}

capnp_lbuilder capnp_b_struct_list_at(capnp_builder *b, uint32_t pw,
                                     uint32_t count, uint16_t dw, uint16_t pc)
{
    uint64_t words = (uint64_t)count * ((uint64_t)dw + pc);
    if (count >= (1u << 29) || words >= (1u << 29)) {
        bfail(b, CAPNP_ERR_INVALID);
        return no_list;
    }
    int64_t w = alloc(b, 1 + words);
    if (w < 0)
        return no_list;
    put_ptr(b, pw, (uint32_t)w, CAPNP_PTR_LIST,
            CAPNP_ELEM_COMPOSITE | ((uint32_t)words << 3));
    /* the tag: a struct pointer whose offset field holds the count */
    capnp_st64(capnp_b_word(b, (uint32_t)w),
               ((uint64_t)count << 2) | ((uint64_t)dw << 32) | ((uint64_t)pc << 48));
    capnp_lbuilder l = { b, (uint32_t)w + 1, count, CAPNP_ELEM_COMPOSITE, dw, pc };
    return l;
}

static void bytes_at(capnp_builder *b, uint32_t pw, const void *p, size_t len,
                     bool nul)
{
    size_t n = len + (nul ? 1 : 0);
    if (n >= (1u << 29)) {
        bfail(b, CAPNP_ERR_INVALID);
        return;
    }
    /* capnp_b_list_at's list, but the words are written once: the last
     * (the padding, and the NUL) zeroed, then the bytes copied over them */
    uint64_t words = (n + 7) / 8;
    int64_t w = alloc_unzeroed(b, words);
    if (w < 0)
        return;
    put_ptr(b, pw, (uint32_t)w, CAPNP_PTR_LIST, (uint32_t)CAPNP_ELEM_BYTE | ((uint32_t)n << 3));
    uint8_t *dst = capnp_b_word(b, (uint32_t)w);
    if (words)
        capnp_st64(dst + (words - 1) * 8, 0);
    memcpy(dst, p, len);
}

void capnp_b_cap_at(capnp_builder *b, uint32_t pw, uint32_t cap_index)
{
    uint64_t v = cap_index == CAPNP_NO_CAP ? 0
                 : ((uint64_t)cap_index << 32) | CAPNP_PTR_OTHER;
    capnp_st64(capnp_b_word(b, pw), v);
}

/* ------------------------------------------------------------ struct fields */

capnp_sbuilder capnp_builder_root(capnp_builder *b, uint16_t dw, uint16_t pw)
{
    if (b->err != CAPNP_OK)
        return no_struct;
    return capnp_b_struct_at(b, 0, dw, pw);
}

/* Is [off, off+size) inside the data section?  A miss is a caller bug. */
static bool data_ok(capnp_sbuilder s, uint32_t off, uint32_t size)
{
    if (!s.b || s.b->err != CAPNP_OK)
        return false;
    if ((uint64_t)off + size > (uint64_t)s.dw * 8) {
        bfail(s.b, CAPNP_ERR_INVALID);
        return false;
    }
    return true;
}

void capnp_set_u8(capnp_sbuilder s, uint32_t off, uint8_t v)
{
    if (data_ok(s, off, 1))
        capnp_b_word(s.b, s.word)[off] = v;
}

void capnp_set_u16(capnp_sbuilder s, uint32_t off, uint16_t v)
{
    if (data_ok(s, off, 2))
        capnp_st16(capnp_b_word(s.b, s.word) + off, v);
}

void capnp_set_u32(capnp_sbuilder s, uint32_t off, uint32_t v)
{
    if (data_ok(s, off, 4))
        capnp_st32(capnp_b_word(s.b, s.word) + off, v);
}

void capnp_set_u64(capnp_sbuilder s, uint32_t off, uint64_t v)
{
    if (data_ok(s, off, 8))
        capnp_st64(capnp_b_word(s.b, s.word) + off, v);
}

void capnp_set_bool(capnp_sbuilder s, uint32_t bit, bool v)
{
    if (!data_ok(s, bit / 8, 1))
        return;
    uint8_t *p = capnp_b_word(s.b, s.word) + bit / 8;
    uint8_t mask = (uint8_t)(1u << (bit % 8));
    *p = v ? (uint8_t)(*p | mask) : (uint8_t)(*p & ~mask);
}

/* Word index of pointer idx of s, or -1 (recording the error). */
static int64_t ptr_slot(capnp_sbuilder s, uint16_t idx)
{
    if (!s.b || s.b->err != CAPNP_OK)
        return -1;
    if (idx >= s.pw) {
        bfail(s.b, CAPNP_ERR_INVALID);
        return -1;
    }
    return (int64_t)s.word + s.dw + idx;
}

capnp_sbuilder capnp_init_struct(capnp_sbuilder s, uint16_t idx, uint16_t dw,
                                 uint16_t pw)
{
    int64_t p = ptr_slot(s, idx);
    return p < 0 ? no_struct : capnp_b_struct_at(s.b, (uint32_t)p, dw, pw);
}

capnp_lbuilder capnp_init_list(capnp_sbuilder s, uint16_t idx,
                               enum capnp_elem esize, uint32_t count)
{
    int64_t p = ptr_slot(s, idx);
    return p < 0 ? no_list : capnp_b_list_at(s.b, (uint32_t)p, esize, count);
}

capnp_lbuilder capnp_init_struct_list(capnp_sbuilder s, uint16_t idx,
                                      uint32_t count, uint16_t dw, uint16_t pw)
{
    int64_t p = ptr_slot(s, idx);
    return p < 0 ? no_list : capnp_b_struct_list_at(s.b, (uint32_t)p, count, dw, pw);
}

void capnp_set_text(capnp_sbuilder s, uint16_t idx, const char *str, size_t len)
{
    int64_t p = ptr_slot(s, idx);
    if (p >= 0)
        bytes_at(s.b, (uint32_t)p, str, len, true);
}

void capnp_set_data(capnp_sbuilder s, uint16_t idx, const void *d, size_t len)
{
    int64_t p = ptr_slot(s, idx);
    if (p >= 0)
        bytes_at(s.b, (uint32_t)p, d, len, false);
}

void capnp_set_cap(capnp_sbuilder s, uint16_t idx, uint32_t cap_index)
{
    int64_t p = ptr_slot(s, idx);
    if (p >= 0)
        capnp_b_cap_at(s.b, (uint32_t)p, cap_index);
}

/* -------------------------------------------------------------- list elements */

/* Address of element i's first byte, or NULL (recording the error) if the
 * list failed, i is out of range or the element is not `bits` wide. */
static uint8_t *lelem(capnp_lbuilder l, uint32_t i, uint32_t bits)
{
    if (!l.b || l.b->err != CAPNP_OK)
        return 0;
    if (i >= l.count || l.esize == CAPNP_ELEM_COMPOSITE ||
        l.esize == CAPNP_ELEM_POINTER || elem_bits[l.esize] != bits) {
        bfail(l.b, CAPNP_ERR_INVALID);
        return 0;
    }
    return capnp_b_word(l.b, l.word) + (size_t)i * (bits / 8);
}

void capnp_lset_u8(capnp_lbuilder l, uint32_t i, uint8_t v)
{
    uint8_t *p = lelem(l, i, 8);
    if (p)
        *p = v;
}

void capnp_lset_u16(capnp_lbuilder l, uint32_t i, uint16_t v)
{
    uint8_t *p = lelem(l, i, 16);
    if (p)
        capnp_st16(p, v);
}

void capnp_lset_u32(capnp_lbuilder l, uint32_t i, uint32_t v)
{
    uint8_t *p = lelem(l, i, 32);
    if (p)
        capnp_st32(p, v);
}

void capnp_lset_u64(capnp_lbuilder l, uint32_t i, uint64_t v)
{
    uint8_t *p = lelem(l, i, 64);
    if (p)
        capnp_st64(p, v);
}

void capnp_lset_bool(capnp_lbuilder l, uint32_t i, bool v)
{
    if (!l.b || l.b->err != CAPNP_OK)
        return;
    if (i >= l.count || l.esize != CAPNP_ELEM_BIT) {
        bfail(l.b, CAPNP_ERR_INVALID);
        return;
    }
    uint8_t *p = capnp_b_word(l.b, l.word) + i / 8;
    uint8_t mask = (uint8_t)(1u << (i % 8));
    *p = v ? (uint8_t)(*p | mask) : (uint8_t)(*p & ~mask);
}

capnp_sbuilder capnp_lget_struct(capnp_lbuilder l, uint32_t i)
{
    if (!l.b || l.b->err != CAPNP_OK)
        return no_struct;
    if (i >= l.count || l.esize != CAPNP_ELEM_COMPOSITE) {
        bfail(l.b, CAPNP_ERR_INVALID);
        return no_struct;
    }
    capnp_sbuilder s = { l.b, l.word + i * ((uint32_t)l.dw + l.pw), l.dw, l.pw };
    return s;
}

/* Word index of pointer element i, or -1. */
static int64_t lptr_slot(capnp_lbuilder l, uint32_t i)
{
    if (!l.b || l.b->err != CAPNP_OK)
        return -1;
    if (i >= l.count || l.esize != CAPNP_ELEM_POINTER) {
        bfail(l.b, CAPNP_ERR_INVALID);
        return -1;
    }
    return (int64_t)l.word + i;
}

capnp_lbuilder capnp_linit_list(capnp_lbuilder l, uint32_t i,
                                enum capnp_elem esize, uint32_t count)
{
    int64_t p = lptr_slot(l, i);
    return p < 0 ? no_list : capnp_b_list_at(l.b, (uint32_t)p, esize, count);
}

capnp_lbuilder capnp_linit_struct_list(capnp_lbuilder l, uint32_t i,
                                       uint32_t count, uint16_t dw, uint16_t pw)
{
    int64_t p = lptr_slot(l, i);
    return p < 0 ? no_list : capnp_b_struct_list_at(l.b, (uint32_t)p, count, dw, pw);
}

void capnp_lset_text(capnp_lbuilder l, uint32_t i, const char *str, size_t len)
{
    int64_t p = lptr_slot(l, i);
    if (p >= 0)
        bytes_at(l.b, (uint32_t)p, str, len, true);
}

void capnp_lset_data(capnp_lbuilder l, uint32_t i, const void *d, size_t len)
{
    int64_t p = lptr_slot(l, i);
    if (p >= 0)
        bytes_at(l.b, (uint32_t)p, d, len, false);
}

void capnp_lset_cap(capnp_lbuilder l, uint32_t i, uint32_t cap_index)
{
    int64_t p = lptr_slot(l, i);
    if (p >= 0)
        capnp_b_cap_at(l.b, (uint32_t)p, cap_index);
}
