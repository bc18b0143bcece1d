/* lib/webauthn: WebAuthn (Level 2) relying-party verification, sans-IO.
 *
 * The caller owns the clock, the entropy, the credential store and every
 * piece of state (struct wa_challenges, struct wa_ratelimit, struct
 * wa_credential); the library checks the bytes a browser sent and answers
 * WA_OK or a stable reason code.  It never reads a clock or an entropy
 * source, allocates nothing and keeps no global state.  Crypto: ES256
 * (ECDSA P-256, ASN.1 DER signatures) and SHA-256 from BearSSL, EdDSA
 * (Ed25519) from libsodium.  See README.md for the checks, in order.
 *
 * The ceremony, as the relying party runs it:
 *   registration: wa_challenge_issue(WA_CREATE) -> options to the browser
 *     -> wa_verify_registration(clientDataJSON, attestationObject)
 *     -> store the struct wa_credential it fills;
 *   login: wa_challenge_issue(WA_GET) -> options -> look the credential up
 *     by the id the browser returns -> wa_verify_assertion(clientDataJSON,
 *     authenticatorData, signature, &credential) -> store the updated
 *     sign count.
 * Each challenge verifies at most one response: it is consumed when a
 * response naming it is checked, whatever the outcome. */
#ifndef CAPOS_WEBAUTHN_H
#define CAPOS_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>

/* Bounds (the fixed-size parts of the records below). */
#define WA_CRED_ID_MAX     255u  /* credential id bytes a record holds; longer ids are refused */
#define WA_KEY_MAX         64u   /* ES256: X||Y (2 x 32); EdDSA: 32 */
#define WA_AAGUID_LEN      16u
#define WA_CHALLENGE_LEN   32u   /* raw challenge bytes (43 characters of base64url) */
#define WA_CHALLENGES_MAX  64u   /* outstanding challenges per table */
#define WA_RATE_SLOTS      64u   /* tracked keys per rate-limit table */
#define WA_RATE_KEY_LEN    16u   /* keys are reduced to this many bytes of SHA-256 */
#define WA_HASH_LEN        32u   /* SHA-256 */

/* Input size limits (refused above, before any parsing). */
#define WA_CLIENT_DATA_MAX   2048u  /* clientDataJSON */
#define WA_ATTESTATION_MAX   4096u  /* attestationObject */
#define WA_AUTH_DATA_MAX     1024u  /* authenticatorData of an assertion */
#define WA_SIG_MAX           80u    /* ES256 DER is at most 72 bytes, EdDSA 64 */
#define WA_CBOR_DEPTH_MAX    4u     /* nesting of arrays/maps */
#define WA_CBOR_ITEMS_MAX    64u    /* entries of one array/map */
#define WA_ORIGINS_MAX       8u     /* accepted origins per relying party */

/* COSE algorithm identifiers (IANA). */
enum wa_alg { WA_ALG_ES256 = -7, WA_ALG_EDDSA = -8 };

/* Ceremonies (clientDataJSON "type"). */
enum wa_ceremony { WA_CREATE = 1 /* webauthn.create */, WA_GET = 2 /* webauthn.get */ };

/* Authenticator data flags (WebAuthn 6.1). */
enum { WA_FLAG_UP = 0x01, WA_FLAG_UV = 0x04, WA_FLAG_BE = 0x08, WA_FLAG_BS = 0x10,
       WA_FLAG_AT = 0x40, WA_FLAG_ED = 0x80 };

/* Reason codes: every refusal has one, stable across versions (append only). */
enum wa_reason {
    WA_OK = 0,
    /* sizes and shapes of the inputs */
    WA_R_INPUT_SIZE,         /* an input over its limit, or empty */
    WA_R_CBOR,               /* attestationObject or key not well-formed CBOR within the limits */
    WA_R_CBOR_INDEFINITE,    /* an indefinite-length item */
    WA_R_CBOR_DUP_KEY,       /* a map with a repeated key */
    WA_R_CBOR_DEPTH,         /* nesting over WA_CBOR_DEPTH_MAX, or too many entries */
    WA_R_CBOR_TRAILING,      /* bytes after the top-level item */
    WA_R_ATT_SHAPE,          /* attestationObject lacks fmt/authData/attStmt, or wrong types */
    /* clientDataJSON */
    WA_R_JSON,               /* not a well-formed JSON object within the limits */
    WA_R_JSON_DUP_KEY,       /* a member named twice */
    WA_R_TYPE,               /* "type" missing or not the ceremony's */
    WA_R_CHALLENGE_FORMAT,   /* "challenge" missing or not base64url of WA_CHALLENGE_LEN bytes */
    WA_R_CHALLENGE_UNKNOWN,  /* no outstanding challenge matches (never issued, or already used) */
    WA_R_CHALLENGE_EXPIRED,  /* it matched, but its time had passed */
    WA_R_CHALLENGE_CEREMONY, /* issued for the other ceremony */
    WA_R_ORIGIN,             /* "origin" missing or not exactly an accepted one */
    WA_R_CROSS_ORIGIN,       /* "crossOrigin" present and not false */
    /* authenticator data */
    WA_R_AUTH_DATA,          /* too short, lengths inconsistent, bytes after its end, or BS without BE */
    WA_R_RP_ID_HASH,         /* rpIdHash is not SHA-256 of the relying party id */
    WA_R_UP,                 /* user presence flag not set */
    WA_R_UV,                 /* user verification required and flag not set */
    WA_R_NO_CREDENTIAL_DATA, /* registration without attested credential data (AT) */
    WA_R_UNEXPECTED_CREDENTIAL_DATA, /* assertion with AT set */
    WA_R_EXTENSIONS,         /* ED set but no well-formed extensions map follows */
    WA_R_CRED_ID_LEN,        /* credential id empty or over WA_CRED_ID_MAX */
    WA_R_CRED_ID_MISMATCH,   /* assertion checked against another credential's id */
    /* keys and signatures */
    WA_R_COSE_KEY,           /* credential public key malformed (kty, crv, lengths) */
    WA_R_ALG_UNSUPPORTED,    /* alg other than ES256 / EdDSA */
    WA_R_KEY_INVALID,        /* the point is not on the curve / not a valid Ed25519 key */
    WA_R_SIGNATURE,          /* the signature does not verify */
    WA_R_SIGN_COUNT,         /* sign count not above the stored one: a possibly cloned authenticator */
    /* attestation statements */
    WA_R_ATT_FMT,            /* fmt other than "none" and "packed" */
    WA_R_ATT_STMT,           /* attStmt malformed for its fmt ("none" must be empty) */
    WA_R_ATT_X5C,            /* packed with a certificate chain: only self-attestation is accepted */
    WA_R_ATT_ALG,            /* packed self-attestation alg differs from the credential key's */
    WA_R_ATT_SIGNATURE,      /* packed self-attestation signature does not verify */
    /* state tables */
    WA_R_CHALLENGE_TABLE_FULL, /* every challenge slot is outstanding and unexpired */
    WA_R_RATE_LIMITED,       /* the key's token bucket is empty */
    WA_R_CONFIG,             /* unusable relying-party configuration or arguments */
    WA_R_RECORD,             /* a stored credential record that does not decode (wa_credential_decode) */
    WA_R_COUNT
};

/* "cbor.indefinite", ...: a short stable name for each reason; "?" beyond. */
const char *webauthn_reason_str(int reason);

/* The relying party.  Strings are NUL-terminated and compared byte for byte. */
struct wa_rp {
    const char *rp_id;                  /* e.g. "localhost" (its SHA-256 is the rpIdHash) */
    const char *const *origins;         /* NULL-terminated, at most WA_ORIGINS_MAX, e.g. "https://localhost:8443" */
    int require_uv;                     /* refuse responses without the UV flag */
};

/* A stored credential: what the account service keeps per passkey.
 * Plain bytes, fixed size, safe to copy and to persist as is (little-endian
 * integers when serialised by the caller). */
struct wa_credential {
    uint8_t id[WA_CRED_ID_MAX];
    uint16_t id_len;                    /* 1..WA_CRED_ID_MAX */
    int16_t alg;                        /* enum wa_alg */
    uint8_t key_len;                    /* 64 for ES256 (X||Y), 32 for EdDSA */
    uint8_t key[WA_KEY_MAX];
    uint32_t sign_count;                /* last seen; 0 for authenticators without a counter */
    uint8_t aaguid[WA_AAGUID_LEN];      /* from registration (informative only) */
    uint8_t flags;                      /* authenticator data flags at registration */
};

/* A credential record as bytes, for a store (version 1, little-endian):
 *   [0] version 1, [1] alg (int8: -7, -8), [2..3] id_len, [4] key_len,
 *   [5] flags, [6..9] sign_count, [10..25] aaguid, id (id_len), key (key_len).
 * Encode returns the length (at most WA_CREDENTIAL_WIRE_MAX), or 0 when
 * cap is too small or the record is not one a verification makes; decode
 * checks the same (exact length, alg and key_len matching, id 1..255) and
 * answers WA_OK or WA_R_RECORD. */
#define WA_CREDENTIAL_WIRE_FIXED 26u
#define WA_CREDENTIAL_WIRE_MAX   (WA_CREDENTIAL_WIRE_FIXED + WA_CRED_ID_MAX + WA_KEY_MAX)
size_t wa_credential_encode(const struct wa_credential *c, uint8_t *out, size_t cap);
int wa_credential_decode(const uint8_t *in, size_t len, struct wa_credential *c);

/* What a successful verification also reports. */
struct wa_result {
    uint64_t binding;                   /* the value given to wa_challenge_issue (e.g. an account/session id) */
    uint8_t flags;                      /* authenticator data flags */
    uint32_t sign_count;                /* the authenticator's counter in this response */
};

/* Outstanding challenges: a bounded table, caller-allocated. */
struct wa_challenge_slot {
    uint8_t bytes[WA_CHALLENGE_LEN];
    uint64_t expires_ms;
    uint64_t binding;
    uint8_t ceremony;                   /* 0: free */
};
struct wa_challenges {
    uint64_t ttl_ms;
    struct wa_challenge_slot slot[WA_CHALLENGES_MAX];
};

void wa_challenges_init(struct wa_challenges *t, uint64_t ttl_ms);
/* Issue random[0..WA_CHALLENGE_LEN) (the caller's entropy, used as the
 * challenge) for a ceremony, bound to `binding`, expiring ttl_ms after
 * now_ms.  Expired slots are reused; WA_R_CHALLENGE_TABLE_FULL when none is
 * free.  On WA_OK the caller sends the same bytes (base64url) to the browser. */
int wa_challenge_issue(struct wa_challenges *t, int ceremony, const uint8_t random[WA_CHALLENGE_LEN],
                       uint64_t binding, uint64_t now_ms);
/* Withdraw an outstanding challenge (e.g. the browser said it gave up). */
void wa_challenge_cancel(struct wa_challenges *t, const uint8_t challenge[WA_CHALLENGE_LEN]);
/* Outstanding, unexpired challenges (for tests and status pages). */
unsigned wa_challenges_outstanding(const struct wa_challenges *t, uint64_t now_ms);

/* Registration: clientDataJSON and attestationObject as the browser
 * returned them (decoded from base64url by the caller).  On WA_OK *cred is
 * the new credential (sign_count from the response) and *res what else the
 * response said.  Formats: "none" and "packed" self-attestation. */
int wa_verify_registration(const struct wa_rp *rp, struct wa_challenges *t, uint64_t now_ms,
                           const uint8_t *client_data, size_t client_data_len,
                           const uint8_t *attestation, size_t attestation_len,
                           struct wa_credential *cred, struct wa_result *res);

/* Assertion: cred is the stored credential the browser's credential id named
 * (the caller looks it up; id/id_len are compared again here).  On WA_OK
 * cred->sign_count is updated (persist it); on any refusal *cred is unchanged. */
int wa_verify_assertion(const struct wa_rp *rp, struct wa_challenges *t, uint64_t now_ms,
                        const uint8_t *cred_id, size_t cred_id_len,
                        const uint8_t *client_data, size_t client_data_len,
                        const uint8_t *auth_data, size_t auth_data_len,
                        const uint8_t *sig, size_t sig_len,
                        struct wa_credential *cred, struct wa_result *res);

/* Token-bucket rate limits, e.g. one table keyed by credential id and one by
 * source address.  Each key holds up to `burst` tokens, refilled one per
 * refill_ms of caller time; a check takes one token or answers
 * WA_R_RATE_LIMITED.  Keys are reduced to WA_RATE_KEY_LEN bytes of their
 * SHA-256.  When all slots are taken, the slot that has refilled the most
 * (idle the longest) is reused. */
struct wa_rate_slot {
    uint8_t key[WA_RATE_KEY_LEN];
    uint64_t last_ms;                   /* when `tokens` was last brought up to date */
    uint32_t tokens;                    /* whole tokens */
    uint8_t used;
};
struct wa_ratelimit {
    uint32_t burst;
    uint64_t refill_ms;
    struct wa_rate_slot slot[WA_RATE_SLOTS];
};
void wa_rate_init(struct wa_ratelimit *r, uint32_t burst, uint64_t refill_ms);
int wa_rate_check(struct wa_ratelimit *r, const uint8_t *key, size_t key_len, uint64_t now_ms);

/* Helpers the caller may use to talk to a browser. */
/* base64url without padding: encoded length of n bytes. */
#define WA_B64URL_LEN(n) (((n) * 4u + 2u) / 3u)
/* Encode in[0..n) into out (cap bytes, NUL added); returns the length or 0 when it does not fit. */
size_t wa_b64url_encode(char *out, size_t cap, const uint8_t *in, size_t n);
/* Decode s[0..n) (base64url, no padding, canonical) into out; returns the
 * length, or (size_t)-1 when malformed or over cap. */
size_t wa_b64url_decode(uint8_t *out, size_t cap, const char *s, size_t n);

#endif
