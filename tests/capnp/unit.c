/*
 * Unit tests of lib/capnp through its own API: builder output read back,
 * a full builder buffer, hand-made multi-segment messages (single and
 * double far pointers, padded segment table), list upgrades, capability
 * side tables, and misuse of the builder.
 */
#include "capnp.h"
#include "testutil.h"

static int text_eq(capnp_text t, const char *s)
{
    return t.len == strlen(s) && memcmp(t.str, s, t.len) == 0 && t.str[t.len] == 0;
}

/* A message exercising every builder call; returns its framed length. */
static int build_sample(capnp_builder *b)
{
    capnp_sbuilder r = capnp_builder_root(b, 2, 4);
    capnp_set_u8(r, 0, 0xab);
    capnp_set_u16(r, 2, 0xbeef);
    capnp_set_u32(r, 4, 0xdeadbeef);
    capnp_set_u64(r, 8, 0x0123456789abcdefull);
    capnp_set_bool(r, 9, true);
    capnp_sbuilder in = capnp_init_struct(r, 0, 1, 1);
    capnp_set_u64(in, 0, 42);
    capnp_set_text(in, 0, "inner", 5);
    capnp_lbuilder l = capnp_init_list(r, 1, CAPNP_ELEM_FOUR, 3);
    for (uint32_t i = 0; i < 3; i++)
        capnp_lset_u32(l, i, 100 + i);
    capnp_lbuilder sl = capnp_init_struct_list(r, 2, 2, 1, 0);
    capnp_set_u32(capnp_lget_struct(sl, 0), 0, 7);
    capnp_set_u32(capnp_lget_struct(sl, 1), 0, 8);
    capnp_set_cap(r, 3, capnp_builder_add_cap(b, 555));
    size_t len;
    return capnp_builder_finish(b, &len) == CAPNP_OK ? (int)len : -1;
}

static void test_build_read(void)
{
    uint8_t buf[512];
    uint32_t caps[2];
    capnp_builder b;
    capnp_builder_init(&b, buf, sizeof buf);
    capnp_builder_set_caps(&b, caps, 2);
    int len = build_sample(&b);
    EXPECT(len > 0);
    EXPECT(b.ncaps == 1 && caps[0] == 555);

    capnp_msg m;
    EXPECT(capnp_msg_init(&m, buf, (size_t)len) == CAPNP_OK);
    capnp_msg_set_caps(&m, caps, b.ncaps);
    EXPECT(capnp_msg_validate(&m) == CAPNP_OK);
    capnp_struct r = capnp_msg_root(&m);
    EXPECT(capnp_get_u8(r, 0) == 0xab);
    EXPECT(capnp_get_u16(r, 2) == 0xbeef);
    EXPECT(capnp_get_u32(r, 4) == 0xdeadbeef);
    /* the bool at bit 9 lives in byte 1, next to the u8 */
    EXPECT(capnp_get_bool(r, 9) && !capnp_get_bool(r, 8));
    EXPECT(capnp_get_u64(r, 8) == 0x0123456789abcdefull);
    /* beyond the data section: zero, not an error */
    EXPECT(capnp_get_u64(r, 16) == 0 && capnp_get_u32(r, 1000) == 0);
    capnp_struct in = capnp_get_struct(r, 0);
    EXPECT(capnp_get_u64(in, 0) == 42 && text_eq(capnp_get_text(in, 0), "inner"));
    capnp_list l = capnp_get_list(r, 1, CAPNP_ELEM_FOUR);
    EXPECT(l.count == 3 && capnp_list_u32(l, 2) == 102);
    capnp_list sl = capnp_get_list(r, 2, CAPNP_ELEM_COMPOSITE);
    EXPECT(sl.count == 2 && capnp_get_u32(capnp_list_struct(sl, 1), 0) == 8);
    /* a struct list stands in for a list of its first field (upgrade rule) */
    capnp_list up = capnp_get_list(r, 2, CAPNP_ELEM_FOUR);
    EXPECT(up.count == 2 && capnp_list_u32(up, 0) == 7);
    uint32_t ci = capnp_get_cap(r, 3);
    EXPECT(ci == 0 && caps[ci] == 555);
    /* pointer beyond the pointer section: null */
    EXPECT(!capnp_has_ptr(r, 9) && capnp_get_cap(r, 9) == CAPNP_NO_CAP);
    EXPECT(m.err == CAPNP_OK);
}

/* The builder never writes past its buffer and says when it is full. */
static void test_builder_full(void)
{
    uint8_t big[512];
    capnp_builder b;
    uint32_t caps[1];
    capnp_builder_init(&b, big, sizeof big);
    capnp_builder_set_caps(&b, caps, 1);
    int need = build_sample(&b);
    EXPECT(need > 0);
    int ok_sizes = 0, full_sizes = 0, overrun = 0;
    for (int size = 0; size <= need + 16; size++) {
        uint8_t buf[600];
        memset(buf, 0x5a, sizeof buf);
        capnp_builder_init(&b, buf, (size_t)size);
        capnp_builder_set_caps(&b, caps, 1);
        int len = build_sample(&b);
        if (len == need)
            ok_sizes++;
        else if (len < 0 && b.err == CAPNP_ERR_NO_SPACE)
            full_sizes++;
        for (size_t i = (size_t)size; i < sizeof buf; i++)
            if (buf[i] != 0x5a)
                overrun++;
    }
    EXPECT(full_sizes == need);   /* every size below need fails cleanly */
    EXPECT(ok_sizes == 17);       /* every size from need up succeeds */
    EXPECT(overrun == 0);
}

static void test_builder_misuse(void)
{
    uint8_t buf[128];
    capnp_builder b;
    size_t len;
    capnp_builder_init(&b, buf, sizeof buf);
    capnp_sbuilder r = capnp_builder_root(&b, 1, 1);
    capnp_set_u64(r, 8, 1); /* past the one data word */
    EXPECT(capnp_builder_finish(&b, &len) == CAPNP_ERR_INVALID && len == 0);

    capnp_builder_init(&b, buf, sizeof buf);
    r = capnp_builder_root(&b, 1, 1);
    capnp_set_text(r, 1, "x", 1); /* no pointer 1 */
    EXPECT(capnp_builder_finish(&b, &len) == CAPNP_ERR_INVALID);

    capnp_builder_init(&b, buf, sizeof buf);
    r = capnp_builder_root(&b, 0, 1);
    capnp_lbuilder l = capnp_init_list(r, 0, CAPNP_ELEM_TWO, 2);
    capnp_lset_u32(l, 0, 1); /* wrong element width */
    EXPECT(capnp_builder_finish(&b, &len) == CAPNP_ERR_INVALID);

    capnp_builder_init(&b, buf, sizeof buf);
    EXPECT(capnp_builder_add_cap(&b, 1) == CAPNP_NO_CAP); /* no cap table */
    EXPECT(capnp_builder_finish(&b, &len) == CAPNP_ERR_NO_SPACE);

    EXPECT(capnp_builder_init(&b, buf, 8) == CAPNP_ERR_NO_SPACE);
}

/* Root in segment 0 reaches its struct in segment 1 through a single far
 * pointer; the segment table of 2 segments carries 4 bytes of padding. */
static void test_single_far(void)
{
    const uint64_t w[] = {
        SEGS(2, 1), 2,                 /* sizes 1 and 2, then padding */
        P_FAR(0, 0, 1),                /* seg 0: root -> pad at seg 1 word 0 */
        P_STRUCT(0, 1, 0), 0x1122334455667788ull, /* seg 1: pad, struct */
    };
    uint8_t *p = le_words(w, 5);
    capnp_msg m;
    EXPECT(capnp_msg_init(&m, p, 40) == CAPNP_OK && m.nsegs == 2);
    EXPECT(capnp_msg_validate(&m) == CAPNP_OK);
    EXPECT(capnp_get_u64(capnp_msg_root(&m), 0) == 0x1122334455667788ull);
    free(p);
}

/* A double far pointer: the pad is a far pointer to the content plus a tag. */
static void test_double_far(void)
{
    const uint64_t w[] = {
        SEGS(3, 1) , 2 | ((uint64_t)4 << 32), /* sizes 1, 2, 4 */
        P_FAR(1, 0, 1),                        /* seg 0: root, double far */
        P_FAR(0, 0, 2), P_STRUCT(0, 1, 1),     /* seg 1: pad + tag */
        42, P_LIST(0, CAPNP_ELEM_BYTE, 3), 0x6968 /* "hi\0" */, 0, /* seg 2 */
    };
    uint8_t *p = le_words(w, 9);
    capnp_msg m;
    EXPECT(capnp_msg_init(&m, p, 72) == CAPNP_OK && m.nsegs == 3);
    EXPECT(capnp_msg_validate(&m) == CAPNP_OK);
    capnp_struct r = capnp_msg_root(&m);
    EXPECT(capnp_get_u64(r, 0) == 42);
    EXPECT(text_eq(capnp_get_text(r, 0), "hi"));
    EXPECT(m.err == CAPNP_OK);
    free(p);
}

static void test_init_segments(void)
{
    uint64_t s0[1], s1[2];
    const uint64_t w0[] = { P_FAR(0, 0, 1) };
    const uint64_t w1[] = { P_STRUCT(0, 1, 0), 99 };
    uint8_t *a = le_words(w0, 1), *b = le_words(w1, 2);
    memcpy(s0, a, 8);
    memcpy(s1, b, 16);
    const void *segs[2] = { s0, s1 };
    const uint32_t words[2] = { 1, 2 };
    capnp_msg m;
    EXPECT(capnp_msg_init_segments(&m, segs, words, 2) == CAPNP_OK);
    EXPECT(capnp_get_u64(capnp_msg_root(&m), 0) == 99);
    EXPECT(capnp_msg_init_segments(&m, segs, words, 0) == CAPNP_ERR_SEGMENT_TABLE);
    free(a);
    free(b);
}

/* An empty struct is encoded as present (offset -1), not as null. */
static void test_empty_struct(void)
{
    uint8_t buf[64];
    capnp_builder b;
    size_t len;
    capnp_builder_init(&b, buf, sizeof buf);
    capnp_sbuilder r = capnp_builder_root(&b, 0, 1);
    capnp_init_struct(r, 0, 0, 0);
    EXPECT(capnp_builder_finish(&b, &len) == CAPNP_OK && len == 24);
    capnp_msg m;
    EXPECT(capnp_msg_init(&m, buf, len) == CAPNP_OK);
    EXPECT(capnp_msg_validate(&m) == CAPNP_OK);
    capnp_struct root = capnp_msg_root(&m);
    EXPECT(root.nptrs == 1 && capnp_has_ptr(root, 0));
    EXPECT(capnp_get_struct(root, 0).data_bytes == 0 && m.err == CAPNP_OK);
}

/* capnp_copy_*: every kind of object (struct, primitive, bit, pointer and
 * composite lists, text, data, caps, a far-pointed source) reads back the
 * same from the copy; a small buffer and a bad source fail cleanly. */
static void test_copy(void)
{
    uint8_t src[1024], dst[1024];
    uint32_t caps[2] = { 7, 9 };
    capnp_builder b;
    size_t len;
    capnp_builder_init(&b, src, sizeof src);
    capnp_builder_set_caps(&b, caps, 2);
    capnp_sbuilder r = capnp_builder_root(&b, 1, 7);
    capnp_set_u64(r, 0, 0xabcdef);
    capnp_set_text(r, 0, "text", 4);
    capnp_set_data(r, 1, "\1\2\3", 3);
    capnp_lbuilder u16 = capnp_init_list(r, 2, CAPNP_ELEM_TWO, 3);
    capnp_lset_u16(u16, 2, 515);
    capnp_lbuilder bits = capnp_init_list(r, 3, CAPNP_ELEM_BIT, 10);
    capnp_lset_bool(bits, 9, true);
    capnp_lbuilder ptrs = capnp_init_list(r, 4, CAPNP_ELEM_POINTER, 2);
    capnp_lset_text(ptrs, 1, "second", 6);
    capnp_lbuilder comp = capnp_init_struct_list(r, 5, 2, 1, 1);
    capnp_set_u32(capnp_lget_struct(comp, 1), 0, 77);
    capnp_set_cap(capnp_lget_struct(comp, 1), 0, capnp_builder_add_cap(&b, 5));
    capnp_sbuilder in = capnp_init_struct(r, 6, 1, 0);
    capnp_set_u8(in, 0, 3);
    EXPECT(capnp_builder_finish(&b, &len) == CAPNP_OK);

    capnp_msg m;
    capnp_msg_init(&m, src, len);
    capnp_builder_init(&b, dst, sizeof dst);
    EXPECT(capnp_copy_ptr_to_root(&b, capnp_msg_root_holder(&m), 0) == CAPNP_OK);
    size_t dlen;
    EXPECT(capnp_builder_finish(&b, &dlen) == CAPNP_OK && dlen == len);
    capnp_msg c;
    capnp_msg_init(&c, dst, dlen);
    EXPECT(capnp_msg_validate(&c) == CAPNP_OK);
    capnp_struct cr = capnp_msg_root(&c);
    EXPECT(capnp_get_u64(cr, 0) == 0xabcdef);
    EXPECT(text_eq(capnp_get_text(cr, 0), "text"));
    EXPECT(capnp_get_data(cr, 1).len == 3 && capnp_get_data(cr, 1).ptr[2] == 3);
    EXPECT(capnp_list_u16(capnp_get_list(cr, 2, CAPNP_ELEM_TWO), 2) == 515);
    EXPECT(capnp_list_bool(capnp_get_list(cr, 3, CAPNP_ELEM_BIT), 9));
    EXPECT(text_eq(capnp_list_text(capnp_get_list(cr, 4, CAPNP_ELEM_POINTER), 1), "second"));
    capnp_struct e1 = capnp_list_struct(capnp_get_list(cr, 5, CAPNP_ELEM_COMPOSITE), 1);
    EXPECT(capnp_get_u32(e1, 0) == 77 && capnp_get_cap(e1, 0) == 0);
    EXPECT(capnp_get_u8(capnp_get_struct(cr, 6), 0) == 3);
    EXPECT(capnp_ptr_kind(cr, 6) == CAPNP_KIND_STRUCT && capnp_ptr_kind(cr, 2) == CAPNP_KIND_LIST);
    EXPECT(capnp_ptr_kind(e1, 0) == CAPNP_KIND_CAP && capnp_ptr_kind(cr, 9) == CAPNP_KIND_NULL);
    EXPECT(c.err == CAPNP_OK);

    /* into a field, and the root struct itself into a field */
    capnp_builder_init(&b, dst, sizeof dst);
    capnp_sbuilder w = capnp_builder_root(&b, 0, 2);
    EXPECT(capnp_copy_ptr(w, 0, capnp_msg_root(&m), 4) == CAPNP_OK);
    EXPECT(capnp_copy_struct(w, 1, capnp_msg_root(&m)) == CAPNP_OK);
    EXPECT(capnp_copy_ptr(w, 2, capnp_msg_root(&m), 0) == CAPNP_ERR_INVALID);
    capnp_builder_init(&b, dst, sizeof dst);
    w = capnp_builder_root(&b, 0, 2);
    EXPECT(capnp_copy_ptr(w, 0, capnp_msg_root(&m), 40) == CAPNP_OK); /* no such field: null */
    EXPECT(capnp_builder_finish(&b, &dlen) == CAPNP_OK);

    /* a buffer too small at every size fails, never overruns */
    for (size_t n = 8; n < len; n += 8) {
        uint8_t *small = malloc(n);
        capnp_builder_init(&b, small, n);
        capnp_msg_init(&m, src, len);
        EXPECT(capnp_copy_ptr_to_root(&b, capnp_msg_root_holder(&m), 0) == CAPNP_ERR_NO_SPACE);
        free(small);
    }
    /* a bad source: its error, recorded in the source */
    const uint64_t bad[] = { SEGS(1, 2), P_STRUCT(0, 0, 1), P_STRUCT(5, 1, 0) };
    uint8_t *p = le_words(bad, 3);
    capnp_msg_init(&m, p, 24);
    capnp_builder_init(&b, dst, sizeof dst);
    EXPECT(capnp_copy_ptr_to_root(&b, capnp_msg_root_holder(&m), 0) == CAPNP_ERR_OUT_OF_BOUNDS);
    EXPECT(capnp_ptr_kind(capnp_msg_root(&m), 0) == CAPNP_KIND_NULL); /* out of bounds */
    free(p);
    /* a far-pointed source (single far) copies as a near one */
    const uint64_t far[] = { SEGS(2, 1), 2, P_FAR(0, 0, 1), P_STRUCT(0, 1, 0), 0x55 };
    p = le_words(far, 5);
    capnp_msg_init(&m, p, 40);
    capnp_builder_init(&b, dst, sizeof dst);
    EXPECT(capnp_copy_ptr_to_root(&b, capnp_msg_root_holder(&m), 0) == CAPNP_OK);
    EXPECT(capnp_builder_finish(&b, &dlen) == CAPNP_OK);
    capnp_msg_init(&c, dst, dlen);
    EXPECT(capnp_get_u64(capnp_msg_root(&c), 0) == 0x55);
    free(p);
    /* an empty message has no root holder */
    capnp_msg_init_segments(&m, 0, 0, 0);
    EXPECT(capnp_msg_root_holder(&m).nptrs == 0 && m.err == CAPNP_ERR_SEGMENT_TABLE);
}

static void test_strerror(void)
{
    int named = 0;
    for (int e = 0; e <= CAPNP_ERR_TRANSPORT; e++)
        named += strcmp(capnp_strerror(e), "unknown") != 0;
    EXPECT(named == CAPNP_ERR_TRANSPORT + 1);
    EXPECT(strcmp(capnp_strerror(9999), "unknown") == 0);
}

/* Text and data are written once (their words are not zeroed first): in a
 * buffer full of old bytes the message comes out byte for byte as in a
 * zeroed one, padding and text's NUL included, for every length 0..17. */
static void test_blob_padding_over_old_bytes(void)
{
    for (size_t n = 0; n <= 17; n++) {
        uint8_t clean[256], dirty[256], blob[17];
        memset(clean, 0, sizeof clean);
        memset(dirty, 0xa5, sizeof dirty);
        for (size_t i = 0; i < n; i++)
            blob[i] = (uint8_t)(0x30 + i);
        size_t lc, ld;
        uint8_t *bufs[2] = { clean, dirty };
        size_t *lens[2] = { &lc, &ld };
        for (int k = 0; k < 2; k++) {
            capnp_builder b;
            capnp_builder_init(&b, bufs[k], sizeof clean);
            capnp_sbuilder r = capnp_builder_root(&b, 0, 3);
            capnp_set_data(r, 0, blob, n);
            capnp_set_text(r, 1, (const char *)blob, n);
            capnp_lset_data(capnp_init_list(r, 2, CAPNP_ELEM_POINTER, 1), 0, blob, n);
            EXPECT(capnp_builder_finish(&b, lens[k]) == CAPNP_OK);
        }
        EXPECT(lc == ld && memcmp(clean, dirty, lc) == 0);
    }
}

int main(void)
{
    test_build_read();
    test_builder_full();
    test_builder_misuse();
    test_single_far();
    test_double_far();
    test_init_segments();
    test_empty_struct();
    test_copy();
    test_strerror();
    test_blob_padding_over_old_bytes();
    T_SUMMARY("capnp-unit");
}
