/*
 * Following pointers.  A near pointer's offset is relative to the word after
 * it; a far pointer names a landing pad in another segment, which is either
 * the object's own pointer (single far) or a far pointer to the object plus
 * a tag word describing it (double far).  Each step is bounds-checked before
 * any word it names is read.
 */
#include "pointer.h"
#include "wire.h"

void capnp_fail(capnp_msg *m, int err)
{
    if (m->err == CAPNP_OK)
        m->err = err;
}

/* The signed 30-bit word offset of a struct or list pointer. */
static int64_t ptr_offset(uint64_t p)
{
    return (int32_t)((uint32_t)p & ~3u) / 4;
}

int capnp_follow(const capnp_msg *m, uint32_t seg, uint32_t pw,
                 struct capnp_target *t)
{
    uint64_t p = capnp_ld64(m->seg[seg] + (size_t)pw * 8);
    t->tag = p;
    t->seg = seg;
    t->word = 0;
    if (p == 0)
        return CAPNP_OK;
    if ((p & 3) == CAPNP_PTR_FAR) {
        uint32_t ls = (uint32_t)(p >> 32);
        uint32_t lw = (uint32_t)(p >> 3) & 0x1fffffffu;
        if (ls >= m->nsegs)
            return CAPNP_ERR_FAR_POINTER;
        if (!(p & 4)) {
            /* single far: the landing pad is the object's own pointer */
            if (lw >= m->seg_words[ls])
                return CAPNP_ERR_FAR_POINTER;
            p = capnp_ld64(m->seg[ls] + (size_t)lw * 8);
            if ((p & 3) == CAPNP_PTR_FAR)
                return CAPNP_ERR_FAR_POINTER;
            seg = ls;
            pw = lw;
            t->tag = p;
            t->seg = seg;
            if (p == 0)
                return CAPNP_OK;
        } else {
            /* double far: pad = far pointer to the object, then its tag */
            if (m->seg_words[ls] < 2 || lw > m->seg_words[ls] - 2)
                return CAPNP_ERR_FAR_POINTER;
            uint64_t q = capnp_ld64(m->seg[ls] + (size_t)lw * 8);
            uint64_t tag = capnp_ld64(m->seg[ls] + (size_t)lw * 8 + 8);
            if ((q & 7) != CAPNP_PTR_FAR)
                return CAPNP_ERR_FAR_POINTER;
            uint32_t cs = (uint32_t)(q >> 32);
            uint32_t cw = (uint32_t)(q >> 3) & 0x1fffffffu;
            if (cs >= m->nsegs)
                return CAPNP_ERR_FAR_POINTER;
            if ((tag & 3) != CAPNP_PTR_STRUCT && (tag & 3) != CAPNP_PTR_LIST)
                return CAPNP_ERR_FAR_POINTER;
            if (cw > m->seg_words[cs])
                return CAPNP_ERR_OUT_OF_BOUNDS;
            t->tag = tag;
            t->seg = cs;
            t->word = cw;
            return CAPNP_OK;
        }
    }
    if ((p & 3) == CAPNP_PTR_OTHER)
        return CAPNP_OK;
    int64_t w = (int64_t)pw + 1 + ptr_offset(p);
    if (w < 0 || w > (int64_t)m->seg_words[seg])
        return CAPNP_ERR_OUT_OF_BOUNDS;
    t->word = (uint32_t)w;
    return CAPNP_OK;
}

/* Count words against the traversal limit.  Every object costs at least one
 * word so that zero-sized objects cannot be visited for free. */
static bool charge(capnp_msg *m, uint64_t words)
{
    if (words == 0)
        words = 1;
    if (m->traversal_left < words) {
        m->traversal_left = 0;
        capnp_fail(m, CAPNP_ERR_TRAVERSAL);
        return false;
    }
    m->traversal_left -= words;
    return true;
}

static capnp_struct empty_struct(capnp_msg *m)
{
    capnp_struct s = { m, 0, 0, 0, 0, 0, 0 };
    return s;
}

static capnp_list empty_list(capnp_msg *m)
{
    capnp_list l = { m, 0, 0, 0, 0, 0, 0, 0, 0 };
    return l;
}

capnp_struct capnp_struct_at(capnp_msg *m, uint32_t seg, uint32_t pw,
                             uint32_t depth)
{
    struct capnp_target t;
    capnp_struct s = empty_struct(m);
    int e = capnp_follow(m, seg, pw, &t);
    if (e != CAPNP_OK) {
        capnp_fail(m, e);
        return s;
    }
    if (t.tag == 0)
        return s;
    if ((t.tag & 3) != CAPNP_PTR_STRUCT) {
        capnp_fail(m, CAPNP_ERR_POINTER_KIND);
        return s;
    }
    if (depth == 0) {
        capnp_fail(m, CAPNP_ERR_NESTING);
        return s;
    }
    uint32_t dw = (uint32_t)(t.tag >> 32) & 0xffff;
    uint32_t np = (uint32_t)(t.tag >> 48);
    if ((uint64_t)t.word + dw + np > m->seg_words[t.seg]) {
        capnp_fail(m, CAPNP_ERR_OUT_OF_BOUNDS);
        return s;
    }
    if (!charge(m, dw + np))
        return s;
    s.data = m->seg[t.seg] + (size_t)t.word * 8;
    s.data_bytes = dw * 8;
    s.ptrs = s.data + (size_t)dw * 8;
    s.nptrs = (uint16_t)np;
    s.seg = (uint16_t)t.seg;
    s.depth = depth - 1;
    return s;
}

/* Bits of data per element of each wire element size. */
static const uint8_t elem_bits[8] = { 0, 1, 8, 16, 32, 64, 64, 0 };

/* Does a list of what we found serve as a list of what the schema says?
 * (Cap'n Proto lets a list of structs stand in for a list of primitives or
 * pointers, reading each element's first field.) */
static int check_expect(const capnp_list *l, enum capnp_elem expect)
{
    switch (expect) {
    case CAPNP_ELEM_VOID:
        return CAPNP_OK;
    case CAPNP_ELEM_BIT:
        return l->esize == CAPNP_ELEM_BIT ? CAPNP_OK : CAPNP_ERR_ELEMENT_SIZE;
    case CAPNP_ELEM_BYTE:
    case CAPNP_ELEM_TWO:
    case CAPNP_ELEM_FOUR:
    case CAPNP_ELEM_EIGHT:
        if (l->esize == CAPNP_ELEM_BIT)
            return CAPNP_ERR_ELEMENT_SIZE;
        return (uint64_t)l->data_bytes * 8 >= elem_bits[expect]
                   ? CAPNP_OK : CAPNP_ERR_ELEMENT_SIZE;
    case CAPNP_ELEM_POINTER:
        return l->nptrs >= 1 ? CAPNP_OK : CAPNP_ERR_ELEMENT_SIZE;
    case CAPNP_ELEM_COMPOSITE:
        return l->esize == CAPNP_ELEM_BIT ? CAPNP_ERR_ELEMENT_SIZE : CAPNP_OK;
    }
    return CAPNP_ERR_ELEMENT_SIZE;
}

capnp_list capnp_list_at(capnp_msg *m, uint32_t seg, uint32_t pw,
                         uint32_t depth, enum capnp_elem expect)
{
    struct capnp_target t;
    capnp_list l = empty_list(m);
    int e = capnp_follow(m, seg, pw, &t);
    if (e != CAPNP_OK) {
        capnp_fail(m, e);
        return l;
    }
    if (t.tag == 0)
        return l;
    if ((t.tag & 3) != CAPNP_PTR_LIST) {
        capnp_fail(m, CAPNP_ERR_POINTER_KIND);
        return l;
    }
    if (depth == 0) {
        capnp_fail(m, CAPNP_ERR_NESTING);
        return l;
    }
    uint32_t esize = (uint32_t)(t.tag >> 32) & 7;
    uint32_t n = (uint32_t)(t.tag >> 35);
    uint64_t avail = m->seg_words[t.seg] - t.word; /* follow checked word <= size */
    const uint8_t *start = m->seg[t.seg] + (size_t)t.word * 8;
    capnp_list r = empty_list(m);
    r.seg = (uint16_t)t.seg;
    r.depth = depth - 1;
    r.esize = (uint8_t)esize;
    if (esize == CAPNP_ELEM_COMPOSITE) {
        /* n counts words of elements, after one tag word */
        if (avail < 1 || n > avail - 1) {
            capnp_fail(m, CAPNP_ERR_LIST_TOO_LONG);
            return l;
        }
        uint64_t tag = capnp_ld64(start);
        if ((tag & 3) != CAPNP_PTR_STRUCT) {
            capnp_fail(m, CAPNP_ERR_POINTER_KIND);
            return l;
        }
        uint32_t count = (uint32_t)(tag >> 2) & 0x3fffffffu;
        uint32_t dw = (uint32_t)(tag >> 32) & 0xffff;
        uint32_t np = (uint32_t)(tag >> 48);
        uint64_t per = (uint64_t)dw + np;
        if ((uint64_t)count * per > n) {
            capnp_fail(m, CAPNP_ERR_LIST_TOO_LONG);
            return l;
        }
        /* zero-sized elements cost one word each: no free amplification */
        if (!charge(m, per == 0 ? count : (uint64_t)count * per))
            return l;
        r.base = start + 8;
        r.count = count;
        r.stride = (uint32_t)per * 8;
        r.data_bytes = dw * 8;
        r.nptrs = (uint16_t)np;
    } else {
        uint64_t words = ((uint64_t)n * elem_bits[esize] + 63) / 64;
        if (words > avail) {
            capnp_fail(m, CAPNP_ERR_LIST_TOO_LONG);
            return l;
        }
        if (!charge(m, esize == CAPNP_ELEM_VOID ? n : words))
            return l;
        r.base = start;
        r.count = n;
        r.stride = esize == CAPNP_ELEM_BIT ? 0 : elem_bits[esize] / 8u;
        r.data_bytes = esize == CAPNP_ELEM_POINTER ? 0 : r.stride;
        r.nptrs = esize == CAPNP_ELEM_POINTER ? 1 : 0;
    }
    e = check_expect(&r, expect);
    if (e != CAPNP_OK) {
        capnp_fail(m, e);
        return l;
    }
    return r;
}

uint32_t capnp_cap_at(capnp_msg *m, uint32_t seg, uint32_t pw)
{
    struct capnp_target t;
    int e = capnp_follow(m, seg, pw, &t);
    if (e != CAPNP_OK) {
        capnp_fail(m, e);
        return CAPNP_NO_CAP;
    }
    if (t.tag == 0)
        return CAPNP_NO_CAP;
    if ((t.tag & 0xffffffffu) != CAPNP_PTR_OTHER) {
        capnp_fail(m, CAPNP_ERR_POINTER_KIND);
        return CAPNP_NO_CAP;
    }
    uint32_t idx = (uint32_t)(t.tag >> 32);
    if (idx == CAPNP_NO_CAP || (m->caps && idx >= m->ncaps)) {
        capnp_fail(m, CAPNP_ERR_CAP_INDEX);
        return CAPNP_NO_CAP;
    }
    return idx;
}
