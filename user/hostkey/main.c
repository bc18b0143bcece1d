/*
 * hostkey: the SSH host key's custodian. Holds the Ed25519 host key and
 * serves SshHostKey on its export "key": the public half and its
 * fingerprint, and signatures over SSH exchange hashes (exactly 32 bytes).
 * The private bytes never leave this process.
 *
 * args: seed=HEX (the 32-byte Ed25519 seed, 64 hex digits). Until durable
 * storage exists the key comes from the manifest: the boot log says so
 * (non-production) and prints the key's fingerprint the way
 * `ssh-keygen -lf` prints it.
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

int main(void)
{
    uint32_t owner = rt_capset_require("key");
    if (sodium_init() < 0) {
        printf("hostkey: no entropy for libsodium\n");
        return 2;
    }
    uint8_t seed[32];
    if (parse_seed(rt_capset->args, seed)) {
        printf("hostkey: no host key (args: seed=64 hex digits)\n");
        return 2;
    }
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
    make_fingerprint();
    printf("hostkey: NON-PRODUCTION host key from the manifest (no durable storage yet)\n");
    printf("hostkey: 256 %s capos-host-key (ED25519)\n", fingerprint);
    struct rt_incoming in;
    return rt_serve_forever(owner, capos_SshHostKey_dispatch_any, &server, &in);
}
