/*
 * libFuzzer target: lib/fmt against the C library's snprintf. The input is
 * a list of conversions, each 12 bytes:
 *   flags (bit 0 '-', bit 1 '0', bit 2 a width, bit 3 a precision,
 *   bit 4 the width as '*', bit 5 the precision as '*'), width, precision,
 *   length (none, h, l, ll, z), conversion (d i u x X o c s p %), then a
 *   6-byte value (for %s: which of a few strings, NULL among them)
 * and a literal character after it; the last byte sizes the buffer. Both
 * formatters print each conversion with the same arguments. Checked: the
 * output is always terminated inside the buffer and never written past it;
 * the return value is the full length; the truncated text is a prefix of
 * the whole; and, where lib/fmt promises what C does (not %p, whose digits
 * it pads to 16; not 'h' or a precision on a number, which it ignores; not
 * %c or %% with a width; not a '*' width below zero; not what C leaves
 * undefined), the text is the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fmt/fmt.h"

#define SPEC 12
static const char convs[] = "diuxXocsp%";
static const char *const strs[] = { "", "capOS", "a longer string of text", 0 };

struct spec {
    char fmt[48];
    bool has_star_w, has_star_p;             /* '*' width / precision: an int argument before the value */
    int star_w, star_p, conv, len;
    uint64_t v;
    bool comparable;
};

static void make_spec(const uint8_t *d, struct spec *s)
{
    uint8_t fl = d[0];
    char *f = s->fmt;
    *f++ = '%';
    if (fl & 1) *f++ = '-';
    if (fl & 2) *f++ = '0';
    s->has_star_w = s->has_star_p = false;
    s->star_w = s->star_p = 0;
    int width = d[1] % 200, prec = d[2] % 100;
    s->comparable = true;
    if (fl & 4) {
        if (fl & 16) {
            *f++ = '*';
            s->has_star_w = true;
            s->star_w = (int8_t)d[1];
            if (s->star_w < 0) s->comparable = false;   /* C left-justifies, lib/fmt does not pad */
        } else {
            f += sprintf(f, "%d", width);
        }
    }
    if (fl & 8) {
        *f++ = '.';
        if (fl & 32) {
            *f++ = '*';
            s->has_star_p = true;
            s->star_p = (int8_t)d[2];
        } else {
            f += sprintf(f, "%d", prec);
        }
    }
    s->len = d[3] % 5;
    static const char *const lens[] = { "", "h", "l", "ll", "z" };
    s->conv = convs[d[4] % (sizeof convs - 1)];
    if (s->conv == 's' || s->conv == 'c' || s->conv == '%' || s->conv == 'p')
        s->len = 0;
    f += sprintf(f, "%s%c", lens[s->len], s->conv);
    s->v = 0;
    memcpy(&s->v, d + 5, 6);
    if (s->conv == 'p' || s->len == 1 || ((s->conv == 'c' || s->conv == '%') && (fl & 4)))
        s->comparable = false;
    /* a precision on a number: C pads with zeros to it, lib/fmt ignores it */
    if ((fl & 8) && s->conv != 's')
        s->comparable = false;
    if ((fl & 3) == 3 || ((fl & 2) && s->conv == 's'))
        s->comparable = false;                   /* '0' with '-' or on %s: undefined in C */
    *f++ = d[11] >= 0x20 && d[11] < 0x7f && d[11] != '%' ? d[11] : '.';
    *f = 0;
}

/* Print one spec with both formatters: same call shape, its argument typed as the conversion says. */
#define CALL(fn, buf, size, s, arg) \
    ((s)->has_star_w \
         ? ((s)->has_star_p ? fn(buf, size, (s)->fmt, (s)->star_w, (s)->star_p, arg) : fn(buf, size, (s)->fmt, (s)->star_w, arg)) \
         : ((s)->has_star_p ? fn(buf, size, (s)->fmt, (s)->star_p, arg) : fn(buf, size, (s)->fmt, arg)))

static int print(int ours, char *buf, size_t size, const struct spec *s)
{
    switch (s->conv) {
    case 'd': case 'i':
        if (s->len >= 2) { long long a = (long long)s->v; return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a); }
        { int a = (int)s->v; return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a); }
    case 'u': case 'x': case 'X': case 'o':
        if (s->len >= 2) { unsigned long long a = s->v; return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a); }
        { unsigned a = (unsigned)s->v; return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a); }
    case 'c': { int a = (uint8_t)s->v ? (uint8_t)s->v : 'x'; return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a); }
    case 's': {
        const char *a = strs[s->v % 4];
        if (!a && !ours) a = "(null)";          /* what lib/fmt promises for NULL */
        return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a);
    }
    case 'p': { void *a = (void *)(uintptr_t)s->v; return ours ? CALL(fmt_snprintf, buf, size, s, a) : CALL(snprintf, buf, size, s, a); }
    default: return ours ? CALL(fmt_snprintf, buf, size, s, 0) : CALL(snprintf, buf, size, s, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t bsize = data[size - 1] % 64;          /* 0 too: nothing may be written */
    size--;
    for (size_t i = 0; i + SPEC <= size; i += SPEC) {
        struct spec s;
        make_spec(data + i, &s);
        char *buf = malloc(bsize ? bsize : 1), ref[1024];
        int n = print(1, buf, bsize, &s);
        if (n < 0)
            abort();
        if (bsize && (memchr(buf, 0, bsize) == NULL || strlen(buf) != ((size_t)n < bsize ? (size_t)n : bsize - 1)))
            abort();                             /* terminated, and as long as fits */
        char *big = malloc((size_t)n + 1);
        if (print(1, big, (size_t)n + 1, &s) != n || strlen(big) != (size_t)n || (bsize && strncmp(buf, big, bsize - 1)))
            abort();                             /* the truncated output is a prefix of the whole */
        if (s.comparable) {
            int m = print(0, ref, sizeof ref, &s);
            if (m != n || strcmp(ref, big))
                abort();
        }
        free(big);
        free(buf);
    }
    return 0;
}
