/*
 * libFuzzer target: lib/store opening any image. The first byte picks raw
 * (the input is the image) or patched (a valid image of 70 commits, compacted, with
 * the input's (offset, xor) pairs applied to it). Opening must answer, never
 * crash or overrun; an image it accepts must take a commit and keep it
 * across a reopen.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"

#define SECS 96
static uint8_t img[SECS * STORE_SECTOR], base[SECS * STORE_SECTOR];
static int rd(void *c, uint64_t s, uint32_t n, uint8_t *b) { if (s + n > SECS) return -1; memcpy(b, img + s * STORE_SECTOR, n * STORE_SECTOR); return 0; }
static int wr(void *c, uint64_t s, uint32_t n, const uint8_t *b) { if (s + n > SECS) return -1; memcpy(img + s * STORE_SECTOR, b, n * STORE_SECTOR); return 0; }
static int fl(void *c) { return 0; }
static const struct store_io io = { 0, rd, wr, fl, 7, SECS };
static struct store st;
static struct store_entry tab[24];
static struct store_txn t;

static void make_base(void)
{
    memset(img, 0, sizeof img);
    if (store_open(&st, &io, tab, 24, 42))
        abort();
    for (int i = 0; i < 70; i++) {    /* past a compaction or two */
        char key[8] = { 'k', (char)('a' + i % 20), 0 };
        uint8_t v[200];
        memset(v, i, sizeof v);
        store_txn_init(&t);
        store_txn_put(&t, i % 2 ? "accounts" : "credentials", i % 2 ? 8 : 11, key, 2, v, (uint32_t)(i * 7 % 200));
        if (i % 5 == 4)
            store_txn_del(&t, "accounts", 8, "kb", 2);
        if (store_commit(&st, &t))
            abort();
    }
    if (st.report.compactions == 0)
        abort();
    memcpy(base, img, sizeof img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        make_base();
        ready = 1;
    }
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        memcpy(img, base, sizeof img);
        for (size_t i = 1; i + 3 <= size; i += 3) {
            uint32_t off = ((uint32_t)data[i] | (uint32_t)data[i + 1] << 8) % (uint32_t)sizeof img;
            img[off] ^= data[i + 2];
        }
    } else {
        memset(img, 0, sizeof img);
        memcpy(img, data + 1, size - 1 < sizeof img ? size - 1 : sizeof img);
    }
    if (store_open(&st, &io, tab, 24, 9) != STORE_OK) {
        if (!store_message(&st)[0])
            abort();                         /* every refusal says why */
        return 0;
    }
    store_txn_init(&t);
    store_txn_put(&t, "audit", 5, "fuzz", 4, "kept", 4);
    int e = store_commit(&st, &t);
    if (e == STORE_OK) {
        if (store_open(&st, &io, tab, 24, 9) != STORE_OK) {
            if (getenv("STORE_FUZZ_SAY"))
                fprintf(stderr, "reopen: %s\n", store_message(&st));
            abort();
        }
        const struct store_entry *x = store_get(&st, "audit", 5, "fuzz", 4);
        if (!x || x->vlen != 4 || memcmp(x->val, "kept", 4))
            abort();
    } else if (e != STORE_E_FULL && e != STORE_E_TABLE_FULL) {
        abort();
    }
    return 0;
}
