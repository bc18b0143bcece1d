/* Tiny test helpers shared by the codec's host tests. */
#ifndef CAPNP_TESTUTIL_H
#define CAPNP_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_passed, t_failed;

#define EXPECT(cond)                                                        \
    do {                                                                    \
        if (cond) {                                                         \
            t_passed++;                                                     \
        } else {                                                            \
            t_failed++;                                                     \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
        }                                                                   \
    } while (0)

/* Words as little-endian bytes in an exactly sized heap buffer, so that a
 * sanitizer catches any read past the message. */
static inline uint8_t *le_words(const uint64_t *w, size_t n)
{
    uint8_t *p = malloc(n * 8 + 1);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++)
            p[i * 8 + k] = (uint8_t)(w[i] >> (8 * k));
    return p;
}

/* Pointer words, as the encoding spec lays them out. */
#define P_STRUCT(off, dw, pw) \
    ((((uint64_t)(uint32_t)((int32_t)(off) * 4))) | ((uint64_t)(dw) << 32) | ((uint64_t)(pw) << 48))
#define P_LIST(off, esize, n) \
    (1 | ((uint64_t)(uint32_t)((int32_t)(off) * 4)) | ((uint64_t)(esize) << 32) | ((uint64_t)(n) << 35))
#define P_FAR(dbl, word, seg) \
    (2 | ((dbl) ? 4u : 0u) | ((uint64_t)(word) << 3) | ((uint64_t)(seg) << 32))
#define P_CAP(idx) (3 | ((uint64_t)(idx) << 32))
/* the tag word of an inline-composite list */
#define P_TAG(count, dw, pw) (((uint64_t)(count) << 2) | ((uint64_t)(dw) << 32) | ((uint64_t)(pw) << 48))
/* segment table words */
#define SEG1(n) ((uint64_t)(n) << 32)
#define SEGS(count, s0) ((uint64_t)((count) - 1) | ((uint64_t)(s0) << 32))

#define T_SUMMARY(name)                                                      \
    do {                                                                     \
        printf("%s: %d passed, %d failed\n", name, t_passed, t_failed);       \
        return t_failed ? 1 : 0;                                             \
    } while (0)

#endif
