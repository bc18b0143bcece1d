/* lib/webauthn unit tests, under ASan/UBSan: registrations and assertions
 * from a software authenticator (ES256 and EdDSA, "none" and "packed"
 * self-attestation), then every refusal with its reason: client data (type,
 * challenge shape, unknown/replayed/expired/other-ceremony challenges,
 * origin, crossOrigin, duplicate members, malformed JSON), authenticator
 * data (RP ID hash, UP, UV, AT, extensions, lengths), COSE keys (alg, kty,
 * crv, sizes, points off the curve), signatures, sign counts (clone
 * detection), attestation statements, hostile CBOR built byte by byte
 * (indefinite lengths, repeated keys, non-minimal heads, depth, tags,
 * floats, trailing bytes, every truncation), the challenge table and the
 * rate limits.  Usage: test_webauthn [--write-seeds DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webauthn.h"
#include "wa_authenticator.h"

static int passed, failed;

#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)
#define EXPECT(got, want, what) do { int g_ = (got), w_ = (want); CHECK(g_ == w_, "%s: got %s, want %s", what, \
    webauthn_reason_str(g_), webauthn_reason_str(w_)); } while (0)

#define ORIGIN "https://localhost:8443"
static const char *const ORIGINS[] = { ORIGIN, "https://sub.localhost:8443", NULL };
static struct wa_rp RP = { "localhost", ORIGINS, 1 };
static struct wa_challenges T;
static uint64_t now = 1000000;
static const uint64_t TTL = 60000;

/* The last message built, for replays and seeds. */
static char cd[WA_CLIENT_DATA_MAX + 64];
static size_t cd_len;
static uint8_t ad[WA_AUTH_DATA_MAX + 64], att[WA_ATTESTATION_MAX + 64], sig[128];
static size_t ad_len, att_len, sig_len;
static uint8_t last_ch[WA_CHALLENGE_LEN];

/* A fresh challenge for a ceremony, issued into T. */
static void issue(int ceremony, uint8_t ch[WA_CHALLENGE_LEN])
{
    static uint32_t n;
    n++;
    for (unsigned i = 0; i < WA_CHALLENGE_LEN; i++)
        ch[i] = (uint8_t)(n * 131u + i * 7u);
    memcpy(ch, &n, sizeof n);
    if (wa_challenge_issue(&T, ceremony, ch, 1000 + n, now) != WA_OK) {
        printf("FAIL: could not issue a challenge\n");
        exit(1);
    }
}

struct opt {
    const char *type, *origin, *extra, *rp_id, *fmt;
    uint8_t flags;
    uint32_t count;
    int ceremony;               /* issued for */
    int64_t stmt_alg;           /* packed */
    int bad_sig, x5c;
    const uint8_t *cose;        /* instead of the authenticator's key */
    size_t cose_len;
};

static struct opt reg_opt(const char *fmt)
{
    struct opt o = { "webauthn.create", ORIGIN, NULL, "localhost", fmt, WA_FLAG_UP | WA_FLAG_UV | WA_FLAG_AT, 0,
                     WA_CREATE, 0, 0, 0, NULL, 0 };
    return o;
}

static struct opt get_opt(uint32_t count)
{
    struct opt o = { "webauthn.get", ORIGIN, NULL, "localhost", NULL, WA_FLAG_UP | WA_FLAG_UV, count,
                     WA_GET, 0, 0, 0, NULL, 0 };
    return o;
}

static void build_reg(const struct soft_auth *a, struct opt o)
{
    uint8_t stmt[256];
    size_t stmt_len;
    issue(o.ceremony, last_ch);
    cd_len = client_data(cd, sizeof cd, o.type, last_ch, o.origin, o.extra);
    ad_len = sa_auth_data(a, o.rp_id, o.flags, o.count, o.cose, o.cose_len, ad, sizeof ad);
    if (strcmp(o.fmt, "packed") == 0) {
        sig_len = sa_sign(a, ad, ad_len, (const uint8_t *)cd, cd_len, sig);
        if (o.bad_sig)
            sig[sig_len / 2] ^= 1;
        struct cw w = { stmt, sizeof stmt, 0 };
        cw_head(&w, 5, o.x5c ? 3 : 2);
        cw_text(&w, "alg"); cw_int(&w, o.stmt_alg ? o.stmt_alg : a->alg);
        cw_text(&w, "sig"); cw_bytes(&w, sig, sig_len);
        if (o.x5c) {
            cw_text(&w, "x5c"); cw_head(&w, 4, 1); cw_bytes(&w, "cert", 4);
        }
        stmt_len = w.len;
    } else {
        stmt[0] = 0xa0;
        stmt_len = 1;
    }
    att_len = sa_att_object(o.fmt, stmt, stmt_len, ad, ad_len, att, sizeof att);
}

static int verify_reg(struct wa_credential *c, struct wa_result *res)
{
    return wa_verify_registration(&RP, &T, now, (const uint8_t *)cd, cd_len, att, att_len, c, res);
}

static int reg(const struct soft_auth *a, struct opt o, struct wa_credential *c)
{
    struct wa_result res;
    build_reg(a, o);
    return verify_reg(c, &res);
}

static void build_get(const struct soft_auth *a, struct opt o)
{
    issue(o.ceremony, last_ch);
    cd_len = client_data(cd, sizeof cd, o.type, last_ch, o.origin, o.extra);
    ad_len = sa_auth_data(a, o.rp_id, o.flags, o.count, NULL, 0, ad, sizeof ad);
    sig_len = sa_sign(a, ad, ad_len, (const uint8_t *)cd, cd_len, sig);
    if (o.bad_sig)
        sig[sig_len - 3] ^= 0x40;
}

static int verify_get(struct wa_credential *c)
{
    struct wa_result res;
    return wa_verify_assertion(&RP, &T, now, c->id, c->id_len, (const uint8_t *)cd, cd_len, ad, ad_len, sig, sig_len,
                               c, &res);
}

static int get(const struct soft_auth *a, struct opt o, struct wa_credential *c)
{
    build_get(a, o);
    return verify_get(c);
}

/* A registration whose attestation object is raw bytes (hostile CBOR). */
static int reg_raw(const uint8_t *p, size_t n)
{
    struct wa_credential c;
    struct wa_result res;
    issue(WA_CREATE, last_ch);
    cd_len = client_data(cd, sizeof cd, "webauthn.create", last_ch, ORIGIN, NULL);
    return wa_verify_registration(&RP, &T, now, (const uint8_t *)cd, cd_len, p, n, &c, &res);
}

/* A registration whose clientDataJSON is raw text holding a fresh challenge at "%s". */
static int reg_json(const char *fmt)
{
    struct soft_auth a;
    struct wa_credential c;
    struct wa_result res;
    char b64[64];
    sa_init(&a, WA_ALG_ES256, 1);
    build_reg(&a, reg_opt("none"));
    wa_challenge_cancel(&T, last_ch);
    issue(WA_CREATE, last_ch);
    wa_b64url_encode(b64, sizeof b64, last_ch, WA_CHALLENGE_LEN);
    cd_len = (size_t)snprintf(cd, sizeof cd, fmt, b64, b64);
    return wa_verify_registration(&RP, &T, now, (const uint8_t *)cd, cd_len, att, att_len, &c, &res);
}

static void test_register_and_login(int alg, const char *fmt)
{
    struct soft_auth a;
    struct wa_credential c;
    struct wa_result res;
    char what[64];
    snprintf(what, sizeof what, "%s %s", alg == WA_ALG_ES256 ? "ES256" : "EdDSA", fmt);
    sa_init(&a, alg, alg == WA_ALG_ES256 ? 3 : 4);
    build_reg(&a, reg_opt(fmt));
    EXPECT(verify_reg(&c, &res), WA_OK, what);
    CHECK(c.id_len == a.cred_id_len && memcmp(c.id, a.cred_id, c.id_len) == 0, "%s: credential id", what);
    CHECK(c.alg == alg && c.key_len == (alg == WA_ALG_ES256 ? 64 : 32), "%s: key", what);
    CHECK(memcmp(c.key, alg == WA_ALG_ES256 ? a.pk.q + 1 : a.ed_pk, c.key_len) == 0, "%s: key bytes", what);
    CHECK(res.binding > 1000 && (res.flags & WA_FLAG_AT) && c.sign_count == 0, "%s: result", what);
    EXPECT(verify_reg(&c, &res), WA_R_CHALLENGE_UNKNOWN, "registration replayed");

    EXPECT(get(&a, get_opt(1), &c), WA_OK, "login");
    CHECK(c.sign_count == 1, "sign count stored");
    EXPECT(verify_get(&c), WA_R_CHALLENGE_UNKNOWN, "assertion replayed");
    EXPECT(get(&a, get_opt(5), &c), WA_OK, "login, count 5");
    EXPECT(get(&a, get_opt(5), &c), WA_R_SIGN_COUNT, "count equal to the stored one");
    EXPECT(get(&a, get_opt(3), &c), WA_R_SIGN_COUNT, "count below the stored one");
    EXPECT(get(&a, get_opt(0), &c), WA_R_SIGN_COUNT, "count 0 after a counter");
    CHECK(c.sign_count == 5, "a refused count leaves the record alone");
    struct opt o = get_opt(9);
    o.bad_sig = 1;
    EXPECT(get(&a, o, &c), WA_R_SIGNATURE, "bogus signature");
    CHECK(c.sign_count == 5, "a refused signature leaves the record alone");
    EXPECT(get(&a, get_opt(6), &c), WA_OK, "then a good one");
}

static void test_zero_counter(void)
{
    struct soft_auth a;
    struct wa_credential c;
    sa_init(&a, WA_ALG_EDDSA, 9);
    EXPECT(reg(&a, reg_opt("none"), &c), WA_OK, "register (counterless)");
    EXPECT(get(&a, get_opt(0), &c), WA_OK, "counterless login");
    EXPECT(get(&a, get_opt(0), &c), WA_OK, "counterless login again");
    CHECK(c.sign_count == 0, "counter stays 0");
}

static void test_assertion_refusals(void)
{
    struct soft_auth a, b;
    struct wa_credential c, cb;
    struct opt o;
    sa_init(&a, WA_ALG_ES256, 11);
    sa_init(&b, WA_ALG_ES256, 12);
    EXPECT(reg(&a, reg_opt("none"), &c), WA_OK, "register a");
    EXPECT(reg(&b, reg_opt("none"), &cb), WA_OK, "register b");

    o = get_opt(1); o.flags = WA_FLAG_UV;
    EXPECT(get(&a, o, &c), WA_R_UP, "no UP");
    o = get_opt(1); o.flags = WA_FLAG_UP;
    EXPECT(get(&a, o, &c), WA_R_UV, "no UV, required");
    RP.require_uv = 0;
    EXPECT(get(&a, o, &c), WA_OK, "no UV, not required");
    RP.require_uv = 1;
    o = get_opt(2); o.rp_id = "example.com";
    EXPECT(get(&a, o, &c), WA_R_RP_ID_HASH, "other RP ID");
    o = get_opt(2); o.rp_id = "sub.localhost";
    EXPECT(get(&a, o, &c), WA_R_RP_ID_HASH, "sub-domain RP ID");
    o = get_opt(2); o.origin = "https://evil.localhost:8443";
    EXPECT(get(&a, o, &c), WA_R_ORIGIN, "other origin");
    o = get_opt(2); o.origin = "https://localhost:8443/";
    EXPECT(get(&a, o, &c), WA_R_ORIGIN, "origin with a slash");
    o = get_opt(2); o.origin = "http://localhost:8443";
    EXPECT(get(&a, o, &c), WA_R_ORIGIN, "origin over http");
    o = get_opt(2); o.origin = "https://sub.localhost:8443";
    EXPECT(get(&a, o, &c), WA_OK, "second configured origin");
    o = get_opt(3); o.extra = ",\"crossOrigin\":true";
    EXPECT(get(&a, o, &c), WA_R_CROSS_ORIGIN, "crossOrigin true");
    o = get_opt(3); o.extra = ",\"crossOrigin\":\"false\"";
    EXPECT(get(&a, o, &c), WA_R_CROSS_ORIGIN, "crossOrigin a string");
    o = get_opt(3); o.extra = "";
    EXPECT(get(&a, o, &c), WA_OK, "crossOrigin absent");
    o = get_opt(4); o.type = "webauthn.create";
    EXPECT(get(&a, o, &c), WA_R_TYPE, "assertion typed create");
    o = get_opt(4); o.ceremony = WA_CREATE;
    EXPECT(get(&a, o, &c), WA_R_CHALLENGE_CEREMONY, "registration challenge used to log in");
    o = get_opt(4);
    build_get(&a, o);
    now += TTL;
    EXPECT(verify_get(&c), WA_R_CHALLENGE_EXPIRED, "expired challenge");
    EXPECT(get(&a, get_opt(4), &c), WA_OK, "a fresh one after that");

    /* b's response checked against a's record, and a's key claiming b's id */
    build_get(&b, get_opt(10));
    struct wa_result res;
    EXPECT(wa_verify_assertion(&RP, &T, now, b.cred_id, b.cred_id_len, (const uint8_t *)cd, cd_len, ad, ad_len, sig,
                               sig_len, &c, &res), WA_R_CRED_ID_MISMATCH, "another credential's id");
    wa_challenge_cancel(&T, last_ch);
    struct wa_credential forged = cb;
    memcpy(forged.key, c.key, 64);
    EXPECT(get(&b, get_opt(10), &forged), WA_R_SIGNATURE, "signature by another key");

    /* AT in an assertion, malformed authenticator data */
    o = get_opt(11); o.flags |= WA_FLAG_AT;
    EXPECT(get(&a, o, &c), WA_R_UNEXPECTED_CREDENTIAL_DATA, "AT in an assertion");
    build_get(&a, get_opt(11));
    ad_len = 36;
    EXPECT(verify_get(&c), WA_R_AUTH_DATA, "authenticator data cut short");
    build_get(&a, get_opt(11));
    ad[ad_len++] = 0;
    EXPECT(verify_get(&c), WA_R_AUTH_DATA, "a byte after the authenticator data");
    o = get_opt(11); o.flags |= WA_FLAG_ED;
    build_get(&a, o);
    EXPECT(verify_get(&c), WA_R_EXTENSIONS, "ED without extensions");
    build_get(&a, o);
    ad[ad_len++] = 0xa1; ad[ad_len++] = 0x61; ad[ad_len++] = 'x'; ad[ad_len++] = 0xf5;  /* {"x": true} */
    sig_len = sa_sign(&a, ad, ad_len, (const uint8_t *)cd, cd_len, sig);
    EXPECT(verify_get(&c), WA_OK, "ED with an extensions map");
    o = get_opt(12); o.flags |= WA_FLAG_BS;
    EXPECT(get(&a, o, &c), WA_R_AUTH_DATA, "backed up (BS) without backup eligibility (BE)");
    o = get_opt(12); o.flags |= WA_FLAG_BS | WA_FLAG_BE;
    EXPECT(get(&a, o, &c), WA_OK, "BS with BE");
    build_get(&a, get_opt(13));
    sig_len = 0;
    EXPECT(verify_get(&c), WA_R_INPUT_SIZE, "empty signature");
    wa_challenge_cancel(&T, last_ch);
    build_get(&a, get_opt(13));
    sig_len = WA_SIG_MAX + 1;
    EXPECT(verify_get(&c), WA_R_INPUT_SIZE, "oversize signature");
    wa_challenge_cancel(&T, last_ch);
    build_get(&a, get_opt(13));
    sig[0] = 0x31;
    EXPECT(verify_get(&c), WA_R_SIGNATURE, "signature not a DER SEQUENCE");
}

static void test_registration_refusals(void)
{
    struct soft_auth a, e;
    struct wa_credential c;
    struct opt o;
    sa_init(&a, WA_ALG_ES256, 21);
    sa_init(&e, WA_ALG_EDDSA, 22);

    o = reg_opt("packed"); o.bad_sig = 1;
    EXPECT(reg(&a, o, &c), WA_R_ATT_SIGNATURE, "packed: bad signature");
    o = reg_opt("packed"); o.bad_sig = 1;
    EXPECT(reg(&e, o, &c), WA_R_ATT_SIGNATURE, "packed EdDSA: bad signature");
    o = reg_opt("packed"); o.stmt_alg = WA_ALG_EDDSA;
    EXPECT(reg(&a, o, &c), WA_R_ATT_ALG, "packed: alg not the key's");
    o = reg_opt("packed"); o.x5c = 1;
    EXPECT(reg(&a, o, &c), WA_R_ATT_X5C, "packed with x5c");
    EXPECT(reg(&a, reg_opt("fido-u2f"), &c), WA_R_ATT_FMT, "fmt fido-u2f");
    EXPECT(reg(&a, reg_opt("tpm"), &c), WA_R_ATT_FMT, "fmt tpm");
    o = reg_opt("none"); o.flags = WA_FLAG_UV | WA_FLAG_AT;
    EXPECT(reg(&a, o, &c), WA_R_UP, "registration without UP");
    o = reg_opt("none"); o.flags = WA_FLAG_UP | WA_FLAG_AT;
    EXPECT(reg(&a, o, &c), WA_R_UV, "registration without UV");
    o = reg_opt("none"); o.flags = WA_FLAG_UP | WA_FLAG_UV;
    EXPECT(reg(&a, o, &c), WA_R_NO_CREDENTIAL_DATA, "registration without AT");
    o = reg_opt("none"); o.rp_id = "localhost.";
    EXPECT(reg(&a, o, &c), WA_R_RP_ID_HASH, "registration for another RP ID");
    o = reg_opt("none"); o.origin = "https://localhost:8444";
    EXPECT(reg(&a, o, &c), WA_R_ORIGIN, "registration from another port");
    o = reg_opt("none"); o.type = "webauthn.get";
    EXPECT(reg(&a, o, &c), WA_R_TYPE, "registration typed get");
    o = reg_opt("none"); o.ceremony = WA_GET;
    EXPECT(reg(&a, o, &c), WA_R_CHALLENGE_CEREMONY, "login challenge used to register");

    /* a "none" statement that is not empty */
    build_reg(&a, reg_opt("packed"));
    uint8_t stmt[160];
    size_t sl = sa_packed_stmt(-7, sig, sig_len, stmt, sizeof stmt);
    att_len = sa_att_object("none", stmt, sl, ad, ad_len, att, sizeof att);
    EXPECT(verify_reg(&c, &(struct wa_result){ 0 }), WA_R_ATT_STMT, "none with a statement");
    build_reg(&a, reg_opt("none"));
    att_len = sa_att_object("packed", (const uint8_t *)"\xa1\x63" "alg" "\x26", 6, ad, ad_len, att, sizeof att);
    EXPECT(verify_reg(&c, &(struct wa_result){ 0 }), WA_R_ATT_STMT, "packed without sig");
    build_reg(&a, reg_opt("none"));
    att_len = sa_att_object("packed", (const uint8_t *)"\xa1\x63" "foo" "\x26", 6, ad, ad_len, att, sizeof att);
    EXPECT(verify_reg(&c, &(struct wa_result){ 0 }), WA_R_ATT_STMT, "packed with an unknown member");

    /* COSE keys built by hand */
    struct { const char *what; int64_t kv[5][2]; int nkv; size_t xlen, ylen; int off_curve; int want; } keys[] = {
        { "RS256", { { 1, 3 }, { 3, -257 } }, 2, 0, 0, 0, WA_R_ALG_UNSUPPORTED },
        { "no alg", { { 1, 2 }, { -1, 1 } }, 2, 32, 32, 0, WA_R_ALG_UNSUPPORTED },
        { "ES256 kty OKP", { { 1, 1 }, { 3, -7 }, { -1, 1 } }, 3, 32, 32, 0, WA_R_COSE_KEY },
        { "ES256 crv P-384", { { 1, 2 }, { 3, -7 }, { -1, 2 } }, 3, 32, 32, 0, WA_R_COSE_KEY },
        { "ES256 x of 31 bytes", { { 1, 2 }, { 3, -7 }, { -1, 1 } }, 3, 31, 32, 0, WA_R_COSE_KEY },
        { "ES256 without y", { { 1, 2 }, { 3, -7 }, { -1, 1 } }, 3, 32, 0, 0, WA_R_COSE_KEY },
        { "ES256 off the curve", { { 1, 2 }, { 3, -7 }, { -1, 1 } }, 3, 32, 32, 1, WA_R_KEY_INVALID },
        { "EdDSA crv X25519", { { 1, 1 }, { 3, -8 }, { -1, 4 } }, 3, 32, 0, 0, WA_R_COSE_KEY },
        { "EdDSA with y", { { 1, 1 }, { 3, -8 }, { -1, 6 } }, 3, 32, 32, 0, WA_R_COSE_KEY },
        { "EdDSA small order", { { 1, 1 }, { 3, -8 }, { -1, 6 } }, 3, 32, 0, 1, WA_R_KEY_INVALID },
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint8_t cose[200], x[32], y[32];
        struct cw w = { cose, sizeof cose, 0 };
        memcpy(x, a.pk.q + 1, 32);
        memcpy(y, a.pk.q + 33, 32);
        if (keys[i].off_curve) {
            y[31] ^= 1;
            if (!keys[i].ylen) {
                memset(x, 0, 32);
                x[0] = 1;      /* the Ed25519 identity: order 1 */
            }
        }
        cw_head(&w, 5, (uint64_t)keys[i].nkv + (keys[i].xlen > 0) + (keys[i].ylen > 0));
        for (int k = 0; k < keys[i].nkv; k++) {
            cw_int(&w, keys[i].kv[k][0]);
            cw_int(&w, keys[i].kv[k][1]);
        }
        if (keys[i].xlen) { cw_int(&w, -2); cw_bytes(&w, x, keys[i].xlen); }
        if (keys[i].ylen) { cw_int(&w, -3); cw_bytes(&w, y, keys[i].ylen); }
        o = reg_opt("none");
        o.cose = cose;
        o.cose_len = w.len;
        EXPECT(reg(&a, o, &c), keys[i].want, keys[i].what);
    }
    /* a COSE key with a text label and an unknown label is fine */
    {
        uint8_t cose[200];
        struct cw w = { cose, sizeof cose, 0 };
        cw_head(&w, 5, 7);
        cw_int(&w, 1); cw_int(&w, 2);
        cw_int(&w, 3); cw_int(&w, -7);
        cw_int(&w, -1); cw_int(&w, 1);
        cw_int(&w, -2); cw_bytes(&w, a.pk.q + 1, 32);
        cw_int(&w, -3); cw_bytes(&w, a.pk.q + 33, 32);
        cw_text(&w, "note"); cw_text(&w, "x");
        cw_int(&w, 99); cw_head(&w, 4, 0);
        o = reg_opt("none"); o.cose = cose; o.cose_len = w.len;
        EXPECT(reg(&a, o, &c), WA_OK, "COSE key with extra labels");
        /* the same key with a repeated label */
        w.len = 0;
        cw_head(&w, 5, 6);
        cw_int(&w, 1); cw_int(&w, 2);
        cw_int(&w, 3); cw_int(&w, -7);
        cw_int(&w, -1); cw_int(&w, 1);
        cw_int(&w, -2); cw_bytes(&w, a.pk.q + 1, 32);
        cw_int(&w, -3); cw_bytes(&w, a.pk.q + 33, 32);
        cw_int(&w, 3); cw_int(&w, -8);
        o.cose_len = w.len;
        EXPECT(reg(&a, o, &c), WA_R_CBOR_DUP_KEY, "COSE key with alg twice");
    }
    /* credential id lengths */
    a.cred_id_len = WA_CRED_ID_MAX;
    EXPECT(reg(&a, reg_opt("none"), &c), WA_OK, "credential id of 255 bytes");
    CHECK(c.id_len == WA_CRED_ID_MAX, "255-byte id stored");
    a.cred_id_len = WA_CRED_ID_MAX + 1;
    a.cred_id[WA_CRED_ID_MAX - 1] = 0;
    /* the authenticator's id buffer holds WA_CRED_ID_MAX bytes: build a 256-byte one by hand */
    {
        static uint8_t big[WA_AUTH_DATA_MAX];
        struct cw w = { big, sizeof big, 0 };
        a.cred_id_len = 16;
        size_t n = sa_auth_data(&a, "localhost", WA_FLAG_UP | WA_FLAG_UV | WA_FLAG_AT, 0, NULL, 0, big, sizeof big);
        (void)n;
        /* rewrite from the id length on: 256 bytes of id, then the key */
        w.len = 32 + 1 + 4 + 16;
        uint8_t l[2] = { 1, 0 };
        cw_raw(&w, l, 2);
        uint8_t id[256];
        memset(id, 7, sizeof id);
        cw_raw(&w, id, sizeof id);
        sa_cose(&a, &w);
        issue(WA_CREATE, last_ch);
        cd_len = client_data(cd, sizeof cd, "webauthn.create", last_ch, ORIGIN, NULL);
        att_len = sa_att_object("none", (const uint8_t *)"\xa0", 1, big, w.len, att, sizeof att);
        EXPECT(verify_reg(&c, &(struct wa_result){ 0 }), WA_R_CRED_ID_LEN, "credential id of 256 bytes");
        l[0] = 0;
        w.len = 32 + 1 + 4 + 16;
        cw_raw(&w, l, 2);
        sa_cose(&a, &w);
        issue(WA_CREATE, last_ch);
        cd_len = client_data(cd, sizeof cd, "webauthn.create", last_ch, ORIGIN, NULL);
        att_len = sa_att_object("none", (const uint8_t *)"\xa0", 1, big, w.len, att, sizeof att);
        EXPECT(verify_reg(&c, &(struct wa_result){ 0 }), WA_R_CRED_ID_LEN, "empty credential id");
    }
}

static void test_client_data_json(void)
{
    static const struct { const char *json; int want; } t[] = {
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}", WA_OK },
        { " \r\n\t{ \"type\" : \"webauthn.create\" , \"challenge\":\"%s\",\"origin\":\"https:\\/\\/localhost:8443\","
          "\"other_keys_can_be_added_here\":\"do not compare clientDataJSON against a template. See https://goo.gl/yabPex\","
          "\"n\":[1,-2.5e+3,0.0,true,false,null,{\"a\":[]},\"\\u00e9\\ud83d\\ude00\"]} ", WA_OK },
        { "{\"typ\\u0065\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}", WA_OK },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}",
          WA_R_JSON_DUP_KEY },
        { "{\"type\":\"webauthn.create\",\"typ\\u0065\":\"webauthn.create\",\"challenge\":\"%s\"}", WA_R_JSON_DUP_KEY },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",\"origin\":\"x\"}",
          WA_R_JSON_DUP_KEY },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",\"crossOrigin\":false,"
          "\"crossOrigin\":true}", WA_R_JSON_DUP_KEY },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\"}", WA_R_ORIGIN },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":7}", WA_R_ORIGIN },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"https://localhost:8443\\u0000\"}", WA_R_ORIGIN },
        { "{\"type\":\"webauthn.create\",\"origin\":\"" ORIGIN "\"}", WA_R_CHALLENGE_FORMAT },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s=\",\"origin\":\"" ORIGIN "\"}", WA_R_CHALLENGE_FORMAT },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%.42s\",\"origin\":\"" ORIGIN "\"}", WA_R_CHALLENGE_FORMAT },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%sAAAA\",\"origin\":\"" ORIGIN "\"}", WA_R_CHALLENGE_FORMAT },
        { "{\"type\":\"webauthn.create\",\"challenge\":[\"%s\"],\"origin\":\"" ORIGIN "\"}", WA_R_CHALLENGE_FORMAT },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"x\":\"%s\","
          "\"origin\":\"" ORIGIN "\"}", WA_R_CHALLENGE_UNKNOWN },
        { "{\"type\":\"webauthn.Create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}", WA_R_TYPE },
        { "{\"type\":null,\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}", WA_R_TYPE },
        { "{\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}", WA_R_TYPE },
        { "[\"%s\"]", WA_R_JSON },
        { "", WA_R_INPUT_SIZE },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"} x", WA_R_JSON },
        { "{\"e\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0800\\uABCD\\u00Ff\",\"type\":\"webauthn.create\",\"challenge\":\"%s\","
          "\"origin\":\"" ORIGIN "\"}", WA_OK },
        { "{}", WA_R_TYPE },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\" 7}", WA_R_JSON },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\" \"" ORIGIN "\"}", WA_R_JSON },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",\"x\":[1,2,", WA_R_JSON },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",}", WA_R_JSON },
        { "{\"type\":\"webauthn.create\" \"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"", WA_R_JSON },
        { "{\"type\":\"web\nauthn.create\",\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"\\x\",\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"\\udc00\",\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"\\ud800x\",\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"\\ud800\\u0041\",\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"\\u12g4\",\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":01,\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":1.,\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":1e,\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":-,\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":tru,\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":[[[[1]]]],\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":[[[1]]],\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\"}", WA_OK },
        { "{\"n\":{\"a\" 1},\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"n\":[1 2],\"challenge\":\"%s\"}", WA_R_JSON },
        { "{7:1,\"challenge\":\"%s\"}", WA_R_JSON },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",\"crossOrigin\":falsey}",
          WA_R_JSON },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",\"crossOrigin\":null}",
          WA_R_CROSS_ORIGIN },
        { "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"" ORIGIN "\",\"crossOrigin\":0}",
          WA_R_CROSS_ORIGIN },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "clientDataJSON #%zu", i);
        EXPECT(reg_json(t[i].json), t[i].want, what);
        wa_challenge_cancel(&T, last_ch);
    }
    /* a string member over the decoder's bound, and the whole input over its limit */
    char long_origin[600];
    memset(long_origin, 'a', sizeof long_origin);
    static const char lo_head[] = "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",\"origin\":\"";
    memcpy(long_origin, lo_head, strlen(lo_head));
    strcpy(long_origin + 590, "\"}");
    EXPECT(reg_json(long_origin), WA_R_JSON, "origin over 256 bytes");
    wa_challenge_cancel(&T, last_ch);
    static char huge[WA_CLIENT_DATA_MAX + 100];
    memset(huge, ' ', sizeof huge);
    static const char huge_head[] = "{\"type\":\"webauthn.create\",\"challenge\":\"%s\",";
    memcpy(huge, huge_head, strlen(huge_head));
    strcpy(huge + sizeof huge - 40, "\"origin\":\"" ORIGIN "\"}");
    EXPECT(reg_json(huge), WA_R_INPUT_SIZE, "clientDataJSON over its limit");
}

/* Hostile CBOR attestation objects, built byte by byte. */
static void test_cbor(void)
{
    struct soft_auth a;
    struct wa_credential c;
    sa_init(&a, WA_ALG_ES256, 31);
    build_reg(&a, reg_opt("none"));
    wa_challenge_cancel(&T, last_ch);
    uint8_t good[1024];
    size_t good_len = att_len;
    memcpy(good, att, att_len);
    EXPECT(reg_raw(good, good_len), WA_OK, "the good object");

    /* every truncation, and one byte more */
    int all = 1;
    for (size_t n = 0; n < good_len; n++) {
        int r = reg_raw(good, n);
        if (r == WA_OK)
            all = 0;
    }
    CHECK(all, "no truncation of an attestation object verifies");
    good[good_len] = 0;
    EXPECT(reg_raw(good, good_len + 1), WA_R_CBOR_TRAILING, "a byte after the object");

    static const struct { const char *what; const char *hex; int want; } t[] = {
        { "indefinite map", "bf63666d74646e6f6e65ff", WA_R_CBOR_INDEFINITE },
        { "indefinite text", "a163666d747f646e6f6e65ff", WA_R_CBOR_INDEFINITE },
        { "indefinite bytes", "a163666d745f", WA_R_CBOR_INDEFINITE },
        { "indefinite array", "9f", WA_R_CBOR_INDEFINITE },
        { "reserved additional info 28", "bc", WA_R_CBOR },
        { "non-minimal map length", "b803", WA_R_CBOR },
        { "non-minimal int (24 as 2 bytes)", "a1636f6e65190018", WA_R_CBOR },
        { "non-minimal int 0x18 0x05", "a163666d741805", WA_R_CBOR },
        { "non-minimal 8-byte length", "a163666d743b0000000000000001", WA_R_CBOR },
        { "tag", "a163666d74c0646e6f6e65", WA_R_CBOR },
        { "half float", "a163666d74f93c00", WA_R_CBOR },
        { "double float", "a163666d74fb3ff0000000000000", WA_R_CBOR },
        { "undefined", "a163666d74f7", WA_R_CBOR },
        { "simple 255 (two-byte)", "a163666d74f8ff", WA_R_CBOR },
        { "byte string past the end", "a163666d7458ff00", WA_R_CBOR },
        { "text length 2^63", "a163666d747b8000000000000000", WA_R_CBOR },
        { "duplicate fmt", "a263666d74646e6f6e6563666d74646e6f6e65", WA_R_CBOR_DUP_KEY },
        { "duplicate integer key", "a201010101", WA_R_CBOR_DUP_KEY },
        { "duplicate key in a nested map", "a16761747453746d74a2616101616102", WA_R_CBOR_DUP_KEY },
        { "depth 5", "a161618181818101", WA_R_CBOR_DEPTH },
        { "array of 65", "a161619841", WA_R_CBOR_DEPTH },
        { "map of 65", "b841", WA_R_CBOR_DEPTH },
        { "top level not a map", "83010203", WA_R_ATT_SHAPE },
        { "integer key at the top", "a10101", WA_R_ATT_SHAPE },
        { "unknown member", "a163666f6f01", WA_R_ATT_SHAPE },
        { "fmt an integer", "a163666d7401", WA_R_ATT_SHAPE },
        { "attStmt an array", "a16761747453746d7480", WA_R_ATT_SHAPE },
        { "authData text", "a168617574684461746160", WA_R_ATT_SHAPE },
        { "members missing", "a163666d74646e6f6e65", WA_R_ATT_SHAPE },
        { "empty map", "a0", WA_R_ATT_SHAPE },
        { "empty input", "", WA_R_INPUT_SIZE },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[64];
        size_t n = 0;
        for (const char *h = t[i].hex; *h; ) {
            if (*h == ' ') { h++; continue; }
            unsigned v;
            sscanf(h, "%2x", &v);
            b[n++] = (uint8_t)v;
            h += 2;
        }
        EXPECT(reg_raw(b, n), t[i].want, t[i].what);
    }
    /* authenticator data over its limit inside a well-formed object */
    {
        static uint8_t adbig[WA_AUTH_DATA_MAX + 1], obj[WA_ATTESTATION_MAX];
        size_t on = sa_att_object("none", (const uint8_t *)"\xa0", 1, adbig, sizeof adbig, obj, sizeof obj);
        EXPECT(reg_raw(obj, on), WA_R_INPUT_SIZE, "authData over 1024 bytes");
    }
    /* oversize input */
    static uint8_t big[WA_ATTESTATION_MAX + 1];
    EXPECT(reg_raw(big, sizeof big), WA_R_INPUT_SIZE, "attestation object over its limit");

    /* every single-bit flip of the good object is refused or, where the bit is
     * one nobody signs ("none" has no signature), still a consistent outcome */
    int crashes = 0;
    for (size_t i = 0; i < good_len; i++)
        for (int bit = 0; bit < 8; bit++) {
            good[i] ^= (uint8_t)(1 << bit);
            int r = reg_raw(good, good_len);
            good[i] ^= (uint8_t)(1 << bit);
            if (r < 0 || r >= WA_R_COUNT)
                crashes++;
        }
    CHECK(crashes == 0, "bit flips give known reasons");
    (void)c;
}

static void test_challenges(void)
{
    struct wa_challenges t;
    uint8_t ch[WA_CHALLENGE_LEN] = { 0 };
    wa_challenges_init(&t, 1000);
    EXPECT(wa_challenge_issue(&t, 3, ch, 0, 0), WA_R_CONFIG, "unknown ceremony");
    EXPECT(wa_challenge_issue(&t, WA_GET, NULL, 0, 0), WA_R_CONFIG, "no random bytes");
    for (unsigned i = 0; i < WA_CHALLENGES_MAX; i++) {
        ch[0] = (uint8_t)i;
        EXPECT(wa_challenge_issue(&t, WA_GET, ch, i, 100), WA_OK, "fill the table");
    }
    CHECK(wa_challenges_outstanding(&t, 100) == WA_CHALLENGES_MAX, "all outstanding");
    ch[0] = 0xff;
    EXPECT(wa_challenge_issue(&t, WA_GET, ch, 0, 500), WA_R_CHALLENGE_TABLE_FULL, "full table");
    ch[0] = 3;
    wa_challenge_cancel(&t, ch);
    CHECK(wa_challenges_outstanding(&t, 100) == WA_CHALLENGES_MAX - 1, "cancel frees one");
    ch[0] = 0xfe;
    EXPECT(wa_challenge_issue(&t, WA_CREATE, ch, 0, 500), WA_OK, "a freed slot is reused");
    CHECK(wa_challenges_outstanding(&t, 1100) == 1, "expired ones are not counted");
    ch[0] = 0xfd;
    EXPECT(wa_challenge_issue(&t, WA_CREATE, ch, 0, 1100), WA_OK, "expired slots are reused");
    struct wa_challenges z;
    wa_challenges_init(&z, 0);
    EXPECT(wa_challenge_issue(&z, WA_GET, ch, 0, 0), WA_R_CONFIG, "ttl 0");
}

static void test_rate(void)
{
    struct wa_ratelimit r;
    wa_rate_init(&r, 3, 1000);
    const uint8_t k1[] = "credential-1", k2[] = "10.0.0.2";
    for (int i = 0; i < 3; i++)
        EXPECT(wa_rate_check(&r, k1, sizeof k1, 5000), WA_OK, "within the burst");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 5000), WA_R_RATE_LIMITED, "burst spent");
    EXPECT(wa_rate_check(&r, k2, sizeof k2, 5000), WA_OK, "another key is independent");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 5999), WA_R_RATE_LIMITED, "not yet refilled");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 6000), WA_OK, "one token after refill_ms");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 6000), WA_R_RATE_LIMITED, "only one");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 3000), WA_R_RATE_LIMITED, "time going back refills nothing");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 6500), WA_R_RATE_LIMITED, "half a period is not a token");
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 7000), WA_OK, "the remainder carried");
    int ok = 0;
    for (int i = 0; i < 10; i++)
        ok += wa_rate_check(&r, k1, sizeof k1, 100000) == WA_OK;
    CHECK(ok == 3, "a long idle refills to the burst only (%d)", ok);
    /* a full table: the limited key keeps its empty bucket */
    for (int i = 0; i < 3; i++)
        wa_rate_check(&r, k1, sizeof k1, 200000);
    for (unsigned i = 0; i < 3 * WA_RATE_SLOTS; i++) {
        uint32_t k = i;
        wa_rate_check(&r, (const uint8_t *)&k, sizeof k, 200000);
    }
    EXPECT(wa_rate_check(&r, k1, sizeof k1, 200000), WA_R_RATE_LIMITED, "still limited after many other keys");
    struct wa_ratelimit bad;
    wa_rate_init(&bad, 0, 1000);
    EXPECT(wa_rate_check(&bad, k1, sizeof k1, 0), WA_R_CONFIG, "burst 0");
}

static void test_b64url_and_reasons(void)
{
    static const struct { const char *raw, *enc; } v[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
        { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[32];
        uint8_t back[32];
        size_t n = strlen(v[i].raw);
        CHECK(wa_b64url_encode(out, sizeof out, (const uint8_t *)v[i].raw, n) == strlen(v[i].enc) &&
              strcmp(out, v[i].enc) == 0, "encode %s", v[i].enc);
        CHECK(wa_b64url_decode(back, sizeof back, v[i].enc, strlen(v[i].enc)) == n &&
              memcmp(back, v[i].raw, n) == 0, "decode %s", v[i].enc);
    }
    static const char *const bad[] = { "Z", "Zh", "Zm9=", "Zm+v", "Zm/v", "Zm9 ", "Zm8=" , "Zm9wA" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t back[32];
        CHECK(wa_b64url_decode(back, sizeof back, bad[i], strlen(bad[i])) == (size_t)-1, "refuse %s", bad[i]);
    }
    uint8_t small[2];
    CHECK(wa_b64url_decode(small, sizeof small, "Zm9v", 4) == (size_t)-1, "decode over cap");
    char tiny[4];
    CHECK(wa_b64url_encode(tiny, sizeof tiny, (const uint8_t *)"foo", 3) == 0, "encode over cap");
    int distinct = 1;
    for (int i = 0; i < WA_R_COUNT; i++) {
        if (strcmp(webauthn_reason_str(i), "?") == 0)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (strcmp(webauthn_reason_str(i), webauthn_reason_str(j)) == 0)
                distinct = 0;
    }
    CHECK(distinct, "every reason has its own name");
    CHECK(strcmp(webauthn_reason_str(WA_R_COUNT), "?") == 0 && strcmp(webauthn_reason_str(-1), "?") == 0,
          "unknown reasons");
}

static void test_config(void)
{
    struct soft_auth a;
    struct wa_credential c;
    struct wa_result res;
    sa_init(&a, WA_ALG_ES256, 41);
    build_reg(&a, reg_opt("none"));
    struct wa_rp none = { "localhost", NULL, 0 };
    EXPECT(wa_verify_registration(&none, &T, now, (const uint8_t *)cd, cd_len, att, att_len, &c, &res), WA_R_CONFIG,
           "no origins");
    static const char *const many[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", NULL };
    struct wa_rp lots = { "localhost", many, 0 };
    EXPECT(wa_verify_registration(&lots, &T, now, (const uint8_t *)cd, cd_len, att, att_len, &c, &res), WA_R_CONFIG,
           "too many origins");
    EXPECT(wa_verify_registration(&RP, &T, now, (const uint8_t *)cd, cd_len, att, att_len, NULL, &res), WA_R_CONFIG,
           "no output");
    EXPECT(verify_reg(&c, &res), WA_OK, "the challenge survived refused configurations");
    memset(&c, 0, sizeof c);
    EXPECT(wa_verify_assertion(&RP, &T, now, c.id, 0, (const uint8_t *)cd, cd_len, ad, ad_len, sig, 8, &c, &res),
           WA_R_CONFIG, "an empty credential record");
}

static void test_records(void)
{
    struct soft_auth a, e;
    struct wa_credential c, d;
    uint8_t buf[WA_CREDENTIAL_WIRE_MAX + 8];
    sa_init(&a, WA_ALG_ES256, 51);
    sa_init(&e, WA_ALG_EDDSA, 52);
    EXPECT(reg(&a, reg_opt("none"), &c), WA_OK, "register for a record");
    EXPECT(get(&a, get_opt(0x01020304), &c), WA_OK, "a login moves the counter");
    size_t n = wa_credential_encode(&c, buf, sizeof buf);
    CHECK(n == WA_CREDENTIAL_WIRE_FIXED + 16 + 64 && buf[0] == 1 && buf[1] == 0xf9 && buf[6] == 4 && buf[9] == 1,
          "ES256 record layout (%zu bytes)", n);
    memset(&d, 0x55, sizeof d);
    EXPECT(wa_credential_decode(buf, n, &d), WA_OK, "decode");
    CHECK(memcmp(&c, &d, sizeof c) == 0, "record round trip");
    EXPECT(get(&a, get_opt(0x01020305), &d), WA_OK, "a decoded record verifies the next login");
    CHECK(wa_credential_encode(&c, buf, n - 1) == 0, "encode into a short buffer");
    int all = 1;
    for (size_t k = 0; k < n; k++)
        if (wa_credential_decode(buf, k, &d) == WA_OK)
            all = 0;
    CHECK(all, "no truncated record decodes");
    buf[n] = 0;
    EXPECT(wa_credential_decode(buf, n + 1, &d), WA_R_RECORD, "a byte after the record");
    static const struct { unsigned off; uint8_t val; const char *what; } bad[] = {
        { 0, 2, "version 2" }, { 1, 0xf8, "alg -8 with a 64-byte key" }, { 1, 0x00, "alg 0" },
        { 4, 32, "key length 32 for ES256" }, { 2, 0, "id length 0" }, { 3, 1, "id length 272" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint8_t save = buf[bad[k].off];
        buf[bad[k].off] = bad[k].val;
        EXPECT(wa_credential_decode(buf, n, &d), WA_R_RECORD, bad[k].what);
        buf[bad[k].off] = save;
    }
    EXPECT(wa_credential_decode(NULL, 0, &d), WA_R_RECORD, "no bytes");
    EXPECT(reg(&e, reg_opt("packed"), &c), WA_OK, "register EdDSA for a record");
    n = wa_credential_encode(&c, buf, sizeof buf);
    CHECK(n == WA_CREDENTIAL_WIRE_FIXED + 16 + 32 && wa_credential_decode(buf, n, &d) == WA_OK &&
          memcmp(&c, &d, sizeof c) == 0, "EdDSA record round trip");
    c.key_len = 64;
    CHECK(wa_credential_encode(&c, buf, sizeof buf) == 0, "an inconsistent record is not encoded");
}

/* The fuzzer's seeds: [mode][u16 client data length][client data][rest]. */
static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *a, size_t alen,
                       const uint8_t *b, size_t blen, const uint8_t *c3, size_t clen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    uint8_t h[3] = { mode, (uint8_t)(alen >> 8), (uint8_t)alen };
    fwrite(h, 1, 3, f);
    fwrite(a, 1, alen, f);
    if (mode == 1) {
        uint8_t l[2] = { (uint8_t)(blen >> 8), (uint8_t)blen };
        fwrite(l, 1, 2, f);
    }
    fwrite(b, 1, blen, f);
    if (c3)
        fwrite(c3, 1, clen, f);
    fclose(f);
}

#include "../fuzz/fuzz_webauthn_fixture.h"

static void write_seeds(const char *dir)
{
    struct soft_auth es, ed;
    uint8_t ch[WA_CHALLENGE_LEN];
    fuzz_challenge(WA_CREATE, ch);
    sa_init(&es, WA_ALG_ES256, FUZZ_ES256_SEED);
    sa_init(&ed, WA_ALG_EDDSA, FUZZ_EDDSA_SEED);
    const char *fmts[] = { "none", "packed" };
    struct soft_auth *auths[] = { &es, &ed };
    for (int i = 0; i < 2; i++)
        for (int f = 0; f < 2; f++) {
            char name[64];
            struct opt o = reg_opt(fmts[f]);
            build_reg(auths[i], o);
            /* rebuild with the fuzzer's fixed challenge */
            cd_len = client_data(cd, sizeof cd, "webauthn.create", ch, FUZZ_ORIGIN, NULL);
            if (f == 1) {
                uint8_t stmt[160];
                sig_len = sa_sign(auths[i], ad, ad_len, (const uint8_t *)cd, cd_len, sig);
                size_t sl = sa_packed_stmt(auths[i]->alg, sig, sig_len, stmt, sizeof stmt);
                att_len = sa_att_object("packed", stmt, sl, ad, ad_len, att, sizeof att);
            }
            snprintf(name, sizeof name, "reg-%s-%s", i ? "eddsa" : "es256", fmts[f]);
            write_seed(dir, name, 0, (const uint8_t *)cd, cd_len, att, att_len, NULL, 0);
        }
    {
        /* a stored record (mode 2 reads the bytes after the mode byte) */
        struct wa_credential rec = { .id_len = 16, .alg = WA_ALG_ES256, .key_len = 64, .sign_count = 9 };
        memcpy(rec.id, es.cred_id, 16);
        memcpy(rec.key, es.pk.q + 1, 64);
        uint8_t rb[1 + WA_CREDENTIAL_WIRE_MAX] = { 2 };
        size_t rn = wa_credential_encode(&rec, rb + 1, sizeof rb - 1);
        char path[512];
        snprintf(path, sizeof path, "%s/record-es256", dir);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(rb, 1, rn + 1, f) != rn + 1) { perror(path); exit(1); }
        fclose(f);
    }
    fuzz_challenge(WA_GET, ch);
    for (int i = 0; i < 2; i++) {
        char name[64];
        cd_len = client_data(cd, sizeof cd, "webauthn.get", ch, FUZZ_ORIGIN, NULL);
        ad_len = sa_auth_data(auths[i], "localhost", WA_FLAG_UP | WA_FLAG_UV, 7, NULL, 0, ad, sizeof ad);
        sig_len = sa_sign(auths[i], ad, ad_len, (const uint8_t *)cd, cd_len, sig);
        snprintf(name, sizeof name, "get-%s", i ? "eddsa" : "es256");
        write_seed(dir, name, 1, (const uint8_t *)cd, cd_len, ad, ad_len, sig, sig_len);
    }
}

int main(int argc, char **argv)
{
    wa_challenges_init(&T, TTL);
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        write_seeds(argv[2]);
        return 0;
    }
    test_register_and_login(WA_ALG_ES256, "none");
    test_register_and_login(WA_ALG_ES256, "packed");
    test_register_and_login(WA_ALG_EDDSA, "none");
    test_register_and_login(WA_ALG_EDDSA, "packed");
    test_zero_counter();
    test_assertion_refusals();
    test_registration_refusals();
    test_client_data_json();
    test_cbor();
    test_challenges();
    test_rate();
    test_b64url_and_reasons();
    test_config();
    test_records();
    printf("webauthn unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
