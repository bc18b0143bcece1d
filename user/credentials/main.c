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
 *
 * With a "store" cap (a Store namespace of user/store) the verifiers are
 * durable: each is the key "cred:<principal>", loaded at start; setup and
 * change answer only once the new verifier is committed (a commit that
 * fails fails the call and changes nothing). Without one, RAM only.
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

static uint32_t store = ~0u;

/* Commit who's verifier to the store (true without a store). */
static bool persist(const char *principal, const char *verifier)
{
    if (store == ~0u)
        return true;
    char key[40] = "cred:";
    size_t plen = strlen(principal);
    memcpy(key + 5, principal, plen);
    RT_BUFS(b, 512, 128);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, 1);
    capos_StoreOp_builder o = capos_StoreOp_list_at(l, 0);
    capos_StoreOp_set_key(o, key, 5 + plen);
    capos_StoreOp_set_value(o, verifier, strlen(verifier));
    capos_Store_commit_Results_reader r;
    int e = capos_Store_commit_send(&call, &r);
    sodium_memzero(b_p, sizeof b_p);
    return e == 0 && capos_Store_commit_Results_get_error(r) == capos_StoreError_none;
}

/* Load every verifier the store holds. */
static void load(void)
{
    uint32_t cursor = 0;
    do {
        RT_BUFS(b, 128, 4096);
        capnp_client cl = RT_CLIENT(store);
        capnp_call call;
        capos_Store_list_Results_reader lr;
        if (capos_Store_list(&cl, &b, &call, cursor, &lr)) {
            printf("credentials: the store does not answer\n");
            return;
        }
        capnp_list keys = capos_Store_list_Results_get_keys(lr);
        cursor = capos_Store_list_Results_get_cursor(lr);
        for (uint32_t i = 0; i < keys.count && ncreds < MAX_ACCOUNTS; i++) {
            capnp_data k = capnp_list_data(keys, i);
            if (k.len <= 5 || k.len - 5 >= sizeof creds[0].principal || memcmp(k.ptr, "cred:", 5))
                continue;
            RT_BUFS(g, 128, 512);
            capnp_client gc = RT_CLIENT(store);
            capnp_call gcall;               /* the list's call still backs `keys` */
            capos_Store_get_Results_reader gr;
            if (capos_Store_get(&gc, &g, &gcall, k.ptr, k.len, &gr) || capos_Store_get_Results_get_error(gr))
                continue;
            capnp_data v = capos_Store_get_Results_get_value(gr);
            if (v.len == 0 || v.len >= crypto_pwhash_STRBYTES)
                continue;
            struct cred *c = &creds[ncreds++];
            memset(c, 0, sizeof *c);
            memcpy(c->principal, k.ptr + 5, k.len - 5);
            memcpy(c->verifier, v.ptr, v.len);
            sodium_memzero(g_r, sizeof g_r);
        }
    } while (cursor);
    printf("credentials: %u verifiers loaded from the store\n", ncreds);
}

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
    char fresh[crypto_pwhash_STRBYTES];
    bool stored = true;
    if (result == capos_CredentialResult_ok && (!c || crypto_pwhash_str(fresh, pw, strlen(pw), OPS, MEM) != 0))
        result = capos_CredentialResult_wrongPassword;            /* cannot happen: kept closed */
    else if (result == capos_CredentialResult_ok && (stored = persist(c->principal, fresh)))
        memcpy(c->verifier, fresh, sizeof fresh);
    sodium_memzero(fresh, sizeof fresh);
    sodium_memzero(old, sizeof old);
    sodium_memzero(pw, sizeof pw);
    if (!stored)
        return CAP_ERR_INVOKE_FAILED;                              /* not durable: unchanged */
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
        if (persist(creds[0].principal, creds[0].verifier)) {
            ncreds = 1;
            created = true;
        } else {
            sodium_memzero(&creds[0], sizeof creds[0]);
            sodium_memzero(pw, sizeof pw);
            return CAP_ERR_INVOKE_FAILED;                          /* not durable: still empty */
        }
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
    int64_t sc = rt_capset_find("store", capos_Store_ID);
    if (sc >= 0) {
        store = (uint32_t)sc;
        load();
    }
    static uint8_t buf[2048] __attribute__((aligned(8)));
    struct rt_incoming in;
    for (;;) {
        int r = rt_serve_one(owner, capos_CredentialStore_dispatch_any, &server, &in, buf, sizeof buf, &in);
        sodium_memzero(buf, sizeof buf);                 /* the request held a password */
        if (r == CAP_ERR_DISCONNECTED)
            return 0;
    }
}
