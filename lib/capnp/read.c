/*
 * Reader accessors: data-section fields, pointer fields and list elements.
 * Reads outside a struct's data section return zero (the field is newer than
 * the sender's schema); pointer fields outside the pointer section are null.
 */
#include "pointer.h"
#include "wire.h"

capnp_struct capnp_msg_root(capnp_msg *m)
{
    if (m->nsegs == 0 || m->seg_words[0] == 0) {
        capnp_struct s = { m, 0, 0, 0, 0, 0, 0 };
        capnp_fail(m, CAPNP_ERR_SEGMENT_TABLE);
        return s;
    }
    return capnp_struct_at(m, 0, 0, m->nesting);
}

uint8_t capnp_get_u8(capnp_struct s, uint32_t off)
{
    return off < s.data_bytes ? s.data[off] : 0;
}

uint16_t capnp_get_u16(capnp_struct s, uint32_t off)
{
    return s.data_bytes >= 2 && off <= s.data_bytes - 2 ? capnp_ld16(s.data + off) : 0;
}

uint32_t capnp_get_u32(capnp_struct s, uint32_t off)
{
    return s.data_bytes >= 4 && off <= s.data_bytes - 4 ? capnp_ld32(s.data + off) : 0;
}

uint64_t capnp_get_u64(capnp_struct s, uint32_t off)
{
    return s.data_bytes >= 8 && off <= s.data_bytes - 8 ? capnp_ld64(s.data + off) : 0;
}

bool capnp_get_bool(capnp_struct s, uint32_t bit)
{
    uint32_t byte = bit / 8;
    return byte < s.data_bytes ? (s.data[byte] >> (bit % 8)) & 1 : false;
}

/* Word index, within its segment, of pointer idx of s. */
static uint32_t ptr_word(capnp_struct s, uint16_t idx)
{
    return (uint32_t)((s.ptrs - s.msg->seg[s.seg]) / 8) + idx;
}

bool capnp_has_ptr(capnp_struct s, uint16_t idx)
{
    return idx < s.nptrs && capnp_ld64(s.ptrs + (size_t)idx * 8) != 0;
}

capnp_struct capnp_get_struct(capnp_struct s, uint16_t idx)
{
    if (idx >= s.nptrs) {
        capnp_struct e = { s.msg, 0, 0, 0, 0, 0, 0 };
        return e;
    }
    return capnp_struct_at(s.msg, s.seg, ptr_word(s, idx), s.depth);
}

capnp_list capnp_get_list(capnp_struct s, uint16_t idx, enum capnp_elem expect)
{
    if (idx >= s.nptrs) {
        capnp_list e = { s.msg, 0, 0, 0, 0, 0, 0, 0, 0 };
        return e;
    }
    return capnp_list_at(s.msg, s.seg, ptr_word(s, idx), s.depth, expect);
}

/* Text and Data are byte lists; they hold no pointers, so the nesting
 * limit does not apply, but the traversal limit does (via capnp_list_at). */
static capnp_list bytes_at(capnp_msg *m, uint32_t seg, uint32_t pw)
{
    capnp_list l = capnp_list_at(m, seg, pw, 1, CAPNP_ELEM_BYTE);
    if (l.count && l.esize != CAPNP_ELEM_BYTE) {
        capnp_list e = { m, 0, 0, 0, 0, 0, 0, 0, 0 };
        capnp_fail(m, CAPNP_ERR_ELEMENT_SIZE);
        return e;
    }
    return l;
}

static capnp_text text_at(capnp_msg *m, uint32_t seg, uint32_t pw)
{
    capnp_text t = { "", 0 };
    capnp_list l = bytes_at(m, seg, pw);
    if (l.count == 0) {
        if (l.base) /* a non-null empty list has no room for the NUL */
            capnp_fail(m, CAPNP_ERR_TEXT);
        return t;
    }
    if (l.base[l.count - 1] != 0) {
        capnp_fail(m, CAPNP_ERR_TEXT);
        return t;
    }
    t.str = (const char *)l.base;
    t.len = l.count - 1;
    return t;
}

static capnp_data data_at(capnp_msg *m, uint32_t seg, uint32_t pw)
{
    capnp_list l = bytes_at(m, seg, pw);
    capnp_data d = { l.base, l.count };
    return d;
}

capnp_text capnp_get_text(capnp_struct s, uint16_t idx)
{
    if (idx >= s.nptrs) {
        capnp_text t = { "", 0 };
        return t;
    }
    return text_at(s.msg, s.seg, ptr_word(s, idx));
}

capnp_data capnp_get_data(capnp_struct s, uint16_t idx)
{
    if (idx >= s.nptrs) {
        capnp_data d = { 0, 0 };
        return d;
    }
    return data_at(s.msg, s.seg, ptr_word(s, idx));
}

uint32_t capnp_get_cap(capnp_struct s, uint16_t idx)
{
    if (idx >= s.nptrs)
        return CAPNP_NO_CAP;
    return capnp_cap_at(s.msg, s.seg, ptr_word(s, idx));
}

int capnp_ptr_kind(capnp_struct s, uint16_t idx)
{
    struct capnp_target t;
    if (idx >= s.nptrs)
        return CAPNP_KIND_NULL;
    int e = capnp_follow(s.msg, s.seg, ptr_word(s, idx), &t);
    if (e != CAPNP_OK) {
        capnp_fail(s.msg, e);
        return CAPNP_KIND_NULL;
    }
    if (t.tag == 0)
        return CAPNP_KIND_NULL;
    switch (t.tag & 3) {
    case CAPNP_PTR_STRUCT:
        return CAPNP_KIND_STRUCT;
    case CAPNP_PTR_LIST:
        return CAPNP_KIND_LIST;
    default:
        return CAPNP_KIND_CAP;
    }
}

capnp_struct capnp_msg_root_holder(capnp_msg *m)
{
    capnp_struct s = { m, 0, 0, 0, 0, 0, 0 };
    if (m->nsegs == 0 || m->seg_words[0] == 0) {
        capnp_fail(m, CAPNP_ERR_SEGMENT_TABLE);
        return s;
    }
    s.data = m->seg[0];
    s.ptrs = m->seg[0];
    s.nptrs = 1;
    s.depth = m->nesting;
    return s;
}

/* ---------------------------------------------------------- list elements */

/* Element i as a struct view: for a primitive list the element's bytes are
 * its data section, for a pointer list its one pointer is its pointer
 * section.  Returns false (and records the error) if i is out of range. */
static bool elem(capnp_list l, uint32_t i, capnp_struct *s)
{
    s->msg = l.msg;
    s->data = 0;
    s->ptrs = 0;
    s->data_bytes = 0;
    s->nptrs = 0;
    s->seg = l.seg;
    s->depth = l.depth;
    if (i >= l.count) {
        capnp_fail(l.msg, CAPNP_ERR_INDEX);
        return false;
    }
    if (l.esize == CAPNP_ELEM_BIT || l.esize == CAPNP_ELEM_VOID)
        return true;
    s->data = l.base + (size_t)i * l.stride;
    s->data_bytes = l.data_bytes;
    s->ptrs = s->data + l.data_bytes;
    s->nptrs = l.nptrs;
    return true;
}

uint8_t capnp_list_u8(capnp_list l, uint32_t i)
{
    capnp_struct s;
    return elem(l, i, &s) ? capnp_get_u8(s, 0) : 0;
}

uint16_t capnp_list_u16(capnp_list l, uint32_t i)
{
    capnp_struct s;
    return elem(l, i, &s) ? capnp_get_u16(s, 0) : 0;
}

uint32_t capnp_list_u32(capnp_list l, uint32_t i)
{
    capnp_struct s;
    return elem(l, i, &s) ? capnp_get_u32(s, 0) : 0;
}

uint64_t capnp_list_u64(capnp_list l, uint32_t i)
{
    capnp_struct s;
    return elem(l, i, &s) ? capnp_get_u64(s, 0) : 0;
}

bool capnp_list_bool(capnp_list l, uint32_t i)
{
    if (i >= l.count) {
        capnp_fail(l.msg, CAPNP_ERR_INDEX);
        return false;
    }
    if (l.esize != CAPNP_ELEM_BIT) /* only possible for an unchecked list */
        return false;
    return (l.base[i / 8] >> (i % 8)) & 1;
}

capnp_struct capnp_list_struct(capnp_list l, uint32_t i)
{
    capnp_struct s;
    elem(l, i, &s);
    return s;
}

capnp_list capnp_list_list(capnp_list l, uint32_t i, enum capnp_elem expect)
{
    capnp_struct s;
    elem(l, i, &s);
    return capnp_get_list(s, 0, expect);
}

capnp_text capnp_list_text(capnp_list l, uint32_t i)
{
    capnp_struct s;
    elem(l, i, &s);
    return capnp_get_text(s, 0);
}

capnp_data capnp_list_data(capnp_list l, uint32_t i)
{
    capnp_struct s;
    elem(l, i, &s);
    return capnp_get_data(s, 0);
}

uint32_t capnp_list_cap(capnp_list l, uint32_t i)
{
    capnp_struct s;
    elem(l, i, &s);
    return capnp_get_cap(s, 0);
}
