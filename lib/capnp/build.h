/*
 * Internal to the builder: writing an object's pointer at a given word of
 * the one segment, for the builder's own accessors and for copy.c.
 */
#ifndef CAPNP_BUILD_H
#define CAPNP_BUILD_H

#include "capnp.h"

uint8_t *capnp_b_word(capnp_builder *b, uint32_t w);
capnp_sbuilder capnp_b_struct_at(capnp_builder *b, uint32_t pw, uint16_t dw,
                                 uint16_t pc);
capnp_lbuilder capnp_b_list_at(capnp_builder *b, uint32_t pw,
                               enum capnp_elem esize, uint32_t count);
capnp_lbuilder capnp_b_struct_list_at(capnp_builder *b, uint32_t pw,
                                      uint32_t count, uint16_t dw, uint16_t pc);
void capnp_b_cap_at(capnp_builder *b, uint32_t pw, uint32_t cap_index);

#endif
