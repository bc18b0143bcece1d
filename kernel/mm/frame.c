/*
 * Physical frame allocator: one bit per 4 KiB frame (1 = in use), built from
 * the boot memory map. Allocation scans upward from a hint, so early
 * allocations (the kernel's page tables) come from low memory.
 */
#include "frame.h"
#include "kprintf.h"
#include "c/string.h"

static uint64_t *bitmap;
static size_t nframes, nfree, ntotal, hint;

size_t frame_bitmap_bytes(paddr_t max_phys)
{
    return ALIGN_UP(max_phys / PAGE_SIZE, 64) / 8;
}

void frame_init(paddr_t max_phys, void *mem)
{
    nframes = max_phys / PAGE_SIZE;
    bitmap = mem;
    memset(bitmap, 0xFF, frame_bitmap_bytes(max_phys));
    nfree = ntotal = 0;
}

static inline bool used(size_t f) { return bitmap[f / 64] >> (f % 64) & 1; }
static inline void set_used(size_t f) { bitmap[f / 64] |= 1ull << (f % 64); }
static inline void set_free(size_t f) { bitmap[f / 64] &= ~(1ull << (f % 64)); }

void frame_release_range(paddr_t start, paddr_t end)
{
    for (size_t f = ALIGN_UP(start, PAGE_SIZE) / PAGE_SIZE; f < end / PAGE_SIZE && f < nframes; f++) {
        if (f == 0 || !used(f))
            continue;   /* frame 0 stays reserved: a null physical address is never valid */
        set_free(f);
        nfree++;
        ntotal++;
        if (f < hint)
            hint = f;
    }
}

void frame_reserve_range(paddr_t start, paddr_t end)
{
    for (size_t f = start / PAGE_SIZE; f < ALIGN_UP(end, PAGE_SIZE) / PAGE_SIZE && f < nframes; f++) {
        if (used(f))
            continue;
        set_used(f);
        nfree--;
        ntotal--;
    }
}

paddr_t frame_alloc(void)
{
    size_t nwords = (nframes + 63) / 64;
    for (size_t i = 0; i < nwords; i++) {
        size_t w = (hint / 64 + i) % nwords;
        if (bitmap[w] == ~0ull)
            continue;
        size_t f = w * 64 + (size_t)__builtin_ctzll(~bitmap[w]);
        if (f >= nframes)
            continue;
        set_used(f);
        nfree--;
        hint = f;
        memset(phys_to_virt(f * PAGE_SIZE), 0, PAGE_SIZE);
        return f * PAGE_SIZE;
    }
    return 0;
}

/* n contiguous frames, first fit. Every frame below `hint` is in use (frame
 * allocation only moves it up past used frames; frees and releases move it
 * down), so the search starts there, and a word with all 64 frames in use
 * is skipped whole: a thread's ring is allocated this way at every spawn. */
paddr_t frame_alloc_contig(size_t n)
{
    size_t run = 0;
    for (size_t f = hint ? hint : 1; f < nframes; f++) {
        if (f % 64 == 0 && bitmap[f / 64] == ~0ull) {
            run = 0;                    /* 64 frames in use: skip the word */
            f += 63;
            continue;
        }
        run = used(f) ? 0 : run + 1;
        if (run == n) {
            size_t first = f + 1 - n;
            for (size_t i = first; i <= f; i++)
                set_used(i);
            nfree -= n;
            memset(phys_to_virt(first * PAGE_SIZE), 0, n * PAGE_SIZE);
            return first * PAGE_SIZE;
        }
    }
    return 0;
}

void frame_free(paddr_t pa)
{
    size_t f = pa / PAGE_SIZE;
    if (pa % PAGE_SIZE || f == 0 || f >= nframes || !used(f))
        panic("frame_free: bad frame %lx", pa);
    set_free(f);
    nfree++;
    if (f < hint)
        hint = f;
}

void frame_free_contig(paddr_t pa, size_t n)
{
    for (size_t i = 0; i < n; i++)
        frame_free(pa + i * PAGE_SIZE);
}

size_t frame_free_count(void) { return nfree; }
size_t frame_total_count(void) { return ntotal; }
