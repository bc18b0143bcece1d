/* lib/webauthn: the table of outstanding challenges.
 *
 * Invariant: a slot with ceremony != 0 holds a challenge that was issued
 * and not yet taken; taking one frees its slot whatever the outcome, so a
 * challenge verifies at most one response.  The search compares the
 * presented challenge with every slot in full (no early exit), so timing
 * does not tell how much of a guess matched. */
#include <string.h>

#include "internal.h"

void wa_challenges_init(struct wa_challenges *t, uint64_t ttl_ms)
{
    memset(t, 0, sizeof *t);
    t->ttl_ms = ttl_ms;
}

int wa_challenge_issue(struct wa_challenges *t, int ceremony, const uint8_t random[WA_CHALLENGE_LEN],
                       uint64_t binding, uint64_t now_ms)
{
    if ((ceremony != WA_CREATE && ceremony != WA_GET) || !random || t->ttl_ms == 0)
        return WA_R_CONFIG;
    for (unsigned i = 0; i < WA_CHALLENGES_MAX; i++) {
        struct wa_challenge_slot *s = &t->slot[i];
        if (s->ceremony != 0 && now_ms < s->expires_ms)
            continue;
        memcpy(s->bytes, random, WA_CHALLENGE_LEN);
        s->expires_ms = now_ms + t->ttl_ms;
        s->binding = binding;
        s->ceremony = (uint8_t)ceremony;
        return WA_OK;
    }
    return WA_R_CHALLENGE_TABLE_FULL;
}

/* Index of the slot holding ch, or WA_CHALLENGES_MAX; constant time in ch. */
static unsigned find(const struct wa_challenges *t, const uint8_t ch[WA_CHALLENGE_LEN])
{
    unsigned found = WA_CHALLENGES_MAX;
    for (unsigned i = 0; i < WA_CHALLENGES_MAX; i++) {
        const struct wa_challenge_slot *s = &t->slot[i];
        uint8_t diff = 0;
        for (unsigned j = 0; j < WA_CHALLENGE_LEN; j++)
            diff |= (uint8_t)(s->bytes[j] ^ ch[j]);
        /* mask is all ones when the slot is in use and equal */
        uint32_t in_use = (uint32_t)(s->ceremony != 0);
        uint32_t mask = (uint32_t)0 - (in_use & (uint32_t)(((uint32_t)diff - 1u) >> 31));
        found = (found & ~mask) | (i & mask);
    }
    return found;
}

void wa_challenge_cancel(struct wa_challenges *t, const uint8_t challenge[WA_CHALLENGE_LEN])
{
    unsigned i = find(t, challenge);
    if (i < WA_CHALLENGES_MAX)
        memset(&t->slot[i], 0, sizeof t->slot[i]);
}

unsigned wa_challenges_outstanding(const struct wa_challenges *t, uint64_t now_ms)
{
    unsigned n = 0;
    for (unsigned i = 0; i < WA_CHALLENGES_MAX; i++)
        n += t->slot[i].ceremony != 0 && now_ms < t->slot[i].expires_ms;
    return n;
}

int wa_challenge_take(struct wa_challenges *t, int ceremony, const uint8_t *b64, size_t b64_len,
                      uint64_t now_ms, uint64_t *binding)
{
    uint8_t ch[WA_CHALLENGE_LEN];
    if (b64_len != WA_B64URL_LEN(WA_CHALLENGE_LEN) ||
        wa_b64url_decode(ch, sizeof ch, (const char *)b64, b64_len) != WA_CHALLENGE_LEN)
        return WA_R_CHALLENGE_FORMAT;
    unsigned i = find(t, ch);
    if (i >= WA_CHALLENGES_MAX)
        return WA_R_CHALLENGE_UNKNOWN;
    struct wa_challenge_slot s = t->slot[i];
    memset(&t->slot[i], 0, sizeof t->slot[i]);   /* single use */
    if (now_ms >= s.expires_ms)
        return WA_R_CHALLENGE_EXPIRED;
    if (s.ceremony != ceremony)
        return WA_R_CHALLENGE_CEREMONY;
    *binding = s.binding;
    return WA_OK;
}
