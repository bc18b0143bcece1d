/* lib/webauthn: a bounded CBOR (RFC 8949) reader for attestation objects
 * and COSE keys.  Accepted: definite lengths, arguments in their shortest
 * form, integers, byte and text strings, arrays, maps with distinct keys,
 * false/true/null.  Refused: indefinite lengths (WA_R_CBOR_INDEFINITE),
 * tags, floats and other simple values, reserved additional information
 * (WA_R_CBOR), repeated map keys (WA_R_CBOR_DUP_KEY), nesting deeper than
 * WA_CBOR_DEPTH_MAX or containers over WA_CBOR_ITEMS_MAX entries
 * (WA_R_CBOR_DEPTH).  Minimal encodings make two equal keys equal byte
 * strings, so repeated keys are found by comparing their encodings. */
#include <string.h>

#include "internal.h"

/* Read one head: major type and argument.  *ai is the additional info. */
static int cbor_head(struct wa_cur *c, int *major, uint64_t *arg)
{
    const uint8_t *b;
    if (!wa_cur_take(c, 1, &b))
        return WA_R_CBOR;
    *major = b[0] >> 5;
    unsigned ai = b[0] & 0x1f;
    if (ai < 24) {
        *arg = ai;
        return WA_OK;
    }
    if (ai == 31)
        return WA_R_CBOR_INDEFINITE;
    if (ai > 27)
        return WA_R_CBOR;
    size_t n = (size_t)1 << (ai - 24);
    if (!wa_cur_take(c, n, &b))
        return WA_R_CBOR;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | b[i];
    /* shortest form: the value would not fit the next smaller encoding */
    static const uint64_t min[4] = { 24, 0x100, 0x10000, 0x100000000ull };
    if (v < min[ai - 24])
        return WA_R_CBOR;
    *arg = v;
    return WA_OK;
}

static int cbor_item(struct wa_cur *c, unsigned depth);

/* Key offsets are 16-bit: wa_cbor_skip() refuses inputs over CBOR_INPUT_MAX. */
#define CBOR_INPUT_MAX 0xffffu

static int cbor_map_body(struct wa_cur *c, uint64_t n, unsigned depth)
{
    uint16_t key_off[WA_CBOR_ITEMS_MAX], key_len[WA_CBOR_ITEMS_MAX];
    for (uint64_t i = 0; i < n; i++) {
        size_t start = c->off;
        int r = cbor_item(c, depth + 1);
        if (r != WA_OK)
            return r;
        key_off[i] = (uint16_t)start;
        key_len[i] = (uint16_t)(c->off - start);
        for (uint64_t j = 0; j < i; j++)
            if (key_len[j] == key_len[i] && memcmp(c->p + key_off[j], c->p + key_off[i], key_len[i]) == 0)
                return WA_R_CBOR_DUP_KEY;
        r = cbor_item(c, depth + 1);
        if (r != WA_OK)
            return r;
    }
    return WA_OK;
}

static int cbor_item(struct wa_cur *c, unsigned depth)
{
    int major;
    uint64_t arg;
    const uint8_t *b;
    int r = cbor_head(c, &major, &arg);
    if (r != WA_OK)
        return r;
    switch (major) {
    case CBOR_UINT:
    case CBOR_NINT:
        return WA_OK;
    case CBOR_BYTES:
    case CBOR_TEXT:
        if (arg > wa_cur_left(c) || !wa_cur_take(c, (size_t)arg, &b))
            return WA_R_CBOR;
        return WA_OK;
    case CBOR_ARRAY:
    case CBOR_MAP:
        if (depth >= WA_CBOR_DEPTH_MAX || arg > WA_CBOR_ITEMS_MAX)
            return WA_R_CBOR_DEPTH;
        if (major == CBOR_MAP)
            return cbor_map_body(c, arg, depth);
        for (uint64_t i = 0; i < arg; i++)
            if ((r = cbor_item(c, depth + 1)) != WA_OK)
                return r;
        return WA_OK;
    case CBOR_SIMPLE:
        /* false, true, null; a float or any other simple value is refused */
        return (arg >= 20 && arg <= 22) ? WA_OK : WA_R_CBOR;
    default:                /* CBOR_TAG */
        return WA_R_CBOR;
    }
}

int wa_cbor_skip(struct wa_cur *c)
{
    if (c->len > CBOR_INPUT_MAX)
        return WA_R_CBOR;
    return cbor_item(c, 0);
}

int wa_cbor_peek(const struct wa_cur *c)
{
    return wa_cur_left(c) ? c->p[c->off] >> 5 : -1;
}

/* A head of the wanted major type (a container or string's length in *arg). */
static int cbor_expect(struct wa_cur *c, int want, uint64_t *arg)
{
    int major;
    int r = cbor_head(c, &major, arg);
    if (r != WA_OK)
        return r;
    return major == want ? WA_OK : WA_R_CBOR;
}

int wa_cbor_int(struct wa_cur *c, int64_t *v)
{
    int major;
    uint64_t arg;
    int r = cbor_head(c, &major, &arg);
    if (r != WA_OK)
        return r;
    if ((major != CBOR_UINT && major != CBOR_NINT) || arg > (uint64_t)INT64_MAX)
        return WA_R_CBOR;
    *v = major == CBOR_UINT ? (int64_t)arg : -1 - (int64_t)arg;
    return WA_OK;
}

static int cbor_string(struct wa_cur *c, int major, const uint8_t **p, size_t *n)
{
    uint64_t arg;
    int r = cbor_expect(c, major, &arg);
    if (r != WA_OK)
        return r;
    if (arg > wa_cur_left(c) || !wa_cur_take(c, (size_t)arg, p))
        return WA_R_CBOR;
    *n = (size_t)arg;
    return WA_OK;
}

int wa_cbor_bytes(struct wa_cur *c, const uint8_t **p, size_t *n)
{
    return cbor_string(c, CBOR_BYTES, p, n);
}

int wa_cbor_text(struct wa_cur *c, const uint8_t **p, size_t *n)
{
    return cbor_string(c, CBOR_TEXT, p, n);
}

static int cbor_container(struct wa_cur *c, int major, size_t *entries)
{
    uint64_t arg;
    int r = cbor_expect(c, major, &arg);
    if (r != WA_OK)
        return r;
    if (arg > WA_CBOR_ITEMS_MAX)
        return WA_R_CBOR_DEPTH;
    *entries = (size_t)arg;
    return WA_OK;
}

int wa_cbor_map(struct wa_cur *c, size_t *entries)
{
    return cbor_container(c, CBOR_MAP, entries);
}

int wa_text_is(const uint8_t *p, size_t n, const char *s)
{
    size_t sl = strlen(s);
    return sl == n && memcmp(p, s, n) == 0;
}
