/*
 * The cost of checking a password: libsodium's Argon2id verify with the
 * CredentialStore's parameters (opslimit 3, memlimit 4 MiB), the same
 * library on both sides.
 * pair: argon2id-verify = argon2id-verify-linux
 */
#include "../bench.h"
#include <sodium.h>

#define RUNS 7
static uint64_t samples[RUNS];

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, "correct horse", 13, 3, 4u << 20) != 0)
        return 2;
    for (int i = 0; i < RUNS; i++) {
        uint64_t t0 = bench_tsc();
        int r = crypto_pwhash_str_verify(hash, "correct horse", 13);
        samples[i] = bench_tsc() - t0;
        if (r != 0)
            return 3;
    }
#ifdef __capos__
    bench_report("argon2id-verify", samples, RUNS, 1);
#else
    bench_report("argon2id-verify-linux", samples, RUNS, 1);
#endif
    return 0;
}
