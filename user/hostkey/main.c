/*
 * hostkey: the SSH host key's custodian. Holds the Ed25519 host key and
 * serves SshHostKey on its export "key": the public half and its
 * fingerprint, and signatures over SSH exchange hashes (exactly 32 bytes).
 * The private bytes never leave this process.
 *
 * Where the key comes from, in this order (the boot log says which, and
 * prints the key's fingerprint the way `ssh-keygen -lf` prints it):
 *   store   a Store namespace ("store" grant): the seed kept under
 *           "ed25519-seed"; on the first boot (notFound) a seed is made
 *           from the entropy source and committed (flushed) before the key
 *           is served. A store that cannot answer (damaged disk, no disk)
 *           is never overwritten: the key is then ephemeral, for this boot.
 *   seed=HEX in the args (64 hex digits): a fixed key, for test images;
 *           labelled NON-PRODUCTION (the seed is public).
 *   neither: an ephemeral key from the entropy source.
 */
#include "rt/capos.h"
#include <sodium.h>

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static char fingerprint[64];
static uint64_t signatures;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* seed=HEX from the args; 0 when found and well-formed. */
static int parse_seed(const char *args, uint8_t seed[32])
{
    const char *s = strstr(args, "seed=");
    if (!s || (s != args && s[-1] != ' '))
        return -1;
    s += 5;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        seed[i] = (uint8_t)(hi << 4 | lo);
    }
    return s[64] == 0 || s[64] == ' ' ? 0 : -1;
}

/* SHA256:BASE64 (no padding) of the key blob, as ssh-keygen -l shows it. */
static void make_fingerprint(void)
{
    uint8_t blob[51], h[32];
    memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
    memcpy(blob + 19, pk, 32);
    crypto_hash_sha256(h, blob, sizeof blob);
    memcpy(fingerprint, "SHA256:", 7);
    sodium_bin2base64(fingerprint + 7, sizeof fingerprint - 7, h, sizeof h, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

static int do_public(void *self, capos_SshHostKey_publicKey_Params_reader p, capos_SshHostKey_publicKey_Results_builder r)
{
    capos_SshHostKey_publicKey_Results_set_key(r, pk, sizeof pk);
    capos_SshHostKey_publicKey_Results_set_fingerprint(r, fingerprint, strlen(fingerprint));
    return CAPNP_OK;
}

static int do_sign(void *self, capos_SshHostKey_signExchangeHash_Params_reader p,
                   capos_SshHostKey_signExchangeHash_Results_builder r)
{
    capnp_data h = capos_SshHostKey_signExchangeHash_Params_get_hash(p);
    if (h.len != 32)
        return CAP_ERR_INVALID_ARGUMENT;        /* an exchange hash, nothing else */
    uint8_t sig[64];
    crypto_sign_detached(sig, 0, h.ptr, h.len, sk);
    capos_SshHostKey_signExchangeHash_Results_set_signature(r, sig, sizeof sig);
    signatures++;
    return CAPNP_OK;
}

static const capos_SshHostKey_server server = { .publicKey = do_public, .signExchangeHash = do_sign };

static const char SEED_KEY[] = "ed25519-seed";

/* The seed from the store, made and committed there on the first boot.
 * Returns the StoreError that stopped it (none: seed is set). */
static int seed_from_store(uint32_t store, uint8_t seed[32], bool *made)
{
    RT_BUFS(b, 256, 512);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_get_Results_reader gr;
    if (capos_Store_get(&cl, &b, &call, SEED_KEY, sizeof SEED_KEY - 1, &gr))
        return capos_StoreError_failed;
    int e = capos_Store_get_Results_get_error(gr);
    if (e == capos_StoreError_none) {
        capnp_data v = capos_Store_get_Results_get_value(gr);
        if (v.len != 32)
            return capos_StoreError_corrupt;
        memcpy(seed, v.ptr, 32);
        sodium_memzero(b_r, sizeof b_r);
        *made = false;
        return capos_StoreError_none;
    }
    if (e != capos_StoreError_notFound)
        return e;
    randombytes_buf(seed, 32);
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, 1);
    capos_StoreOp_builder o = capos_StoreOp_list_at(l, 0);
    capos_StoreOp_set_key(o, SEED_KEY, sizeof SEED_KEY - 1);
    capos_StoreOp_set_value(o, seed, 32);
    capos_Store_commit_Results_reader cr;
    e = capos_Store_commit_send(&call, &cr) ? capos_StoreError_failed : capos_Store_commit_Results_get_error(cr);
    sodium_memzero(b_p, sizeof b_p);                 /* the seed went out through this buffer */
    if (e != capos_StoreError_none)
        sodium_memzero(seed, 32);
    *made = true;
    return e;
}

int main(void)
{
    uint32_t owner = rt_capset_require("key");
    if (sodium_init() < 0) {
        printf("hostkey: no entropy for libsodium\n");
        return 2;
    }
    uint8_t seed[32];
    const char *origin;
    int64_t store = rt_capset_find("store", capos_Store_ID);
    if (store >= 0) {
        bool made = false;
        int e = seed_from_store((uint32_t)store, seed, &made);
        if (e == capos_StoreError_none) {
            origin = made ? "a new host key, made at this system's first boot and kept in the store"
                          : "the host key kept in the store";
        } else {
            printf("hostkey: the store cannot keep the host key (store error %d)\n", e);
            randombytes_buf(seed, sizeof seed);
            origin = "an EPHEMERAL host key for this boot only (the store is not usable)";
        }
    } else if (!parse_seed(rt_capset->args, seed)) {
        origin = "NON-PRODUCTION host key from the manifest (its seed is public)";
    } else {
        randombytes_buf(seed, sizeof seed);
        origin = "an EPHEMERAL host key for this boot only (no store granted)";
    }
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
    make_fingerprint();
    printf("hostkey: %s\n", origin);
    printf("hostkey: 256 %s capos-host-key (ED25519)\n", fingerprint);
    struct rt_incoming in;
    return rt_serve_forever(owner, capos_SshHostKey_dispatch_any, &server, &in);
}
