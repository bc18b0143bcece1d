/* Host tests of the size-class allocator (lib/alloc) over a fake page source:
 * alignment, zeroing, reuse, large runs returned, double-free detection, and
 * a random stress that checks blocks never overlap and accounting returns to
 * zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "alloc/alloc.h"

static int failures, corrupt_calls;
static size_t pages_out;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static void *held[8192];     /* every run handed out, so the test can free them at the end */
static int nheld;

static void *grow(void *ctx, size_t pages)
{
    if (ctx && pages_out + pages > (size_t)(uintptr_t)ctx)
        return 0;                     /* a quota, to test exhaustion */
    void *p = aligned_alloc(ALLOC_PAGE, pages * ALLOC_PAGE);
    memset(p, 0, pages * ALLOC_PAGE);
    pages_out += pages;
    held[nheld++] = p;
    return p;
}
static void release(void *ctx, void *p, size_t pages)
{
    for (int i = 0; i < nheld; i++)
        if (held[i] == p) { held[i] = held[--nheld]; break; }
    free(p);
    pages_out -= pages;
}
static void corrupt(void *ctx, void *p) { corrupt_calls++; }

int main(void)
{
    struct alloc a = { .grow = grow, .release = release, .corrupt = corrupt };
    for (size_t n = 0; n <= 5000; n += 37) {
        unsigned char *p = alloc_get(&a, n);
        CHECK(p && ((uintptr_t)p & 15) == 0);
        CHECK(alloc_usable(p) >= n);
        int zero = 1;
        for (size_t i = 0; i < n; i++)
            zero &= p[i] == 0;
        CHECK(zero);
        memset(p, 0xAB, n);
        alloc_put(&a, p);
    }
    CHECK(a.live_objects == 0 && a.live_bytes == 0);

    /* freed small blocks are reused; large runs go back at once */
    void *x = alloc_get(&a, 100);
    alloc_put(&a, x);
    CHECK(alloc_get(&a, 100) == x);
    alloc_put(&a, x);
    size_t before = pages_out;
    void *big = alloc_get(&a, 3 * ALLOC_PAGE);
    CHECK(pages_out == before + 4);
    alloc_put(&a, big);
    CHECK(pages_out == before);

    /* double free and foreign pointers are caught */
    void *y = alloc_get(&a, 40);
    alloc_put(&a, y);
    alloc_put(&a, y);
    CHECK(corrupt_calls == 1);
    static char foreign[64] __attribute__((aligned(16)));
    alloc_put(&a, foreign + 16);
    CHECK(corrupt_calls == 2);

    /* random stress: blocks never overlap (each keeps its fill pattern) */
    enum { N = 2000 };
    static unsigned char *blk[N];
    static size_t len[N];
    srand(1);
    for (int round = 0; round < 200000; round++) {
        int i = rand() % N;
        if (blk[i]) {
            for (size_t k = 0; k < len[i]; k++)
                if (blk[i][k] != (unsigned char)i) { CHECK(!"block overwritten"); k = len[i]; }
            alloc_put(&a, blk[i]);
            blk[i] = 0;
        } else {
            len[i] = (size_t)(rand() % 3000);
            blk[i] = alloc_get(&a, len[i]);
            CHECK(blk[i] != 0);
            memset(blk[i], i & 0xFF, len[i]);
        }
    }
    for (int i = 0; i < N; i++)
        alloc_put(&a, blk[i]);
    CHECK(a.live_objects == 0 && a.live_bytes == 0);

    /* exhaustion: a quota'd page source makes alloc_get return 0, not crash */
    struct alloc q = { .grow = grow, .release = release, .corrupt = corrupt, .ctx = (void *)(uintptr_t)(pages_out + 2) };
    CHECK(alloc_get(&q, 5 * ALLOC_PAGE) == 0);
    void *s1 = alloc_get(&q, 2000);
    CHECK(s1 != 0);

    while (nheld)
        free(held[--nheld]);
    if (failures)
        return 1;
    printf("unit/alloc: all checks passed\n");
    return 0;
}
