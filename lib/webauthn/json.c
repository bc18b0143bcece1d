/* lib/webauthn: a bounded JSON (RFC 8259) reader for clientDataJSON.
 *
 * The whole input must be one object; every value is checked for
 * well-formedness (strings with their escapes, numbers, literals, nested
 * objects and arrays up to WA_CBOR_DEPTH_MAX deep).  The members this
 * library reads ("type", "challenge", "origin", "crossOrigin") are decoded
 * (escapes resolved) and may appear once each (WA_R_JSON_DUP_KEY); other
 * members are checked and ignored, as the specification asks. */
#include <string.h>

#include "internal.h"

enum member { M_OTHER = 0, M_TYPE, M_CHALLENGE, M_ORIGIN, M_CROSS_ORIGIN };

#define KEY_MAX 16u           /* the longest known member name, "crossOrigin", fits */

static void skip_ws(struct wa_cur *c)
{
    while (wa_cur_left(c)) {
        uint8_t b = c->p[c->off];
        if (b != ' ' && b != '\t' && b != '\n' && b != '\r')
            return;
        c->off++;
    }
}

static int next_is(const struct wa_cur *c, uint8_t b)
{
    return wa_cur_left(c) && c->p[c->off] == b;
}

static int hex4(struct wa_cur *c, uint32_t *v)
{
    const uint8_t *h;
    if (!wa_cur_take(c, 4, &h))
        return 0;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t d = h[i];
        uint32_t x;
        if (d >= '0' && d <= '9')
            x = d - '0';
        else if (d >= 'a' && d <= 'f')
            x = d - 'a' + 10;
        else if (d >= 'A' && d <= 'F')
            x = d - 'A' + 10;
        else
            return 0;
        *v = (*v << 4) | x;
    }
    return 1;
}

/* Append bytes to out (cap) when there is room; else remember the overflow. */
struct sink { uint8_t *p; size_t cap, len; int overflow; };

static void put(struct sink *s, const uint8_t *b, size_t n)
{
    if (!s->p || s->overflow)
        return;
    if (n > s->cap - s->len) {
        s->overflow = 1;
        return;
    }
    memcpy(s->p + s->len, b, n);
    s->len += n;
}

static void put_utf8(struct sink *s, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    put(s, b, n);
}

/* A string at the cursor (opening quote included), decoded into s. */
static int json_string(struct wa_cur *c, struct sink *s)
{
    const uint8_t *b;
    if (!wa_cur_take(c, 1, &b) || b[0] != '"')
        return WA_R_JSON;
    for (;;) {
        if (!wa_cur_take(c, 1, &b))
            return WA_R_JSON;
        if (b[0] == '"')
            return WA_OK;
        if (b[0] < 0x20)
            return WA_R_JSON;
        if (b[0] != '\\') {
            put(s, b, 1);
            continue;
        }
        if (!wa_cur_take(c, 1, &b))
            return WA_R_JSON;
        uint8_t e;
        switch (b[0]) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '/': e = '/'; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (!hex4(c, &cp))
                return WA_R_JSON;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return WA_R_JSON;            /* a lone low surrogate */
            if (cp >= 0xd800 && cp <= 0xdbff) {
                const uint8_t *u;
                if (!wa_cur_take(c, 2, &u) || u[0] != '\\' || u[1] != 'u' || !hex4(c, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return WA_R_JSON;        /* a high surrogate not followed by a low one */
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(s, cp);
            continue;
        }
        default:
            return WA_R_JSON;
        }
        put(s, &e, 1);
    }
}

static int digits(struct wa_cur *c)
{
    size_t n = 0;
    while (wa_cur_left(c) && c->p[c->off] >= '0' && c->p[c->off] <= '9') {
        c->off++;
        n++;
    }
    return n > 0;
}

static int json_number(struct wa_cur *c)
{
    if (next_is(c, '-'))
        c->off++;
    if (next_is(c, '0'))
        c->off++;
    else if (!digits(c))
        return WA_R_JSON;
    if (next_is(c, '.')) {
        c->off++;
        if (!digits(c))
            return WA_R_JSON;
    }
    if (next_is(c, 'e') || next_is(c, 'E')) {
        c->off++;
        if (next_is(c, '+') || next_is(c, '-'))
            c->off++;
        if (!digits(c))
            return WA_R_JSON;
    }
    return WA_OK;
}

static int json_literal(struct wa_cur *c, const char *lit)
{
    const uint8_t *b;
    size_t n = strlen(lit);
    if (!wa_cur_take(c, n, &b) || memcmp(b, lit, n) != 0)
        return WA_R_JSON;
    return WA_OK;
}

static int json_value(struct wa_cur *c, unsigned depth);

/* An object or array body after its opening bracket. */
static int json_container(struct wa_cur *c, unsigned depth, int object)
{
    uint8_t close = object ? '}' : ']';
    skip_ws(c);
    if (next_is(c, close)) {
        c->off++;
        return WA_OK;
    }
    for (size_t i = 0;; i++) {
        int r;
        if (i >= WA_CBOR_ITEMS_MAX)
            return WA_R_JSON;
        skip_ws(c);
        if (object) {
            struct sink none = { 0 };
            if ((r = json_string(c, &none)) != WA_OK)
                return r;
            skip_ws(c);
            if (!next_is(c, ':'))
                return WA_R_JSON;
            c->off++;
        }
        if ((r = json_value(c, depth + 1)) != WA_OK)
            return r;
        skip_ws(c);
        if (next_is(c, ',')) {
            c->off++;
            continue;
        }
        if (next_is(c, close)) {
            c->off++;
            return WA_OK;
        }
        return WA_R_JSON;
    }
}

static int json_value(struct wa_cur *c, unsigned depth)
{
    skip_ws(c);
    if (!wa_cur_left(c))
        return WA_R_JSON;
    switch (c->p[c->off]) {
    case '"': {
        struct sink none = { 0 };
        return json_string(c, &none);
    }
    case '{':
    case '[':
        if (depth >= WA_CBOR_DEPTH_MAX)
            return WA_R_JSON;
        c->off++;
        return json_container(c, depth, c->p[c->off - 1] == '{');
    case 't':
        return json_literal(c, "true");
    case 'f':
        return json_literal(c, "false");
    case 'n':
        return json_literal(c, "null");
    default:
        return json_number(c);
    }
}

static enum member member_of(const struct sink *k)
{
    if (k->overflow)
        return M_OTHER;
    if (wa_text_is(k->p, k->len, "type"))
        return M_TYPE;
    if (wa_text_is(k->p, k->len, "challenge"))
        return M_CHALLENGE;
    if (wa_text_is(k->p, k->len, "origin"))
        return M_ORIGIN;
    if (wa_text_is(k->p, k->len, "crossOrigin"))
        return M_CROSS_ORIGIN;
    return M_OTHER;
}

/* A known string member: decoded into buf when the value is a string that fits. */
static int string_member(struct wa_cur *c, uint8_t *buf, size_t *len, int *has)
{
    skip_ws(c);
    if (!next_is(c, '"'))
        return json_value(c, 1);     /* not a string: checked, left absent */
    struct sink s = { buf, WA_JSON_STR_MAX, 0, 0 };
    int r = json_string(c, &s);
    if (r != WA_OK)
        return r;
    if (s.overflow)
        return WA_R_JSON;
    *len = s.len;
    *has = 1;
    return WA_OK;
}

int wa_json_client_data(const uint8_t *p, size_t n, struct wa_client_data *out)
{
    struct wa_cur c;
    unsigned seen = 0;
    memset(out, 0, sizeof *out);
    wa_cur_init(&c, p, n);
    skip_ws(&c);
    if (!next_is(&c, '{'))
        return WA_R_JSON;
    c.off++;
    skip_ws(&c);
    if (next_is(&c, '}'))
        c.off++;
    else
        for (size_t i = 0;; i++) {
            int r;
            uint8_t kb[KEY_MAX];
            struct sink key = { kb, sizeof kb, 0, 0 };
            if (i >= WA_CBOR_ITEMS_MAX)
                return WA_R_JSON;
            skip_ws(&c);
            if ((r = json_string(&c, &key)) != WA_OK)
                return r;
            skip_ws(&c);
            if (!next_is(&c, ':'))
                return WA_R_JSON;
            c.off++;
            enum member m = member_of(&key);
            if (m != M_OTHER) {
                if (seen & (1u << m))
                    return WA_R_JSON_DUP_KEY;
                seen |= 1u << m;
            }
            switch (m) {
            case M_TYPE:
                r = string_member(&c, out->type, &out->type_len, &out->has_type);
                break;
            case M_CHALLENGE:
                r = string_member(&c, out->challenge, &out->challenge_len, &out->has_challenge);
                break;
            case M_ORIGIN:
                r = string_member(&c, out->origin, &out->origin_len, &out->has_origin);
                break;
            case M_CROSS_ORIGIN:
                skip_ws(&c);
                if (wa_cur_left(&c) >= 5 && memcmp(c.p + c.off, "false", 5) == 0) {
                    c.off += 5;
                    r = WA_OK;
                } else {
                    out->cross_origin = 1;
                    r = json_value(&c, 1);
                }
                break;
            default:
                r = json_value(&c, 1);
                break;
            }
            if (r != WA_OK)
                return r;
            skip_ws(&c);
            if (next_is(&c, ',')) {
                c.off++;
                continue;
            }
            if (next_is(&c, '}')) {
                c.off++;
                break;
            }
            return WA_R_JSON;
        }
    skip_ws(&c);
    return wa_cur_left(&c) ? WA_R_JSON : WA_OK;
}
