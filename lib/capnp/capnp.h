/*
 * capnp: a freestanding reader and builder for the Cap'n Proto wire format.
 *
 * The reader never reads outside the segments it was given: every pointer
 * is checked against its segment before it is followed, a traversal limit
 * bounds the total words read (so a message cannot make a reader loop or
 * amplify) and a nesting limit bounds recursion.  Accessors never fail
 * loudly: on a bad pointer they return the field's default and record the
 * first error in the message (capnp_msg.err), which the caller checks once
 * after it has read what it needs.
 *
 * The builder writes one segment into a buffer the caller provides.  It does
 * not allocate; when the buffer is full it records CAPNP_ERR_NO_SPACE and
 * every later write is ignored, so an encoder can write all fields and check
 * the error once in capnp_builder_finish().
 *
 * Only <stdint.h>, <stddef.h> and <stdbool.h> are used: no libc, no globals.
 */
#ifndef CAPNP_H
#define CAPNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Stable error codes: the numbers are part of the API, never renumber. */
enum capnp_err {
    CAPNP_OK = 0,
    CAPNP_ERR_SEGMENT_TABLE = 1,  /* bad framing: count, sizes, truncation */
    CAPNP_ERR_OUT_OF_BOUNDS = 2,  /* pointer target outside its segment */
    CAPNP_ERR_LIST_TOO_LONG = 3,  /* list extends past its segment/tag */
    CAPNP_ERR_NESTING = 4,        /* nesting limit exceeded */
    CAPNP_ERR_TRAVERSAL = 5,      /* traversal limit exceeded */
    CAPNP_ERR_POINTER_KIND = 6,   /* e.g. list where a struct is expected */
    CAPNP_ERR_FAR_POINTER = 7,    /* bad far pointer or landing pad */
    CAPNP_ERR_ELEMENT_SIZE = 8,   /* list element size does not fit type */
    CAPNP_ERR_CAP_INDEX = 9,      /* capability index outside side table */
    CAPNP_ERR_TEXT = 10,          /* text not NUL-terminated */
    CAPNP_ERR_INDEX = 11,         /* list index out of range */
    CAPNP_ERR_NO_SPACE = 12,      /* builder buffer or cap table full */
    CAPNP_ERR_INVALID = 13,       /* bad argument to a builder call */
    CAPNP_ERR_UNKNOWN_INTERFACE = 14, /* dispatch: interface id not served */
    CAPNP_ERR_UNKNOWN_METHOD = 15,    /* dispatch: method ordinal unknown */
    CAPNP_ERR_UNIMPLEMENTED = 16,     /* dispatch: method has no handler */
    CAPNP_ERR_TRANSPORT = 17,         /* client: transport reported failure */
};

/* Short constant description of an error code ("unknown" if not one). */
const char *capnp_strerror(int err);

/* Wire list element sizes (the 3-bit code in a list pointer). */
enum capnp_elem {
    CAPNP_ELEM_VOID = 0,
    CAPNP_ELEM_BIT = 1,
    CAPNP_ELEM_BYTE = 2,
    CAPNP_ELEM_TWO = 3,
    CAPNP_ELEM_FOUR = 4,
    CAPNP_ELEM_EIGHT = 5,
    CAPNP_ELEM_POINTER = 6,
    CAPNP_ELEM_COMPOSITE = 7,
};

#ifndef CAPNP_MAX_SEGMENTS
#define CAPNP_MAX_SEGMENTS 16
#endif
/* A build may lower these (the kernel does: a caller must not be able to
 * buy megawords of kernel work with one 4 KiB message). */
#ifndef CAPNP_DEFAULT_TRAVERSAL_WORDS
#define CAPNP_DEFAULT_TRAVERSAL_WORDS (8u * 1024 * 1024)
#endif
#ifndef CAPNP_DEFAULT_NESTING
#define CAPNP_DEFAULT_NESTING 64u
#endif
#define CAPNP_NO_CAP 0xffffffffu /* a null capability pointer */

/* ---------------------------------------------------------------- reader */

typedef struct capnp_msg {
    const uint8_t *seg[CAPNP_MAX_SEGMENTS];
    uint32_t seg_words[CAPNP_MAX_SEGMENTS];
    uint32_t nsegs;
    uint64_t traversal_left; /* words the reader may still visit */
    uint32_t nesting;        /* depth allowed below the root */
    int err;                 /* first error seen (sticky), CAPNP_OK if none */
    const uint32_t *caps;    /* optional capability side table */
    uint32_t ncaps;
} capnp_msg;

/* A struct being read.  A null or failed pointer reads as an empty struct
 * (no data, no pointers), so every field reads as its default. */
typedef struct capnp_struct {
    capnp_msg *msg;
    const uint8_t *data;
    const uint8_t *ptrs;
    uint32_t data_bytes;
    uint16_t nptrs;
    uint16_t seg;   /* segment holding ptrs */
    uint32_t depth; /* pointers may still be followed this many levels */
} capnp_struct;

/* A list being read.  Every element of a non-bit list is a stride of bytes
 * with data_bytes of data followed by nptrs pointers: this covers primitive,
 * pointer and inline-composite lists alike. */
typedef struct capnp_list {
    capnp_msg *msg;
    const uint8_t *base;
    uint32_t count;
    uint32_t stride;     /* bytes per element (0 for void and bit lists) */
    uint32_t data_bytes; /* data bytes per element */
    uint16_t nptrs;      /* pointers per element */
    uint8_t esize;       /* enum capnp_elem */
    uint16_t seg;
    uint32_t depth;
} capnp_list;

/* Text: str is NUL-terminated inside the message, len excludes the NUL. */
typedef struct capnp_text {
    const char *str;
    uint32_t len;
} capnp_text;

typedef struct capnp_data {
    const uint8_t *ptr;
    uint32_t len;
} capnp_data;

/* Parse the standard segment table framing of a whole message in buf.
 * buf needs no particular alignment and must stay alive while read. */
int capnp_msg_init(capnp_msg *m, const void *buf, size_t len);
/* Use segments already split by a transport (words = 8-byte units). */
int capnp_msg_init_segments(capnp_msg *m, const void *const *segs,
                            const uint32_t *words, uint32_t nsegs);
void capnp_msg_set_limits(capnp_msg *m, uint64_t traversal_words,
                          uint32_t nesting);
/* Attach the capability side table that cap pointers index into. */
void capnp_msg_set_caps(capnp_msg *m, const uint32_t *caps, uint32_t ncaps);
static inline int capnp_msg_error(const capnp_msg *m) { return m->err; }

capnp_struct capnp_msg_root(capnp_msg *m);

/* Walk everything reachable from the root, checking every pointer.  Returns
 * the first error (also left in m->err).  Uses the message's limits. */
int capnp_msg_validate(capnp_msg *m);

/* Data-section reads; bytes outside the data section read as zero.
 * Offsets are in bytes (bool: in bits) from the start of the data section. */
uint8_t capnp_get_u8(capnp_struct s, uint32_t off);
uint16_t capnp_get_u16(capnp_struct s, uint32_t off);
uint32_t capnp_get_u32(capnp_struct s, uint32_t off);
uint64_t capnp_get_u64(capnp_struct s, uint32_t off);
bool capnp_get_bool(capnp_struct s, uint32_t bit);

bool capnp_has_ptr(capnp_struct s, uint16_t idx);
capnp_struct capnp_get_struct(capnp_struct s, uint16_t idx);
/* expect: the element size the schema type implies (CAPNP_ELEM_BYTE for a
 * List(UInt8), CAPNP_ELEM_COMPOSITE for a List(SomeStruct), ...). */
capnp_list capnp_get_list(capnp_struct s, uint16_t idx, enum capnp_elem expect);
capnp_text capnp_get_text(capnp_struct s, uint16_t idx);
capnp_data capnp_get_data(capnp_struct s, uint16_t idx);
/* Capability index into the side table, or CAPNP_NO_CAP when null. */
uint32_t capnp_get_cap(capnp_struct s, uint16_t idx);
/* What pointer idx holds, for schema-less walks (AnyPointer): far pointers
 * are followed; a bad pointer records its error and reads as null. */
enum capnp_ptr_kind { CAPNP_KIND_NULL = 0, CAPNP_KIND_STRUCT = 1,
                      CAPNP_KIND_LIST = 2, CAPNP_KIND_CAP = 3 };
int capnp_ptr_kind(capnp_struct s, uint16_t idx);
/* The root pointer of a message as pointer 0 of a struct view, so a
 * root of any kind can be copied or inspected like a field. */
capnp_struct capnp_msg_root_holder(capnp_msg *m);

/* List element reads; an index out of range records CAPNP_ERR_INDEX. */
uint8_t capnp_list_u8(capnp_list l, uint32_t i);
uint16_t capnp_list_u16(capnp_list l, uint32_t i);
uint32_t capnp_list_u32(capnp_list l, uint32_t i);
uint64_t capnp_list_u64(capnp_list l, uint32_t i);
bool capnp_list_bool(capnp_list l, uint32_t i);
capnp_struct capnp_list_struct(capnp_list l, uint32_t i);
capnp_list capnp_list_list(capnp_list l, uint32_t i, enum capnp_elem expect);
capnp_text capnp_list_text(capnp_list l, uint32_t i);
capnp_data capnp_list_data(capnp_list l, uint32_t i);
uint32_t capnp_list_cap(capnp_list l, uint32_t i);

/* --------------------------------------------------------------- builder */

typedef struct capnp_builder {
    uint8_t *buf;       /* 8-byte segment table, then the one segment */
    uint32_t cap_words; /* words of segment space in buf */
    uint32_t used;      /* words of the segment used so far */
    int err;            /* first error (sticky) */
    uint32_t *caps;     /* optional capability side table being filled */
    uint32_t ncaps, caps_cap;
} capnp_builder;

/* A struct being built; dw/pw 0 with b NULL is the "failed" builder that
 * ignores every write. */
typedef struct capnp_sbuilder {
    capnp_builder *b;
    uint32_t word; /* first word of the data section within the segment */
    uint16_t dw, pw;
} capnp_sbuilder;

typedef struct capnp_lbuilder {
    capnp_builder *b;
    uint32_t word;  /* first element word (after the tag when composite) */
    uint32_t count;
    uint8_t esize;
    uint16_t dw, pw; /* composite elements only */
} capnp_lbuilder;

/* buf holds the whole framed message; it needs no alignment. */
int capnp_builder_init(capnp_builder *b, void *buf, size_t len);
void capnp_builder_set_caps(capnp_builder *b, uint32_t *caps, uint32_t cap);
/* Append a capability to the side table; its index goes into cap fields. */
uint32_t capnp_builder_add_cap(capnp_builder *b, uint32_t handle);
/* The same, from any struct builder of the message (e.g. in a handler). */
uint32_t capnp_add_cap(capnp_sbuilder s, uint32_t handle);
capnp_sbuilder capnp_builder_root(capnp_builder *b, uint16_t dw, uint16_t pw);
/* Write the segment table; *len gets the framed message length. */
int capnp_builder_finish(capnp_builder *b, size_t *len);

void capnp_set_u8(capnp_sbuilder s, uint32_t off, uint8_t v);
void capnp_set_u16(capnp_sbuilder s, uint32_t off, uint16_t v);
void capnp_set_u32(capnp_sbuilder s, uint32_t off, uint32_t v);
void capnp_set_u64(capnp_sbuilder s, uint32_t off, uint64_t v);
void capnp_set_bool(capnp_sbuilder s, uint32_t bit, bool v);

capnp_sbuilder capnp_init_struct(capnp_sbuilder s, uint16_t idx,
                                 uint16_t dw, uint16_t pw);
capnp_lbuilder capnp_init_list(capnp_sbuilder s, uint16_t idx,
                               enum capnp_elem esize, uint32_t count);
capnp_lbuilder capnp_init_struct_list(capnp_sbuilder s, uint16_t idx,
                                      uint32_t count, uint16_t dw, uint16_t pw);
void capnp_set_text(capnp_sbuilder s, uint16_t idx, const char *str, size_t len);
void capnp_set_data(capnp_sbuilder s, uint16_t idx, const void *p, size_t len);
void capnp_set_cap(capnp_sbuilder s, uint16_t idx, uint32_t cap_index);

void capnp_lset_u8(capnp_lbuilder l, uint32_t i, uint8_t v);
void capnp_lset_u16(capnp_lbuilder l, uint32_t i, uint16_t v);
void capnp_lset_u32(capnp_lbuilder l, uint32_t i, uint32_t v);
void capnp_lset_u64(capnp_lbuilder l, uint32_t i, uint64_t v);
void capnp_lset_bool(capnp_lbuilder l, uint32_t i, bool v);
capnp_sbuilder capnp_lget_struct(capnp_lbuilder l, uint32_t i);
capnp_lbuilder capnp_linit_list(capnp_lbuilder l, uint32_t i,
                                enum capnp_elem esize, uint32_t count);
capnp_lbuilder capnp_linit_struct_list(capnp_lbuilder l, uint32_t i,
                                       uint32_t count, uint16_t dw, uint16_t pw);
void capnp_lset_text(capnp_lbuilder l, uint32_t i, const char *str, size_t len);
void capnp_lset_data(capnp_lbuilder l, uint32_t i, const void *p, size_t len);
void capnp_lset_cap(capnp_lbuilder l, uint32_t i, uint32_t cap_index);

/* ----------------------------------------------------------------- copy */

/* Copy an object of a message being read into a message being built,
 * without a schema: structs, lists, Text/Data and capability pointers (whose
 * side-table index is kept, so both messages' cap tables must be parallel).
 * The source is read with its own checks and limits; the first error of
 * either message is returned (reader errors also stay in src.msg->err).
 *   capnp_copy_ptr:          pointer si of src into pointer di of dst
 *   capnp_copy_ptr_to_root:  pointer si of src as the builder's root
 *   capnp_copy_struct:       the struct src itself into pointer di of dst */
int capnp_copy_ptr(capnp_sbuilder dst, uint16_t di, capnp_struct src, uint16_t si);
int capnp_copy_ptr_to_root(capnp_builder *b, capnp_struct src, uint16_t si);
int capnp_copy_struct(capnp_sbuilder dst, uint16_t di, capnp_struct src);

/* ------------------------------------------------------------------ RPC */

/* The transport a generated client stub calls through.  params is a framed
 * message whose capability pointers index param_caps; the transport fills
 * result (a framed message) and result_caps the same way.  Returns
 * CAPNP_OK or an error code (a transport may use its own codes >= 256). */
typedef int (*capnp_call_fn)(void *ctx, uint64_t interface_id,
                             uint16_t method_id, const void *params,
                             size_t params_len, const uint32_t *param_caps,
                             uint32_t param_ncaps, void *result,
                             size_t result_cap, size_t *result_len,
                             uint32_t *result_caps, uint32_t result_caps_cap,
                             uint32_t *result_ncaps);

typedef struct capnp_client {
    capnp_call_fn call;
    void *ctx;
} capnp_client;

/* Buffers one call uses: params are built in params_buf, the result lands
 * in result_buf and is read through result_msg.  caps arrays may be NULL
 * with 0 capacity when no capabilities travel. */
typedef struct capnp_call_bufs {
    void *params_buf;
    size_t params_cap;
    uint32_t *param_caps;
    uint32_t param_caps_cap;
    void *result_buf;
    size_t result_cap;
    uint32_t *result_caps;
    uint32_t result_caps_cap;
} capnp_call_bufs;

/* One call in progress: the builder for the params, the reader of results. */
typedef struct capnp_call {
    const capnp_client *client;
    const capnp_call_bufs *bufs;
    capnp_builder params;
    capnp_msg result;
    uint32_t result_ncaps;
} capnp_call;

/* Start building the params of a call (generated *_start wrappers call it). */
capnp_sbuilder capnp_call_start(capnp_call *c, const capnp_client *client,
                                const capnp_call_bufs *bufs, uint16_t dw,
                                uint16_t pw);
/* Finish params, call the transport, frame-check the result, return root. */
int capnp_call_send(capnp_call *c, uint64_t interface_id, uint16_t method_id,
                    capnp_struct *result_root);

/* What a server dispatch function receives and fills. */
typedef struct capnp_server_call {
    uint64_t interface_id;
    uint16_t method_id;
    const void *params;
    size_t params_len;
    const uint32_t *param_caps;
    uint32_t param_ncaps;
    void *result;           /* result buffer ... */
    size_t result_cap;
    size_t result_len;      /* ... and its length, set by dispatch */
    uint32_t *result_caps;  /* result capability side table */
    uint32_t result_caps_cap;
    uint32_t result_ncaps;  /* set by dispatch */
} capnp_server_call;

#endif
