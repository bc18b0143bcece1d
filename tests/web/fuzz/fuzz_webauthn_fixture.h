/* The fixed relying party, challenges and authenticators the webauthn
 * fuzzer checks against; the unit test writes the seeds from the same
 * values (test_webauthn --write-seeds). */
#ifndef FUZZ_WEBAUTHN_FIXTURE_H
#define FUZZ_WEBAUTHN_FIXTURE_H

#define FUZZ_ORIGIN      "https://localhost:8443"
#define FUZZ_ES256_SEED  0x51
#define FUZZ_EDDSA_SEED  0x52

/* The challenge issued for a ceremony before each run. */
static void fuzz_challenge(int ceremony, uint8_t ch[WA_CHALLENGE_LEN])
{
    for (unsigned i = 0; i < WA_CHALLENGE_LEN; i++)
        ch[i] = (uint8_t)(ceremony * 37 + i);
}

#endif
