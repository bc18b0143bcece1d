/* Seeded impairment: the same seed gives the same decisions for the same frame order. */
#include <string.h>
#include "impair.h"

static uint64_t next_rand(struct impair *im)
{
    uint64_t x = im->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return im->rng = x;
}

void impair_set(struct impair *im, uint32_t loss, uint32_t dup, uint32_t reorder, uint64_t seed)
{
    im->loss = loss;
    im->dup = dup;
    im->reorder = reorder;
    im->rng = seed ? seed : 88172645463325252ull;
}

static void hold(struct impair_dir *d, uint64_t at, const uint8_t *f, size_t n,
                 void (*deliver)(void *, const uint8_t *, size_t), void *ctx)
{
    if (d->nheld == IMPAIR_HELD) {      /* full: send at once rather than lose it */
        deliver(ctx, f, n);
        return;
    }
    struct held_frame *h = &d->held[d->nheld++];
    h->at = at;
    h->len = (uint16_t)n;
    memcpy(h->data, f, n);
}

void impair_frame(struct impair *im, struct impair_dir *d, uint64_t now, const uint8_t *f, size_t n,
                  void (*deliver)(void *ctx, const uint8_t *f, size_t n), void *ctx)
{
    if (n > 1514)
        n = 1514;
    if (im->loss && next_rand(im) % 1000 < im->loss) {
        im->dropped++;
        return;
    }
    if (im->reorder && next_rand(im) % 1000 < im->reorder) {
        /* Held back 1-3 ms: frames sent after it overtake it. */
        im->reordered++;
        hold(d, now + 1 + next_rand(im) % 3, f, n, deliver, ctx);
    } else {
        deliver(ctx, f, n);
    }
    if (im->dup && next_rand(im) % 1000 < im->dup) {
        im->duplicated++;
        hold(d, now + 1, f, n, deliver, ctx);
    }
}

void impair_release(struct impair_dir *d, uint64_t now,
                    void (*deliver)(void *ctx, const uint8_t *f, size_t n), void *ctx)
{
    for (int i = 0; i < d->nheld;) {
        if (d->held[i].at <= now) {
            struct held_frame h = d->held[i];
            d->held[i] = d->held[--d->nheld];
            deliver(ctx, h.data, h.len);
            continue;
        }
        i++;
    }
}

uint64_t impair_next(const struct impair_dir *d)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < d->nheld; i++)
        if (d->held[i].at < next)
            next = d->held[i].at;
    return next;
}
