/* lib/webauthn: base64url without padding (RFC 4648 section 5), as WebAuthn
 * carries challenges and the JSON encodings of its binary fields.  The
 * decoder is strict: no padding, no whitespace, unused trailing bits zero. */
#include "internal.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t wa_b64url_encode(char *out, size_t cap, const uint8_t *in, size_t n)
{
    size_t need = WA_B64URL_LEN(n), o = 0;
    if (need >= cap)
        return 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t k = n - i;
        if (k > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (k > 2)
            v |= in[i + 2];
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
        if (k > 1)
            out[o++] = ALPHABET[(v >> 6) & 63];
        if (k > 2)
            out[o++] = ALPHABET[v & 63];
    }
    out[o] = 0;
    return o;
}

static int sextet(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-')
        return 62;
    if (ch == '_')
        return 63;
    return -1;
}

size_t wa_b64url_decode(uint8_t *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    if (n % 4 == 1)
        return (size_t)-1;
    for (size_t i = 0; i < n; i += 4) {
        size_t k = n - i < 4 ? n - i : 4;
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int x = j < k ? sextet(s[i + j]) : 0;
            if (x < 0)
                return (size_t)-1;
            v = (v << 6) | (uint32_t)x;
        }
        size_t bytes = k - 1;            /* 4 chars: 3 bytes, 3: 2, 2: 1 */
        if ((k == 2 && (v & 0xffff)) || (k == 3 && (v & 0xff)))
            return (size_t)-1;           /* non-zero unused bits: not canonical */
        if (bytes > cap - o)
            return (size_t)-1;
        out[o++] = (uint8_t)(v >> 16);
        if (bytes > 1)
            out[o++] = (uint8_t)(v >> 8);
        if (bytes > 2)
            out[o++] = (uint8_t)v;
    }
    return o;
}
