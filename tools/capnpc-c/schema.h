/*
 * Readers for the parts of Cap'n Proto's own schema (schema.capnp) that the
 * generator needs, written by hand with the offsets that `capnp compile
 * -ocapnp` prints for schema.capnp.  They cannot be generated: this is what
 * reads the generator's input.
 */
#ifndef CAPNPC_C_SCHEMA_H
#define CAPNPC_C_SCHEMA_H

#include "capnp.h"

/* CodeGeneratorRequest */
static inline capnp_list req_nodes(capnp_struct r) { return capnp_get_list(r, 0, CAPNP_ELEM_COMPOSITE); }
static inline capnp_list req_files(capnp_struct r) { return capnp_get_list(r, 1, CAPNP_ELEM_COMPOSITE); }

/* CodeGeneratorRequest.RequestedFile */
static inline uint64_t rfile_id(capnp_struct f) { return capnp_get_u64(f, 0); }
static inline capnp_text rfile_name(capnp_struct f) { return capnp_get_text(f, 0); }

/* Node */
enum { NODE_FILE = 0, NODE_STRUCT = 1, NODE_ENUM = 2, NODE_INTERFACE = 3,
       NODE_CONST = 4, NODE_ANNOTATION = 5 };
static inline uint64_t node_id(capnp_struct n) { return capnp_get_u64(n, 0); }
static inline capnp_text node_display_name(capnp_struct n) { return capnp_get_text(n, 0); }
static inline uint32_t node_prefix_len(capnp_struct n) { return capnp_get_u32(n, 8); }
static inline uint64_t node_scope(capnp_struct n) { return capnp_get_u64(n, 16); }
static inline capnp_list node_nested(capnp_struct n) { return capnp_get_list(n, 1, CAPNP_ELEM_COMPOSITE); }
static inline uint16_t node_which(capnp_struct n) { return capnp_get_u16(n, 12); }
static inline bool node_is_generic(capnp_struct n) { return capnp_get_bool(n, 288); }
static inline uint16_t node_data_words(capnp_struct n) { return capnp_get_u16(n, 14); }
static inline uint16_t node_ptr_words(capnp_struct n) { return capnp_get_u16(n, 24); }
static inline bool node_is_group(capnp_struct n) { return capnp_get_bool(n, 224); }
static inline uint16_t node_disc_count(capnp_struct n) { return capnp_get_u16(n, 30); }
static inline uint32_t node_disc_offset(capnp_struct n) { return capnp_get_u32(n, 32); }
static inline capnp_list node_fields(capnp_struct n) { return capnp_get_list(n, 3, CAPNP_ELEM_COMPOSITE); }
static inline capnp_list node_enumerants(capnp_struct n) { return capnp_get_list(n, 3, CAPNP_ELEM_COMPOSITE); }
static inline capnp_list node_methods(capnp_struct n) { return capnp_get_list(n, 3, CAPNP_ELEM_COMPOSITE); }
static inline capnp_list node_superclasses(capnp_struct n) { return capnp_get_list(n, 4, CAPNP_ELEM_COMPOSITE); }
static inline capnp_struct node_const_type(capnp_struct n) { return capnp_get_struct(n, 3); }
static inline capnp_struct node_const_value(capnp_struct n) { return capnp_get_struct(n, 4); }

/* Node.NestedNode */
static inline capnp_text nested_name(capnp_struct n) { return capnp_get_text(n, 0); }
static inline uint64_t nested_id(capnp_struct n) { return capnp_get_u64(n, 0); }

/* Field */
enum { FIELD_SLOT = 0, FIELD_GROUP = 1 };
#define NO_DISCRIMINANT 0xffffu
static inline capnp_text field_name(capnp_struct f) { return capnp_get_text(f, 0); }
static inline uint16_t field_disc_value(capnp_struct f) { return capnp_get_u16(f, 2) ^ 0xffffu; }
static inline uint16_t field_which(capnp_struct f) { return capnp_get_u16(f, 8); }
static inline uint32_t field_offset(capnp_struct f) { return capnp_get_u32(f, 4); }
static inline capnp_struct field_type(capnp_struct f) { return capnp_get_struct(f, 2); }
static inline capnp_struct field_default(capnp_struct f) { return capnp_get_struct(f, 3); }
static inline bool field_had_default(capnp_struct f) { return capnp_get_bool(f, 128); }
static inline uint64_t field_group_id(capnp_struct f) { return capnp_get_u64(f, 16); }

/* Enumerant */
static inline capnp_text enumerant_name(capnp_struct e) { return capnp_get_text(e, 0); }

/* Method */
static inline capnp_text method_name(capnp_struct m) { return capnp_get_text(m, 0); }
static inline uint64_t method_params(capnp_struct m) { return capnp_get_u64(m, 8); }
static inline uint64_t method_results(capnp_struct m) { return capnp_get_u64(m, 16); }

/* Type (the union tag values are schema.capnp's) */
enum { T_VOID, T_BOOL, T_INT8, T_INT16, T_INT32, T_INT64, T_UINT8, T_UINT16,
       T_UINT32, T_UINT64, T_FLOAT32, T_FLOAT64, T_TEXT, T_DATA, T_LIST,
       T_ENUM, T_STRUCT, T_INTERFACE, T_ANYPOINTER };
static inline uint16_t type_which(capnp_struct t) { return capnp_get_u16(t, 0); }
static inline capnp_struct type_elem(capnp_struct t) { return capnp_get_struct(t, 0); }
static inline uint64_t type_id(capnp_struct t) { return capnp_get_u64(t, 8); }
/* anyPointer: 0 = unconstrained (then 10: anyKind/struct/list/capability) */
static inline uint16_t type_any_which(capnp_struct t) { return capnp_get_u16(t, 8); }
static inline uint16_t type_any_kind(capnp_struct t) { return capnp_get_u16(t, 10); }
#define ANY_CAPABILITY 3

/* Value: the raw bits of a default, at the offset its type uses */
static inline bool value_bool(capnp_struct v) { return capnp_get_bool(v, 16); }
static inline uint8_t value_u8(capnp_struct v) { return capnp_get_u8(v, 2); }
static inline uint16_t value_u16(capnp_struct v) { return capnp_get_u16(v, 2); }
static inline uint32_t value_u32(capnp_struct v) { return capnp_get_u32(v, 4); }
static inline uint64_t value_u64(capnp_struct v) { return capnp_get_u64(v, 8); }
static inline capnp_data value_bytes(capnp_struct v) { return capnp_get_data(v, 0); }
static inline capnp_text value_text(capnp_struct v) { return capnp_get_text(v, 0); }

#endif
