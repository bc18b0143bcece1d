/*
 * OpenSSH's private key format (PROTOCOL.key): after the PEM-like armour, a
 * base64 blob
 *   "openssh-key-v1\0" string cipher, string kdf, string kdfoptions,
 *   uint32 nkeys, string publickey, string private
 * where private (unencrypted: cipher and kdf "none") is
 *   uint32 check, uint32 check, string "ssh-ed25519", string pub[32],
 *   string priv[64] (seed || pub), string comment, padding 1, 2, 3...
 * Every read goes through one checked cursor.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sshkey.h"

struct cur {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static uint32_t u32(struct cur *c)
{
    if (c->bad || c->left < 4) {
        c->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->left -= 4;
    return v;
}

/* A string: its bytes stay in the buffer. */
static const uint8_t *str(struct cur *c, size_t *len)
{
    uint32_t n = u32(c);
    if (c->bad || n > c->left) {
        c->bad = true;
        *len = 0;
        return 0;
    }
    const uint8_t *s = c->p;
    c->p += n;
    c->left -= n;
    *len = n;
    return s;
}

static bool str_is(struct cur *c, const char *want)
{
    size_t n;
    const uint8_t *s = str(c, &n);
    return s && n == strlen(want) && !memcmp(s, want, n);
}

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

int sshkey_load_ed25519(const char *path, uint8_t sk[64], uint8_t pk[32], char *err, size_t errlen)
{
    static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----", end[] = "-----END OPENSSH PRIVATE KEY-----";
    char text[8192], b64[8192];
    uint8_t bin[6144];
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "cannot open the key file");
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *a = strstr(text, begin), *z = a ? strstr(a, end) : 0;
    if (!a || !z)
        return fail(err, errlen, "not an OpenSSH private key");
    size_t k = 0;
    for (char *p = a + sizeof begin - 1; p < z; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ')
            b64[k++] = *p;
    size_t blen = 0;
    if (sodium_base642bin(bin, sizeof bin, b64, k, 0, &blen, 0, sodium_base64_VARIANT_ORIGINAL))
        return fail(err, errlen, "bad base64");
    static const char magic[] = "openssh-key-v1";
    if (blen < sizeof magic || memcmp(bin, magic, sizeof magic))
        return fail(err, errlen, "not openssh-key-v1");
    struct cur c = { bin + sizeof magic, blen - sizeof magic, false };
    if (!str_is(&c, "none") || !str_is(&c, "none"))
        return fail(err, errlen, "an encrypted key (remove its passphrase or use a copy without one)");
    size_t len;
    str(&c, &len);                    /* kdf options */
    if (u32(&c) != 1)
        return fail(err, errlen, "more than one key in the file");
    str(&c, &len);                    /* the public key blob */
    const uint8_t *priv = str(&c, &len);
    if (c.bad || !priv)
        return fail(err, errlen, "truncated key file");
    struct cur p = { priv, len, false };
    uint32_t c1 = u32(&p), c2 = u32(&p);
    if (p.bad || c1 != c2)
        return fail(err, errlen, "bad check words");
    if (!str_is(&p, "ssh-ed25519"))
        return fail(err, errlen, "not an ed25519 key");
    size_t pl, sl;
    const uint8_t *pub = str(&p, &pl), *sec = str(&p, &sl);
    if (p.bad || pl != 32 || sl != 64 || memcmp(sec + 32, pub, 32))
        return fail(err, errlen, "bad ed25519 key");
    memcpy(sk, sec, 64);
    memcpy(pk, pub, 32);
    sodium_memzero(bin, sizeof bin);
    return 0;
}
