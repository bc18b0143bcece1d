/*
 * Authorized keys (keys.h): Ed25519 public keys as ssh-keygen writes them
 * and as the manifest spells them, read with libsodium's base64 decoder.
 */
#include "keys.h"
#include "c/string.h"
#include "fmt/fmt.h"
#include <sodium.h>

/* The SSH wire blob of an Ed25519 key: string "ssh-ed25519", string key(32) */
static const uint8_t blob_prefix[19] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };
#define BLOB_LEN (sizeof blob_prefix + 32)

bool key_parse(const char *v, uint8_t key[32])
{
    uint8_t blob[64];
    size_t n = 0;
    bool ssh = !strncmp(v, "ssh-ed25519:", 12);
    if (ssh)
        v += 12;
    if (sodium_base642bin(blob, sizeof blob, v, strlen(v), 0, &n, 0, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    if (ssh && n == BLOB_LEN && !memcmp(blob, blob_prefix, sizeof blob_prefix)) {
        memcpy(key, blob + sizeof blob_prefix, 32);
        return true;
    }
    if (!ssh && n == 32) {
        memcpy(key, blob, 32);
        return true;
    }
    return false;
}

bool key_parse_line(const char *s, size_t len, uint8_t key[32])
{
    char line[KEY_TEXT_MAX];
    if (len >= sizeof line || len < 12 || memcmp(s, "ssh-ed25519 ", 12))
        return false;
    memcpy(line, s, len);
    line[len] = 0;
    char *b64 = line + 12;
    while (*b64 == ' ')
        b64++;
    char *end = b64;
    while (*end && *end != ' ')
        end++;
    *end = 0;
    char joined[128];
    if (fmt_snprintf(joined, sizeof joined, "ssh-ed25519:%s", b64) >= (int)sizeof joined)
        return false;
    return key_parse(joined, key);
}

void key_line(const uint8_t key[32], char *out, size_t cap)
{
    uint8_t blob[BLOB_LEN];
    memcpy(blob, blob_prefix, sizeof blob_prefix);
    memcpy(blob + sizeof blob_prefix, key, 32);
    char b64[100];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    fmt_snprintf(out, cap, "ssh-ed25519 %s", b64);
}
