/*
 * Internal to the reader: resolving one pointer word to the object it
 * describes, with every offset checked against its segment.
 */
#ifndef CAPNP_POINTER_H
#define CAPNP_POINTER_H

#include "capnp.h"

/* What a pointer resolved to.  tag is the pointer word that describes the
 * object (after far pointers are followed): 0 for null, kind in its low two
 * bits; seg/word locate the object's first word. */
struct capnp_target {
    uint64_t tag;
    uint32_t seg;
    uint32_t word;
};

int capnp_follow(const capnp_msg *m, uint32_t seg, uint32_t pw,
                 struct capnp_target *t);
void capnp_fail(capnp_msg *m, int err);

capnp_struct capnp_struct_at(capnp_msg *m, uint32_t seg, uint32_t pw,
                             uint32_t depth);
capnp_list capnp_list_at(capnp_msg *m, uint32_t seg, uint32_t pw,
                         uint32_t depth, enum capnp_elem expect);
uint32_t capnp_cap_at(capnp_msg *m, uint32_t seg, uint32_t pw);

#endif
