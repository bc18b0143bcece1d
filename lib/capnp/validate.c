/*
 * Whole-message validation: visit every object reachable from the root,
 * checking each pointer exactly as the accessors would.  Recursion depth is
 * bounded by the message's nesting limit; total work by its traversal limit.
 */
#include "pointer.h"
#include "wire.h"

static void walk_ptrs(capnp_msg *m, uint32_t seg, const uint8_t *ptrs,
                      uint32_t nptrs, uint32_t depth);

static void walk_ptr(capnp_msg *m, uint32_t seg, uint32_t pw, uint32_t depth)
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
        if (s.nptrs)
            walk_ptrs(m, s.seg, s.ptrs, s.nptrs, s.depth);
        return;
    }
    case CAPNP_PTR_LIST: {
        capnp_list l = capnp_list_at(m, seg, pw, depth, CAPNP_ELEM_VOID);
        if (l.nptrs == 0)
            return;
        for (uint32_t i = 0; i < l.count && m->err == CAPNP_OK; i++)
            walk_ptrs(m, l.seg, l.base + (size_t)i * l.stride + l.data_bytes,
                      l.nptrs, l.depth);
        return;
    }
    default:
        capnp_cap_at(m, seg, pw);
        return;
    }
}

static void walk_ptrs(capnp_msg *m, uint32_t seg, const uint8_t *ptrs,
                      uint32_t nptrs, uint32_t depth)
{
    uint32_t first = (uint32_t)((ptrs - m->seg[seg]) / 8);
    for (uint32_t i = 0; i < nptrs && m->err == CAPNP_OK; i++)
        walk_ptr(m, seg, first + i, depth);
}

int capnp_msg_validate(capnp_msg *m)
{
    if (m->err != CAPNP_OK)
        return m->err;
    /* the root must be a struct (capnp_msg_root checks its pointer) */
    capnp_struct r = capnp_msg_root(m);
    if (m->err == CAPNP_OK && r.nptrs)
        walk_ptrs(m, r.seg, r.ptrs, r.nptrs, r.depth);
    return m->err;
}
