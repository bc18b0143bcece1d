/*
 * Malformed-message table: each message is wrong in one way and must be
 * rejected with its stable error code.  Messages sit in exactly sized heap
 * buffers and this test is built with AddressSanitizer, so a read past a
 * message fails the run even where the error code happens to be right.
 */
#include "capnp.h"
#include "testutil.h"

enum op {
    OP_VALIDATE,     /* capnp_msg_validate on the whole message */
    OP_TEXT0,        /* root pointer 0 read as Text */
    OP_LIST0_BYTE,   /* root pointer 0 read as List(UInt8) */
    OP_LIST0_STRUCT, /* root pointer 0 read as List(SomeStruct) */
    OP_LIST0_U32,    /* root pointer 0 read as List(UInt32) */
    OP_INDEX5,       /* element 5 of root pointer 0 as List(UInt8) */
    OP_CAP0_TABLE1,  /* root pointer 0 as a capability, side table of 1 */
    OP_LIMIT2,       /* validate with a traversal limit of 2 words */
    OP_NEST1,        /* validate with a nesting limit of 1 */
};

struct bad {
    const char *name;
    enum op op;
    int expect;
    int nbytes; /* -1: all the words */
    int nwords;
    uint64_t w[8];
};

#define E(x) CAPNP_ERR_##x
static const struct bad table[] = {
    { "a valid message (control)", OP_VALIDATE, CAPNP_OK, -1, 4,
      { SEG1(3), P_STRUCT(0, 1, 1), 7, P_LIST(0, CAPNP_ELEM_VOID, 3) } },
    { "empty buffer", OP_VALIDATE, E(SEGMENT_TABLE), 0, 1, { 0 } },
    { "length not a multiple of 8", OP_VALIDATE, E(SEGMENT_TABLE), 12, 2, { SEG1(1), 0 } },
    { "segment count wraps", OP_VALIDATE, E(SEGMENT_TABLE), -1, 2, { 0xffffffffu, 0 } },
    { "too many segments", OP_VALIDATE, E(SEGMENT_TABLE), -1, 2, { 100, 0 } },
    { "segment larger than message", OP_VALIDATE, E(SEGMENT_TABLE), -1, 2, { SEG1(5), 0 } },
    { "bytes after the last segment", OP_VALIDATE, E(SEGMENT_TABLE), -1, 3, { SEG1(1), 0, 0 } },
    { "empty first segment", OP_VALIDATE, E(SEGMENT_TABLE), -1, 1, { SEG1(0) } },
    { "struct pointer past the segment", OP_VALIDATE, E(OUT_OF_BOUNDS), -1, 2,
      { SEG1(1), P_STRUCT(5, 1, 0) } },
    { "struct pointer before the segment", OP_VALIDATE, E(OUT_OF_BOUNDS), -1, 2,
      { SEG1(1), P_STRUCT(-3, 0, 0) } },
    { "struct list pointer past the segment", OP_VALIDATE, E(OUT_OF_BOUNDS), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_LIST(3, CAPNP_ELEM_COMPOSITE, 0) } },
    { "byte list pointer past the segment", OP_VALIDATE, E(OUT_OF_BOUNDS), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_LIST(1, CAPNP_ELEM_BYTE, 0) } },
    { "struct body overruns the segment", OP_VALIDATE, E(OUT_OF_BOUNDS), -1, 3,
      { SEG1(2), P_STRUCT(0, 4, 0), 0 } },
    { "list longer than the segment", OP_VALIDATE, E(LIST_TOO_LONG), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_BYTE, 1000), 0 } },
    { "pointer list longer than the segment", OP_VALIDATE, E(LIST_TOO_LONG), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_POINTER, 2), 0 } },
    { "struct list tag claims more than its words", OP_VALIDATE, E(LIST_TOO_LONG), -1, 6,
      { SEG1(5), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_COMPOSITE, 2), P_TAG(5, 1, 0), 0, 0 } },
    { "struct list words past the segment", OP_VALIDATE, E(LIST_TOO_LONG), -1, 5,
      { SEG1(4), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_COMPOSITE, 9), P_TAG(1, 1, 0), 0 } },
    { "struct list tag is not a struct", OP_VALIDATE, E(POINTER_KIND), -1, 5,
      { SEG1(4), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_COMPOSITE, 1), P_LIST(0, 2, 1), 0 } },
    { "far pointer to a missing segment", OP_VALIDATE, E(FAR_POINTER), -1, 2,
      { SEG1(1), P_FAR(0, 0, 3) } },
    { "far landing pad past its segment", OP_VALIDATE, E(FAR_POINTER), -1, 4,
      { SEGS(2, 1), 1, P_FAR(0, 5, 1), 0 } },
    { "far landing pad is itself far", OP_VALIDATE, E(FAR_POINTER), -1, 4,
      { SEGS(2, 1), 1, P_FAR(0, 0, 1), P_FAR(0, 0, 0) } },
    { "double far pad does not start with a far pointer", OP_VALIDATE, E(FAR_POINTER), -1, 5,
      { SEGS(2, 1), 2, P_FAR(1, 0, 1), P_STRUCT(0, 0, 0), P_STRUCT(0, 0, 0) } },
    { "double far pad cut off by the segment end", OP_VALIDATE, E(FAR_POINTER), -1, 4,
      { SEGS(2, 1), 1, P_FAR(1, 0, 1), P_FAR(0, 0, 0) } },
    { "double far content past its segment", OP_VALIDATE, E(OUT_OF_BOUNDS), -1, 5,
      { SEGS(2, 1), 2, P_FAR(1, 0, 1), P_FAR(0, 9, 1), P_STRUCT(0, 1, 0) } },
    { "struct that points to itself (nesting)", OP_VALIDATE, E(NESTING), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_STRUCT(-1, 0, 1) } },
    { "nesting limit 1, depth 2", OP_NEST1, E(NESTING), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_STRUCT(0, 1, 0), 0 } },
    { "huge void list (traversal amplification)", OP_VALIDATE, E(TRAVERSAL), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_VOID, 0x1fffffff) } },
    { "huge list of empty structs (traversal)", OP_VALIDATE, E(TRAVERSAL), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_COMPOSITE, 0), P_TAG(0x3fffffff, 0, 0) } },
    { "traversal limit 2, struct of 3 words", OP_LIMIT2, E(TRAVERSAL), -1, 5,
      { SEG1(4), P_STRUCT(0, 3, 0), 0, 0, 0 } },
    { "capability pointer with reserved bits", OP_VALIDATE, E(POINTER_KIND), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_CAP(1) | 0x40 } },
    { "capability index past the side table", OP_CAP0_TABLE1, E(CAP_INDEX), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_CAP(5) } },
    { "text without its NUL", OP_TEXT0, E(TEXT), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_BYTE, 3), 0x636261 } },
    { "text that is a list of words", OP_TEXT0, E(ELEMENT_SIZE), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_EIGHT, 1), 0 } },
    { "struct where a list is expected", OP_LIST0_BYTE, E(POINTER_KIND), -1, 3,
      { SEG1(2), P_STRUCT(0, 0, 1), P_STRUCT(-1, 0, 0) } },
    { "root that is a list, not a struct", OP_VALIDATE, E(POINTER_KIND), -1, 3,
      { SEG1(2), P_LIST(0, CAPNP_ELEM_BYTE, 0), 0 } },
    { "bit list where a struct list is expected", OP_LIST0_STRUCT, E(ELEMENT_SIZE), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_BIT, 3), 0 } },
    { "byte list where a UInt32 list is expected", OP_LIST0_U32, E(ELEMENT_SIZE), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_BYTE, 3), 0 } },
    { "list index out of range", OP_INDEX5, E(INDEX), -1, 4,
      { SEG1(3), P_STRUCT(0, 0, 1), P_LIST(0, CAPNP_ELEM_BYTE, 2), 0 } },
};

static int run(const struct bad *c)
{
    size_t n = c->nbytes < 0 ? (size_t)c->nwords * 8 : (size_t)c->nbytes;
    uint8_t *p = le_words(c->w, (size_t)c->nwords);
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, p, n);
    free(p);
    capnp_msg m;
    uint32_t caps[1] = { 0 };
    int e = capnp_msg_init(&m, exact, n);
    if (e == CAPNP_OK) {
        capnp_struct r;
        switch (c->op) {
        case OP_VALIDATE:
            capnp_msg_validate(&m);
            break;
        case OP_LIMIT2:
            capnp_msg_set_limits(&m, 2, CAPNP_DEFAULT_NESTING);
            capnp_msg_validate(&m);
            break;
        case OP_NEST1:
            capnp_msg_set_limits(&m, CAPNP_DEFAULT_TRAVERSAL_WORDS, 1);
            capnp_msg_validate(&m);
            break;
        case OP_TEXT0:
            capnp_get_text(capnp_msg_root(&m), 0);
            break;
        case OP_LIST0_BYTE:
            capnp_get_list(capnp_msg_root(&m), 0, CAPNP_ELEM_BYTE);
            break;
        case OP_LIST0_STRUCT:
            capnp_get_list(capnp_msg_root(&m), 0, CAPNP_ELEM_COMPOSITE);
            break;
        case OP_LIST0_U32:
            capnp_get_list(capnp_msg_root(&m), 0, CAPNP_ELEM_FOUR);
            break;
        case OP_INDEX5:
            r = capnp_msg_root(&m);
            capnp_list_u8(capnp_get_list(r, 0, CAPNP_ELEM_BYTE), 5);
            break;
        case OP_CAP0_TABLE1:
            capnp_msg_set_caps(&m, caps, 1);
            capnp_get_cap(capnp_msg_root(&m), 0);
            break;
        }
        e = m.err;
    }
    free(exact);
    if (e != c->expect)
        fprintf(stderr, "%s: got %d (%s), want %d (%s)\n", c->name, e,
                capnp_strerror(e), c->expect, capnp_strerror(c->expect));
    else
        printf("ok   %-50s %s\n", c->name, capnp_strerror(e));
    return e == c->expect;
}

int main(void)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        EXPECT(run(&table[i]));
    T_SUMMARY("capnp-malformed");
}
