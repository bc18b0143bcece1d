/*
 * Round-trip table against the reference tool.  Each case has the text the
 * reference prints (`capnp decode --short`), a function that builds the same
 * value with our generated builders, and a function that checks the value
 * with our generated readers.  roundtrip.py drives both directions:
 *
 *   ./roundtrip encode NAME | capnp decode --short   must print the text
 *   capnp encode < text | ./roundtrip check NAME     must pass the checks
 *
 *   ./roundtrip list      prints "NAME<TAB>ROOT<TAB>TEXT" for every case
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capnp.h"
#include "test.capnp.h"

static int failures;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static int text_is(capnp_text t, const char *s)
{
    return t.len == strlen(s) && memcmp(t.str, s, t.len) == 0 && t.str[t.len] == 0;
}

static int data_is(capnp_data d, const void *p, size_t n)
{
    return d.len == n && (n == 0 || memcmp(d.ptr, p, n) == 0);
}

#define ZERO_SCALARS "b = false, i8 = 0, i16 = 0, i32 = 0, i64 = 0, u8 = 0, " \
    "u16 = 0, u32 = 0, u64 = 0, f32 = 0, f64 = 0, color = red"
#define ZERO_TAIL "grp = (x = 0, y = 0), choice = (small = 0)"

/* ------------------------------------------------------------ all_zero */
static void b_all_zero(capnp_builder *b) { test_All_init_root(b); }
static void c_all_zero(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    CHECK(!test_All_get_b(r) && test_All_get_i8(r) == 0 && test_All_get_u64(r) == 0);
    CHECK(test_All_get_f64(r) == 0 && test_All_get_color(r) == test_Color_red);
    CHECK(!test_All_has_text(r) && test_All_get_text(r).len == 0);
    CHECK(test_All_get_u16List(r).count == 0 && !test_All_has_inner(r));
    CHECK(test_All_get_inner(r).s.data_bytes == 0);
    CHECK(test_All_which(r) == test_All_which_none);
    CHECK(test_All_choice_which(test_All_get_choice(r)) == test_All_choice_which_small);
}

/* --------------------------------------------------------- all_scalars */
static void b_all_scalars(capnp_builder *b)
{
    test_All_builder a = test_All_init_root(b);
    test_All_set_b(a, true);
    test_All_set_i8(a, -128);
    test_All_set_i16(a, -32768);
    test_All_set_i32(a, INT32_MIN);
    test_All_set_i64(a, INT64_MIN);
    test_All_set_u8(a, 255);
    test_All_set_u16(a, 65535);
    test_All_set_u32(a, 4294967295u);
    test_All_set_u64(a, UINT64_MAX);
    test_All_set_f32(a, -0.5f);
    test_All_set_f64(a, -1234.5678);
    test_All_set_color(a, test_Color_blue);
    test_All_set_num(a, 77);
    test_All_grp_builder g = test_All_init_grp(a);
    test_All_grp_set_x(g, -1);
    test_All_grp_set_y(g, 2);
    test_All_choice_set_big(test_All_init_choice(a), 1ull << 40);
}
static void c_all_scalars(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    CHECK(test_All_get_b(r));
    CHECK(test_All_get_i8(r) == -128);
    CHECK(test_All_get_i16(r) == -32768);
    CHECK(test_All_get_i32(r) == INT32_MIN);
    CHECK(test_All_get_i64(r) == INT64_MIN);
    CHECK(test_All_get_u8(r) == 255);
    CHECK(test_All_get_u16(r) == 65535);
    CHECK(test_All_get_u32(r) == 4294967295u);
    CHECK(test_All_get_u64(r) == UINT64_MAX);
    CHECK(test_All_get_f32(r) == -0.5f);
    CHECK(test_All_get_f64(r) == -1234.5678);
    CHECK(test_All_get_color(r) == test_Color_blue);
    CHECK(test_All_which(r) == test_All_which_num && test_All_get_num(r) == 77);
    CHECK(test_All_grp_get_x(test_All_get_grp(r)) == -1);
    CHECK(test_All_grp_get_y(test_All_get_grp(r)) == 2);
    test_All_choice_reader ch = test_All_get_choice(r);
    CHECK(test_All_choice_which(ch) == test_All_choice_which_big);
    CHECK(test_All_choice_get_big(ch) == 1ull << 40);
}

/* -------------------------------------------------------- all_pointers */
static const uint8_t bin[] = { 0, 1, 255 };
static void b_all_pointers(capnp_builder *b)
{
    test_All_builder a = test_All_init_root(b);
    const char *t = "a \"q\" \\ \n\t";
    test_All_set_text(a, t, strlen(t));
    test_All_set_data(a, bin, sizeof bin);
    test_Inner_builder in = test_All_init_inner(a);
    test_Inner_set_id(in, 7);
    test_Inner_set_name(in, "seven", 5);
    capnp_lbuilder l = test_All_init_u16List(a, 3);
    capnp_lset_u16(l, 0, 1);
    capnp_lset_u16(l, 1, 500);
    capnp_lset_u16(l, 2, 65535);
    l = test_All_init_i64List(a, 2);
    capnp_lset_u64(l, 0, (uint64_t)-1);
    capnp_lset_u64(l, 1, 1ull << 62);
    l = test_All_init_boolList(a, 3);
    capnp_lset_bool(l, 0, true);
    capnp_lset_bool(l, 2, true);
    l = test_All_init_textList(a, 2);
    capnp_lset_text(l, 0, "x", 1);
    capnp_lset_text(l, 1, "", 0);
    l = test_All_init_innerList(a, 2);
    test_Inner_set_id(test_Inner_list_at(l, 0), 1);
    test_Inner_set_name(test_Inner_list_at(l, 0), "a", 1);
    test_Inner_set_id(test_Inner_list_at(l, 1), 2);
    l = test_All_init_colorList(a, 2);
    capnp_lset_u16(l, 0, test_Color_green);
    capnp_lset_u16(l, 1, test_Color_blue);
    l = test_All_init_dataList(a, 1);
    capnp_lset_data(l, 0, bin, 2);
    l = test_All_init_f64List(a, 2);
    union { double d; uint64_t u; } f = { .d = 0.25 };
    capnp_lset_u64(l, 0, f.u);
    f.d = -1e100;
    capnp_lset_u64(l, 1, f.u);
    l = test_All_init_listList(a, 3);
    capnp_lbuilder e = capnp_linit_list(l, 0, CAPNP_ELEM_FOUR, 1);
    capnp_lset_u32(e, 0, 1);
    capnp_linit_list(l, 1, CAPNP_ELEM_FOUR, 0);
    e = capnp_linit_list(l, 2, CAPNP_ELEM_FOUR, 2);
    capnp_lset_u32(e, 0, 2);
    capnp_lset_u32(e, 1, 3);
    test_All_set_word(a, "w", 1);
}
static void c_all_pointers(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    CHECK(text_is(test_All_get_text(r), "a \"q\" \\ \n\t"));
    CHECK(data_is(test_All_get_data(r), bin, sizeof bin));
    test_Inner_reader in = test_All_get_inner(r);
    CHECK(test_Inner_get_id(in) == 7 && text_is(test_Inner_get_name(in), "seven"));
    capnp_list l = test_All_get_u16List(r);
    CHECK(l.count == 3 && capnp_list_u16(l, 0) == 1 && capnp_list_u16(l, 1) == 500 &&
          capnp_list_u16(l, 2) == 65535);
    l = test_All_get_i64List(r);
    CHECK(l.count == 2 && (int64_t)capnp_list_u64(l, 0) == -1 &&
          capnp_list_u64(l, 1) == 1ull << 62);
    l = test_All_get_boolList(r);
    CHECK(l.count == 3 && capnp_list_bool(l, 0) && !capnp_list_bool(l, 1) &&
          capnp_list_bool(l, 2));
    l = test_All_get_textList(r);
    CHECK(l.count == 2 && text_is(capnp_list_text(l, 0), "x") &&
          text_is(capnp_list_text(l, 1), ""));
    l = test_All_get_innerList(r);
    CHECK(l.count == 2);
    CHECK(test_Inner_get_id(test_Inner_list_get(l, 0)) == 1);
    CHECK(text_is(test_Inner_get_name(test_Inner_list_get(l, 0)), "a"));
    CHECK(test_Inner_get_id(test_Inner_list_get(l, 1)) == 2);
    CHECK(!test_Inner_has_name(test_Inner_list_get(l, 1)));
    l = test_All_get_colorList(r);
    CHECK(l.count == 2 && capnp_list_u16(l, 0) == test_Color_green &&
          capnp_list_u16(l, 1) == test_Color_blue);
    l = test_All_get_dataList(r);
    CHECK(l.count == 1 && data_is(capnp_list_data(l, 0), bin, 2));
    l = test_All_get_f64List(r);
    union { double d; uint64_t u; } f;
    CHECK(l.count == 2);
    f.u = capnp_list_u64(l, 0);
    CHECK(f.d == 0.25);
    f.u = capnp_list_u64(l, 1);
    CHECK(f.d == -1e100);
    l = test_All_get_listList(r);
    CHECK(l.count == 3);
    capnp_list e = capnp_list_list(l, 0, CAPNP_ELEM_FOUR);
    CHECK(e.count == 1 && capnp_list_u32(e, 0) == 1);
    CHECK(capnp_list_list(l, 1, CAPNP_ELEM_FOUR).count == 0);
    e = capnp_list_list(l, 2, CAPNP_ELEM_FOUR);
    CHECK(e.count == 2 && capnp_list_u32(e, 0) == 2 && capnp_list_u32(e, 1) == 3);
    CHECK(test_All_which(r) == test_All_which_word && text_is(test_All_get_word(r), "w"));
}

/* ----------------------------------------------------------- union_sub */
static void b_union_sub(capnp_builder *b)
{
    test_All_builder a = test_All_init_root(b);
    test_All_set_num(a, 5); /* then switch member: the last one set wins */
    test_Inner_set_id(test_All_init_sub(a), 1);
}
static void c_union_sub(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    CHECK(test_All_which(r) == test_All_which_sub);
    CHECK(test_Inner_get_id(test_All_get_sub(r)) == 1);
}

/* ------------------------------------------------------ empty_lists */
static void b_empty_lists(capnp_builder *b)
{
    test_All_builder a = test_All_init_root(b);
    test_All_init_u16List(a, 0);
    test_All_init_textList(a, 0);
    test_All_init_innerList(a, 0);
    test_All_set_text(a, "", 0);
    test_All_set_data(a, "", 0);
}
static void c_empty_lists(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    CHECK(test_All_has_u16List(r) && test_All_get_u16List(r).count == 0);
    CHECK(test_All_has_textList(r) && test_All_get_textList(r).count == 0);
    CHECK(test_All_has_innerList(r) && test_All_get_innerList(r).count == 0);
    CHECK(test_All_has_text(r) && text_is(test_All_get_text(r), ""));
    CHECK(test_All_has_data(r) && test_All_get_data(r).len == 0);
    CHECK(!test_All_has_boolList(r));
}

/* ---------------------------------------------------- defaults_unset */
static void b_defaults_unset(capnp_builder *b) { test_Defaults_init_root(b); }
static void c_defaults_unset(capnp_msg *m)
{
    test_Defaults_reader r = test_Defaults_read_root(m);
    CHECK(test_Defaults_get_b(r) == true);
    CHECK(test_Defaults_get_i8(r) == -5);
    CHECK(test_Defaults_get_i16(r) == -300);
    CHECK(test_Defaults_get_i32(r) == 123456);
    CHECK(test_Defaults_get_i64(r) == -9000000000ll);
    CHECK(test_Defaults_get_u8(r) == 200);
    CHECK(test_Defaults_get_u16(r) == 60000);
    CHECK(test_Defaults_get_u32(r) == 4000000000u);
    CHECK(test_Defaults_get_u64(r) == 18000000000000000000ull);
    CHECK(test_Defaults_get_f32(r) == 1.5f);
    CHECK(test_Defaults_get_f64(r) == -2.25);
    CHECK(test_Defaults_get_color(r) == test_Color_blue);
    CHECK(!test_Defaults_has_text(r) && text_is(test_Defaults_get_text(r), "hello"));
    CHECK(data_is(test_Defaults_get_data(r), "\xde\xad", 2));
}

/* -------------------------------------------------- defaults_flipped */
static void b_defaults_flipped(capnp_builder *b)
{
    test_Defaults_builder d = test_Defaults_init_root(b);
    test_Defaults_set_b(d, false);
    test_Defaults_set_i8(d, 0);
    test_Defaults_set_i16(d, 1);
    test_Defaults_set_i32(d, 0);
    test_Defaults_set_i64(d, 0);
    test_Defaults_set_u8(d, 0);
    test_Defaults_set_u16(d, 0);
    test_Defaults_set_u32(d, 0);
    test_Defaults_set_u64(d, 0);
    test_Defaults_set_f32(d, 0);
    test_Defaults_set_f64(d, 0.5);
    test_Defaults_set_color(d, test_Color_red);
    test_Defaults_set_text(d, "", 0);
    test_Defaults_set_data(d, "x", 1);
}
static void c_defaults_flipped(capnp_msg *m)
{
    test_Defaults_reader r = test_Defaults_read_root(m);
    CHECK(test_Defaults_get_b(r) == false);
    CHECK(test_Defaults_get_i8(r) == 0);
    CHECK(test_Defaults_get_i16(r) == 1);
    CHECK(test_Defaults_get_i32(r) == 0);
    CHECK(test_Defaults_get_i64(r) == 0);
    CHECK(test_Defaults_get_u8(r) == 0);
    CHECK(test_Defaults_get_u16(r) == 0);
    CHECK(test_Defaults_get_u32(r) == 0);
    CHECK(test_Defaults_get_u64(r) == 0);
    CHECK(test_Defaults_get_f32(r) == 0);
    CHECK(test_Defaults_get_f64(r) == 0.5);
    CHECK(test_Defaults_get_color(r) == test_Color_red);
    CHECK(test_Defaults_has_text(r) && text_is(test_Defaults_get_text(r), ""));
    CHECK(data_is(test_Defaults_get_data(r), "x", 1));
}

/* ------------------------------------------------------------- big
 * Large enough that the reference tool's encoder spills into a second
 * segment and reaches it through a far pointer. */
#define BIG_N 400
#define BIG_WORD "0123456789abcdef0123456789abcdef"
static void b_big(capnp_builder *b)
{
    test_All_builder a = test_All_init_root(b);
    capnp_lbuilder l = test_All_init_textList(a, BIG_N);
    for (uint32_t i = 0; i < BIG_N; i++)
        capnp_lset_text(l, i, BIG_WORD, strlen(BIG_WORD));
    test_All_set_u32(a, 99);
}
static void c_big(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    capnp_list l = test_All_get_textList(r);
    CHECK(l.count == BIG_N);
    for (uint32_t i = 0; i < l.count; i++)
        if (!text_is(capnp_list_text(l, i), BIG_WORD)) {
            CHECK(!"big: element differs");
            break;
        }
    CHECK(test_All_get_u32(r) == 99);
}
static char big_text[BIG_N * (sizeof BIG_WORD + 4) + 512];
static const char *t_big(void)
{
    char *p = big_text;
    p += sprintf(p, "(b = false, i8 = 0, i16 = 0, i32 = 0, i64 = 0, u8 = 0, u16 = 0, "
                 "u32 = 99, u64 = 0, f32 = 0, f64 = 0, color = red, textList = [");
    for (int i = 0; i < BIG_N; i++)
        p += sprintf(p, "%s\"%s\"", i ? ", " : "", BIG_WORD);
    sprintf(p, "], none = void, " ZERO_TAIL ")");
    return big_text;
}

/* -------------------------------------------------------- empty_struct */
static void b_empty_struct(capnp_builder *b)
{
    test_All_init_empty(test_All_init_root(b));
}
static void c_empty_struct(capnp_msg *m)
{
    test_All_reader r = test_All_read_root(m);
    CHECK(test_All_has_empty(r));
    CHECK(!test_All_has_inner(r));
}

struct rtcase {
    const char *name;
    const char *root;
    const char *text;
    const char *(*text_fn)(void);
    void (*build)(capnp_builder *);
    void (*check)(capnp_msg *);
    size_t bufsize;
};

static const struct rtcase cases[] = {
    { "all_zero", "All", "(" ZERO_SCALARS ", none = void, " ZERO_TAIL ")", 0,
      b_all_zero, c_all_zero, 4096 },
    { "all_scalars", "All",
      "(b = true, i8 = -128, i16 = -32768, i32 = -2147483648, "
      "i64 = -9223372036854775808, u8 = 255, u16 = 65535, u32 = 4294967295, "
      "u64 = 18446744073709551615, f32 = -0.5, f64 = -1234.5678, color = blue, "
      "num = 77, grp = (x = -1, y = 2), choice = (big = 1099511627776))", 0,
      b_all_scalars, c_all_scalars, 4096 },
    { "all_pointers", "All",
      "(" ZERO_SCALARS ", text = \"a \\\"q\\\" \\\\ \\n\\t\", data = \"\\000\\001\\377\", "
      "inner = (id = 7, name = \"seven\"), u16List = [1, 500, 65535], "
      "i64List = [-1, 4611686018427387904], boolList = [true, false, true], "
      "textList = [\"x\", \"\"], innerList = [(id = 1, name = \"a\"), (id = 2)], "
      "colorList = [green, blue], dataList = [\"\\000\\001\"], f64List = [0.25, -1e100], "
      "listList = [[1], [], [2, 3]], word = \"w\", " ZERO_TAIL ")", 0,
      b_all_pointers, c_all_pointers, 4096 },
    { "union_sub", "All", "(" ZERO_SCALARS ", sub = (id = 1), " ZERO_TAIL ")", 0,
      b_union_sub, c_union_sub, 4096 },
    { "empty_lists", "All",
      "(" ZERO_SCALARS ", text = \"\", data = \"\", u16List = [], textList = [], "
      "innerList = [], none = void, " ZERO_TAIL ")", 0,
      b_empty_lists, c_empty_lists, 4096 },
    { "defaults_unset", "Defaults",
      "(b = true, i8 = -5, i16 = -300, i32 = 123456, i64 = -9000000000, u8 = 200, "
      "u16 = 60000, u32 = 4000000000, u64 = 18000000000000000000, f32 = 1.5, "
      "f64 = -2.25, color = blue)", 0,
      b_defaults_unset, c_defaults_unset, 4096 },
    { "defaults_flipped", "Defaults",
      "(b = false, i8 = 0, i16 = 1, i32 = 0, i64 = 0, u8 = 0, u16 = 0, u32 = 0, "
      "u64 = 0, f32 = 0, f64 = 0.5, color = red, text = \"\", data = \"x\")", 0,
      b_defaults_flipped, c_defaults_flipped, 4096 },
    { "empty_struct", "All", "(" ZERO_SCALARS ", none = void, " ZERO_TAIL ", empty = ())", 0,
      b_empty_struct, c_empty_struct, 4096 },
    { "big", "All", 0, t_big, b_big, c_big, 1 << 16 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static const struct rtcase *find(const char *name)
{
    for (size_t i = 0; i < NCASES; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    fprintf(stderr, "no case %s\n", name);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < NCASES; i++)
            printf("%s\t%s\t%s\n", cases[i].name, cases[i].root,
                   cases[i].text ? cases[i].text : cases[i].text_fn());
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: roundtrip list | encode NAME | check NAME\n");
        return 2;
    }
    const struct rtcase *c = find(argv[2]);
    if (strcmp(argv[1], "encode") == 0) {
        uint8_t *buf = malloc(c->bufsize);
        capnp_builder b;
        size_t len;
        capnp_builder_init(&b, buf, c->bufsize);
        c->build(&b);
        int e = capnp_builder_finish(&b, &len);
        if (e != CAPNP_OK) {
            fprintf(stderr, "encode %s: %s\n", c->name, capnp_strerror(e));
            return 1;
        }
        fwrite(buf, 1, len, stdout);
        free(buf);
        return 0;
    }
    if (strcmp(argv[1], "check") == 0) {
        /* the message in an exactly sized buffer: overreads hit ASan */
        static uint8_t stage[1 << 20];
        size_t len = fread(stage, 1, sizeof stage, stdin);
        uint8_t *in = malloc(len ? len : 1);
        memcpy(in, stage, len);
        capnp_msg m;
        int e = capnp_msg_init(&m, in, len);
        if (e == CAPNP_OK)
            e = capnp_msg_validate(&m);
        if (e != CAPNP_OK) {
            fprintf(stderr, "check %s: message rejected: %s\n", c->name, capnp_strerror(e));
            free(in);
            return 1;
        }
        capnp_msg_set_limits(&m, CAPNP_DEFAULT_TRAVERSAL_WORDS, CAPNP_DEFAULT_NESTING);
        c->check(&m);
        if (m.err != CAPNP_OK) {
            fprintf(stderr, "check %s: read error: %s\n", c->name, capnp_strerror(m.err));
            failures++;
        }
        if (strcmp(c->name, "big") == 0 && m.nsegs < 2) {
            fprintf(stderr, "check big: expected a multi-segment message, got %u\n", m.nsegs);
            failures++;
        }
        free(in);
        return failures ? 1 : 0;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
