/*
 * credentials: the CredentialStore service.
 *
 * Verifiers are libsodium's Argon2id strings (crypto_pwhash_str) with
 * opslimit 3 and memlimit 4 MiB: within a service's 16 MiB and about a
 * tenth of a second of emulated CPU (make bench does not time it yet; the
 * test prints it). Comparison is libsodium's (constant time). An unknown
 * principal is checked against a dummy verifier, so the answer takes as
 * long as for a real one. After 3 failures an account backs off for 1 s,
 * doubling up to 60 s. Nothing here prints or returns a verifier or a
 * password; the copies in our memory are wiped after use.
 */
#include "rt/capos.h"
#include <sodium.h>

#define MAX_ACCOUNTS 32
#define OPS 3
#define MEM (4u << 20)
#define FREE_FAILURES 3

struct cred {
    char principal[32];
    char verifier[crypto_pwhash_STRBYTES];
    uint32_t failures;
    uint64_t until_ns;               /* back-off end */
};

static struct cred creds[MAX_ACCOUNTS];
static uint32_t ncreds;
static char dummy[crypto_pwhash_STRBYTES];

static struct cred *find(capnp_text p)
{
    for (uint32_t i = 0; i < ncreds; i++)
        if (strlen(creds[i].principal) == p.len && !memcmp(creds[i].principal, p.str, p.len))
            return &creds[i];
    return 0;
}

/* The password as a NUL-free buffer copy we can wipe. */
static bool copy_password(capnp_data d, char *out, size_t cap)
{
    if (d.len == 0 || d.len >= cap)
        return false;
    memcpy(out, d.ptr, d.len);
    out[d.len] = 0;
    return true;
}

/* Check a password against who's verifier, counting failures and backing
 * off; *retry_ms is set for a back-off. pw is wiped by the caller. */
static uint16_t check(capnp_text who, const char *pw, uint64_t *retry_ms)
{
    struct cred *c = find(who);
    uint64_t now = rt_timer_now();
    if (c && now < c->until_ns) {
        *retry_ms = (c->until_ns - now + 999999) / 1000000;
        return capos_CredentialResult_backoff;
    }
    if (!c) {
        if (crypto_pwhash_str_verify(dummy, pw, strlen(pw)) == 0)   /* same cost, no enumeration */
            __asm__ volatile("");
        return capos_CredentialResult_unknownPrincipal;
    }
    if (crypto_pwhash_str_verify(c->verifier, pw, strlen(pw)) == 0) {
        c->failures = 0;
        return capos_CredentialResult_ok;
    }
    c->failures++;
    if (c->failures >= FREE_FAILURES) {
        uint32_t shift = c->failures - FREE_FAILURES;
        uint64_t secs = shift >= 6 ? 60 : 1ull << shift;
        c->until_ns = now + secs * 1000000000ull;
    }
    return capos_CredentialResult_wrongPassword;
}

static int do_verify(void *self, capos_CredentialStore_verify_Params_reader p, capos_CredentialStore_verify_Results_builder r)
{
    char pw[256];
    uint64_t retry = 0;
    if (!copy_password(capos_CredentialStore_verify_Params_get_password(p), pw, sizeof pw))
        return CAP_ERR_INVALID_ARGUMENT;
    uint16_t result = check(capos_CredentialStore_verify_Params_get_principal(p), pw, &retry);
    sodium_memzero(pw, sizeof pw);
    capos_CredentialStore_verify_Results_set_result(r, result);
    capos_CredentialStore_verify_Results_set_retryAfterMs(r, retry);
    return CAPNP_OK;
}

/* A new password for who, only with the current one (checked, counted and
 * backed off like a login). */
static int do_change(void *self, capos_CredentialStore_change_Params_reader p, capos_CredentialStore_change_Results_builder r)
{
    char old[256], pw[256];
    uint64_t retry = 0;
    capnp_text who = capos_CredentialStore_change_Params_get_principal(p);
    if (!copy_password(capos_CredentialStore_change_Params_get_old(p), old, sizeof old))
        return CAP_ERR_INVALID_ARGUMENT;
    if (!copy_password(capos_CredentialStore_change_Params_get_new(p), pw, sizeof pw)) {
        sodium_memzero(old, sizeof old);
        return CAP_ERR_INVALID_ARGUMENT;
    }
    uint16_t result = check(who, old, &retry);
    struct cred *c = find(who);
    if (result == capos_CredentialResult_ok && (!c || crypto_pwhash_str(c->verifier, pw, strlen(pw), OPS, MEM) != 0))
        result = capos_CredentialResult_wrongPassword;            /* cannot happen: kept closed */
    sodium_memzero(old, sizeof old);
    sodium_memzero(pw, sizeof pw);
    capos_CredentialStore_change_Results_set_result(r, result);
    capos_CredentialStore_change_Results_set_retryAfterMs(r, retry);
    return CAPNP_OK;
}

static int do_setup(void *self, capos_CredentialStore_setup_Params_reader p, capos_CredentialStore_setup_Results_builder r)
{
    capnp_text who = capos_CredentialStore_setup_Params_get_principal(p);
    char pw[256];
    if (who.len == 0 || who.len >= sizeof creds[0].principal ||
        !copy_password(capos_CredentialStore_setup_Params_get_password(p), pw, sizeof pw))
        return CAP_ERR_INVALID_ARGUMENT;
    bool created = false;
    if (ncreds == 0 && crypto_pwhash_str(creds[0].verifier, pw, strlen(pw), OPS, MEM) == 0) {
        memcpy(creds[0].principal, who.str, who.len);
        creds[0].principal[who.len] = 0;
        ncreds = 1;
        created = true;
    }
    sodium_memzero(pw, sizeof pw);
    capos_CredentialStore_setup_Results_set_created(r, created);
    return CAPNP_OK;
}

static int do_is_empty(void *self, capos_CredentialStore_isEmpty_Params_reader p, capos_CredentialStore_isEmpty_Results_builder r)
{
    capos_CredentialStore_isEmpty_Results_set_empty(r, ncreds == 0);
    return CAPNP_OK;
}

static const capos_CredentialStore_server server = { .verify = do_verify, .setup = do_setup, .isEmpty = do_is_empty, .change = do_change };

int main(void)
{
    uint32_t owner = rt_capset_require("credentials");
    if (sodium_init() < 0)
        return 2;
    char seed[32];
    randombytes_buf(seed, sizeof seed);                  /* a dummy no password matches */
    if (crypto_pwhash_str(dummy, seed, sizeof seed, OPS, MEM) != 0)
        return 3;
    sodium_memzero(seed, sizeof seed);
    static uint8_t buf[2048] __attribute__((aligned(8)));
    struct rt_incoming in;
    for (;;) {
        int r = rt_serve_one(owner, capos_CredentialStore_dispatch_any, &server, &in, buf, sizeof buf, &in);
        sodium_memzero(buf, sizeof buf);                 /* the request held a password */
        if (r == CAP_ERR_DISCONNECTED)
            return 0;
    }
}
