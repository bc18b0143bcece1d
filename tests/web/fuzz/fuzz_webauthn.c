/* libFuzzer target for lib/webauthn.  Input: [mode][u16 n][n bytes of
 * clientDataJSON][rest].  Mode 0: rest is an attestation object
 * (registration); mode 1: rest is [u16 m][m bytes of authenticator
 * data][signature] checked against two stored credentials (ES256, EdDSA);
 * mode 2: the readers alone (JSON, authenticator data, COSE key, credential
 * records, base64url)
 * on the bytes after the header; mode 3: the rate limiter and the challenge
 * table driven by the bytes.  The seeds (tests/web/fuzz/seeds-webauthn) are
 * valid ceremonies for the fixture's challenges, so the fuzzer starts past
 * the signature checks.  Invariants trap: reasons within the enum, outputs
 * only on WA_OK and consistent. */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "webauthn.h"
#include "../unit/wa_authenticator.h"
#include "fuzz_webauthn_fixture.h"

static const char *const ORIGINS[] = { FUZZ_ORIGIN, NULL };
static const struct wa_rp RP = { "localhost", ORIGINS, 1 };
static struct wa_credential stored[2];
static int ready;

static void setup(void)
{
    struct soft_auth a;
    int algs[2] = { WA_ALG_ES256, WA_ALG_EDDSA };
    uint8_t seeds[2] = { FUZZ_ES256_SEED, FUZZ_EDDSA_SEED };
    for (int i = 0; i < 2; i++) {
        sa_init(&a, algs[i], seeds[i]);
        memset(&stored[i], 0, sizeof stored[i]);
        memcpy(stored[i].id, a.cred_id, a.cred_id_len);
        stored[i].id_len = (uint16_t)a.cred_id_len;
        stored[i].alg = (int16_t)algs[i];
        if (algs[i] == WA_ALG_ES256) {
            memcpy(stored[i].key, a.pk.q + 1, 64);
            stored[i].key_len = 64;
        } else {
            memcpy(stored[i].key, a.ed_pk, 32);
            stored[i].key_len = 32;
        }
        stored[i].sign_count = 3;
    }
    ready = 1;
}

#define REASON_OK(r) do { if ((r) < 0 || (r) >= WA_R_COUNT) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static struct wa_challenges t;
    uint8_t ch[WA_CHALLENGE_LEN];
    if (!ready)
        setup();
    if (n < 3)
        return 0;
    unsigned mode = d[0] & 3;
    size_t cdl = (size_t)d[1] << 8 | d[2];
    const uint8_t *cd = d + 3;
    if (cdl > n - 3)
        cdl = n - 3;
    const uint8_t *rest = cd + cdl;
    size_t rl = n - 3 - cdl;
    wa_challenges_init(&t, 60000);
    fuzz_challenge(WA_CREATE, ch);
    wa_challenge_issue(&t, WA_CREATE, ch, 1, 1000);
    fuzz_challenge(WA_GET, ch);
    wa_challenge_issue(&t, WA_GET, ch, 2, 1000);

    switch (mode) {
    case 0: {
        struct wa_credential c;
        struct wa_result res;
        memset(&c, 0xee, sizeof c);
        int r = wa_verify_registration(&RP, &t, 2000, cd, cdl, rest, rl, &c, &res);
        REASON_OK(r);
        if (r == WA_OK) {
            if (c.id_len == 0 || c.id_len > WA_CRED_ID_MAX || res.binding != 1 || !(res.flags & WA_FLAG_UP))
                __builtin_trap();
            if (!((c.alg == WA_ALG_ES256 && c.key_len == 64) || (c.alg == WA_ALG_EDDSA && c.key_len == 32)))
                __builtin_trap();
        }
        /* the challenge is single use whatever happened */
        int r2 = wa_verify_registration(&RP, &t, 2000, cd, cdl, rest, rl, &c, &res);
        if (r2 == WA_OK)
            __builtin_trap();
        break;
    }
    case 1: {
        if (rl < 2)
            return 0;
        size_t adl = (size_t)rest[0] << 8 | rest[1];
        if (adl > rl - 2)
            adl = rl - 2;
        const uint8_t *adp = rest + 2, *sig = adp + adl;
        size_t sl = rl - 2 - adl;
        for (int i = 0; i < 2; i++) {
            struct wa_credential c = stored[i];
            struct wa_result res;
            int r = wa_verify_assertion(&RP, &t, 2000, c.id, c.id_len, cd, cdl, adp, adl, sig, sl, &c, &res);
            REASON_OK(r);
            if (r == WA_OK && (c.sign_count <= stored[i].sign_count || res.binding != 2))
                __builtin_trap();
            if (r != WA_OK && memcmp(&c, &stored[i], sizeof c) != 0)
                __builtin_trap();
            /* reissue for the second credential */
            wa_challenge_issue(&t, WA_GET, ch, 2, 1000);
        }
        break;
    }
    case 2: {
        const uint8_t *p = d + 1;
        size_t m = n - 1;
        struct wa_client_data c;
        struct wa_auth_data a;
        struct wa_pubkey k;
        struct wa_cur cur;
        uint8_t out[512];
        REASON_OK(wa_json_client_data(p, m, &c));
        int r = wa_auth_data_parse(p, m, &a);
        REASON_OK(r);
        if (r == WA_OK && a.cose_key && (a.cose_key < p || a.cose_key + a.cose_key_len > p + m))
            __builtin_trap();
        REASON_OK(wa_cose_key_parse(p, m, &k));
        wa_cur_init(&cur, p, m);
        REASON_OK(wa_cbor_skip(&cur));
        struct wa_credential rec;
        if (wa_credential_decode(p, m, &rec) == WA_OK) {
            uint8_t again[WA_CREDENTIAL_WIRE_MAX];
            if (wa_credential_encode(&rec, again, sizeof again) != m || memcmp(again, p, m) != 0)
                __builtin_trap();   /* a record that decodes encodes back to the same bytes */
        }
        size_t dl = wa_b64url_decode(out, sizeof out, (const char *)p, m);
        if (dl != (size_t)-1) {
            char enc[1024];
            if (wa_b64url_encode(enc, sizeof enc, out, dl) != m || memcmp(enc, p, m) != 0)
                __builtin_trap();   /* canonical: decoding then encoding gives the input back */
        }
        break;
    }
    default: {
        static struct wa_ratelimit rl_t;
        wa_rate_init(&rl_t, 1 + (d[1] & 7), 1 + d[2]);
        uint64_t now = 0;
        for (size_t i = 3; i + 1 < n; i += 2) {
            now += d[i] & 0x3f;
            REASON_OK(wa_rate_check(&rl_t, &d[i + 1], 1, now));
            uint8_t c2[WA_CHALLENGE_LEN] = { d[i + 1] };
            REASON_OK(wa_challenge_issue(&t, 1 + (d[i] >> 7), c2, d[i], now));
            if (d[i] & 0x40)
                wa_challenge_cancel(&t, c2);
            if (wa_challenges_outstanding(&t, now) > WA_CHALLENGES_MAX)
                __builtin_trap();
        }
        break;
    }
    }
    return 0;
}
