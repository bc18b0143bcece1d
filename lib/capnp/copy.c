/*
 * Copying an object from a message being read into a message being built,
 * without a schema: structs, every kind of list, Text/Data and capability
 * pointers (their side-table index is kept as it is, so the two messages'
 * capability tables must be parallel).  The source is read through the
 * checked reader (bounds, traversal and nesting limits); the copy is
 * written through the builder (its buffer bound).  Used to move a call's
 * params or results between a transport frame and a message of its own.
 */
#include "build.h"
#include "pointer.h"
#include "wire.h"

static void copy_ptr(capnp_builder *b, uint32_t dpw, capnp_msg *m,
                     uint32_t seg, uint32_t pw, uint32_t depth);

static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* The data and pointers of one struct (src) into one allocated (dst). */
static void copy_body(capnp_builder *b, capnp_sbuilder d, capnp_struct s)
{
    if (!d.b)
        return;
    copy_bytes(capnp_b_word(b, d.word), s.data, s.data_bytes);
    uint32_t first = s.nptrs ? (uint32_t)((s.ptrs - s.msg->seg[s.seg]) / 8) : 0;
    for (uint32_t i = 0; i < s.nptrs; i++) {
        if (b->err != CAPNP_OK || s.msg->err != CAPNP_OK)
            return;
        copy_ptr(b, d.word + d.dw + i, s.msg, s.seg, first + i, s.depth);
    }
}

static void copy_list(capnp_builder *b, uint32_t dpw, capnp_list l)
{
    capnp_msg *m = l.msg;
    if (l.esize == CAPNP_ELEM_COMPOSITE) {
        uint16_t dw = (uint16_t)(l.data_bytes / 8);
        capnp_lbuilder d = capnp_b_struct_list_at(b, dpw, l.count, dw, l.nptrs);
        for (uint32_t i = 0; d.b && i < l.count; i++) {
            capnp_struct s = capnp_list_struct(l, i);
            capnp_sbuilder e = capnp_lget_struct(d, i);
            copy_body(b, e, s);
            if (b->err != CAPNP_OK || m->err != CAPNP_OK)
                return;
        }
        return;
    }
    capnp_lbuilder d = capnp_b_list_at(b, dpw, (enum capnp_elem)l.esize, l.count);
    if (!d.b)
        return;
    if (l.esize == CAPNP_ELEM_POINTER) {
        uint32_t first = (uint32_t)((l.base - m->seg[l.seg]) / 8);
        for (uint32_t i = 0; i < l.count; i++) {
            if (b->err != CAPNP_OK || m->err != CAPNP_OK)
                return;
            copy_ptr(b, d.word + i, m, l.seg, first + i, l.depth);
        }
        return;
    }
    size_t n = l.esize == CAPNP_ELEM_BIT ? ((size_t)l.count + 7) / 8
                                         : (size_t)l.count * l.stride;
    copy_bytes(capnp_b_word(b, d.word), l.base, n);
}

static void copy_ptr(capnp_builder *b, uint32_t dpw, capnp_msg *m,
                     uint32_t seg, uint32_t pw, uint32_t depth)
{
    struct capnp_target t;
    int e = capnp_follow(m, seg, pw, &t);
    if (e != CAPNP_OK) {
        capnp_fail(m, e);
        return;
    }
    if (t.tag == 0)
        return;
    switch (t.tag & 3) {
    case CAPNP_PTR_STRUCT: {
        capnp_struct s = capnp_struct_at(m, seg, pw, depth);
        if (m->err != CAPNP_OK)
            return;
        copy_body(b, capnp_b_struct_at(b, dpw, (uint16_t)(s.data_bytes / 8), s.nptrs), s);
        return;
    }
    case CAPNP_PTR_LIST: {
        capnp_list l = capnp_list_at(m, seg, pw, depth, CAPNP_ELEM_VOID);
        if (m->err == CAPNP_OK)
            copy_list(b, dpw, l);
        return;
    }
    default: {
        uint32_t idx = capnp_cap_at(m, seg, pw);
        if (m->err == CAPNP_OK)
            capnp_b_cap_at(b, dpw, idx);
        return;
    }
    }
}

static int result(capnp_builder *b, capnp_msg *m)
{
    if (m && m->err != CAPNP_OK)
        return m->err;
    return b ? b->err : CAPNP_ERR_INVALID;
}

int capnp_copy_ptr(capnp_sbuilder dst, uint16_t di, capnp_struct src, uint16_t si)
{
    if (!dst.b || dst.b->err != CAPNP_OK)
        return dst.b ? dst.b->err : CAPNP_ERR_INVALID;
    if (di >= dst.pw) {
        dst.b->err = CAPNP_ERR_INVALID;
        return CAPNP_ERR_INVALID;
    }
    if (si >= src.nptrs || !src.msg)
        return result(dst.b, src.msg); /* a missing field copies as null */
    uint32_t spw = (uint32_t)((src.ptrs - src.msg->seg[src.seg]) / 8) + si;
    copy_ptr(dst.b, dst.word + dst.dw + di, src.msg, src.seg, spw, src.depth);
    return result(dst.b, src.msg);
}

int capnp_copy_ptr_to_root(capnp_builder *b, capnp_struct src, uint16_t si)
{
    if (b->err != CAPNP_OK)
        return b->err;
    if (si >= src.nptrs || !src.msg)
        return result(b, src.msg);
    uint32_t spw = (uint32_t)((src.ptrs - src.msg->seg[src.seg]) / 8) + si;
    copy_ptr(b, 0, src.msg, src.seg, spw, src.depth);
    return result(b, src.msg);
}

int capnp_copy_struct(capnp_sbuilder dst, uint16_t di, capnp_struct src)
{
    if (!dst.b || dst.b->err != CAPNP_OK)
        return dst.b ? dst.b->err : CAPNP_ERR_INVALID;
    if (!src.msg)
        return CAPNP_ERR_INVALID;
    capnp_sbuilder d = capnp_init_struct(dst, di, (uint16_t)(src.data_bytes / 8), src.nptrs);
    copy_body(dst.b, d, src);
    return result(dst.b, src.msg);
}
