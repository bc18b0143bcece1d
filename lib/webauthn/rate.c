/* lib/webauthn: token-bucket rate limits on caller time.
 *
 * A slot holds one key (WA_RATE_KEY_LEN bytes of the SHA-256 of what the
 * caller names: a credential id, a source address) and its bucket: up to
 * `burst` tokens, one more per refill_ms since last_ms.  Time going
 * backwards refills nothing.  With every slot taken, the slot with the most
 * tokens after refilling (the one idle longest) is given to the new key, so
 * a key that is being limited keeps its empty bucket. */
#include <string.h>

#include "internal.h"

void wa_rate_init(struct wa_ratelimit *r, uint32_t burst, uint64_t refill_ms)
{
    memset(r, 0, sizeof *r);
    r->burst = burst;
    r->refill_ms = refill_ms;
}

/* Bring a slot's tokens up to now. */
static void refill(const struct wa_ratelimit *r, struct wa_rate_slot *s, uint64_t now_ms)
{
    if (now_ms <= s->last_ms)
        return;
    uint64_t add = (now_ms - s->last_ms) / r->refill_ms;
    if (add >= (uint64_t)(r->burst - s->tokens)) {
        s->tokens = r->burst;
        s->last_ms = now_ms;
    } else {
        s->tokens += (uint32_t)add;
        s->last_ms += add * r->refill_ms;
    }
}

int wa_rate_check(struct wa_ratelimit *r, const uint8_t *key, size_t key_len, uint64_t now_ms)
{
    uint8_t h[WA_HASH_LEN];
    struct wa_rate_slot *s = NULL, *spare = NULL;
    if (r->burst == 0 || r->refill_ms == 0 || (!key && key_len))
        return WA_R_CONFIG;
    wa_sha256(key, key_len, h);
    for (unsigned i = 0; i < WA_RATE_SLOTS; i++) {
        struct wa_rate_slot *t = &r->slot[i];
        if (!t->used) {
            if (!spare || spare->used)
                spare = t;
            continue;
        }
        refill(r, t, now_ms);
        if (memcmp(t->key, h, WA_RATE_KEY_LEN) == 0)
            s = t;
        else if (!spare || (spare->used && t->tokens > spare->tokens))
            spare = t;
    }
    if (!s) {
        s = spare;
        memcpy(s->key, h, WA_RATE_KEY_LEN);
        s->tokens = r->burst;
        s->last_ms = now_ms;
        s->used = 1;
    }
    if (s->tokens == 0)
        return WA_R_RATE_LIMITED;
    s->tokens--;
    return WA_OK;
}
