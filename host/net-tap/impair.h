/* Seeded frame impairment between the stack and the TAP: loss, duplication, reordering. */
#ifndef NET_TAP_IMPAIR_H
#define NET_TAP_IMPAIR_H

#include <stdint.h>
#include <stddef.h>

struct impair {
    uint32_t loss, dup, reorder;        /* per mille, each direction */
    uint64_t rng;
    uint64_t dropped, duplicated, reordered;
};

#define IMPAIR_HELD 64

struct held_frame { uint64_t at; uint16_t len; uint8_t data[1514]; };

struct impair_dir {
    struct held_frame held[IMPAIR_HELD];
    int nheld;
};

void impair_set(struct impair *im, uint32_t loss, uint32_t dup, uint32_t reorder, uint64_t seed);
/* Pass a frame through: deliver() is called 0, 1 or 2 times, now or later via impair_release(). */
void impair_frame(struct impair *im, struct impair_dir *d, uint64_t now, const uint8_t *f, size_t n,
                  void (*deliver)(void *ctx, const uint8_t *f, size_t n), void *ctx);
void impair_release(struct impair_dir *d, uint64_t now,
                    void (*deliver)(void *ctx, const uint8_t *f, size_t n), void *ctx);
uint64_t impair_next(const struct impair_dir *d);

#endif
