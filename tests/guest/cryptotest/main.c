/*
 * cryptotest: Debian's libsodium, linked into a capOS program, computing
 * known answers. The same file builds for Linux too; tests/crypto compares
 * the guest's lines with the host's, and checks the SHA-256 vector itself.
 */
#ifdef __capos__
#include "rt/capos.h"
#else
#include <stdio.h>
#define fmt_snprintf snprintf
#endif
#include <sodium.h>

static void hex(const char *name, const unsigned char *p, size_t n)
{
    char s[2 * 64 + 1];
    for (size_t i = 0; i < n && i < 64; i++)
        fmt_snprintf(s + 2 * i, 3, "%02x", p[i]);
    printf("CRYPTO %s %s\n", name, s);
}

int main(void)
{
    printf("CRYPTO init %d\n", sodium_init());
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)"abc", 3);
    hex("sha256-abc", h, 32);

    unsigned char seed[32], pk[32], sk[64], sig[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)i;
    crypto_sign_seed_keypair(pk, sk, seed);
    crypto_sign_detached(sig, 0, (const unsigned char *)"capOS", 5, sk);
    hex("ed25519-pk", pk, 32);
    hex("ed25519-sig", sig, 64);
    printf("CRYPTO ed25519-verify %d\n", crypto_sign_verify_detached(sig, (const unsigned char *)"capOS", 5, pk));
    sig[0] ^= 1;
    printf("CRYPTO ed25519-verify-tampered %d\n", crypto_sign_verify_detached(sig, (const unsigned char *)"capOS", 5, pk));

    unsigned char x[32];
    crypto_scalarmult_base(x, seed);
    hex("x25519-base", x, 32);

    unsigned char pw[32];
    int r = crypto_pwhash(pw, sizeof pw, "correct horse", 13, (const unsigned char *)"capOS salt 16 by", 3, 4u << 20,
                          crypto_pwhash_ALG_ARGON2ID13);
    printf("CRYPTO argon2id-result %d\n", r);
    hex("argon2id", pw, 32);

    unsigned char rnd[16] = { 0 };
    randombytes_buf(rnd, sizeof rnd);
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= rnd[i];
    printf("CRYPTO random-nonzero %d\n", nonzero != 0);
    return 0;
}
