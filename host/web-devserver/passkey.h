/* host/web-devserver: the passkey (WebAuthn) endpoints, over lib/webauthn.
 * In-memory accounts (a development server: nothing is kept). */
#ifndef WEB_DEVSERVER_PASSKEY_H
#define WEB_DEVSERVER_PASSKEY_H

#include <stddef.h>
#include <stdint.h>

#define PASSKEY_BODY_MAX 8192u   /* request body of a /api/passkey/ call */

struct passkey_config {
    const char *rp_id;              /* e.g. "localhost" */
    const char *const *origins;     /* NULL-terminated, e.g. "https://localhost:8443" */
    uint32_t source_burst;          /* requests per source address before limiting */
    uint64_t source_refill_ms;
    uint32_t cred_burst;            /* login attempts per credential before limiting */
    uint64_t cred_refill_ms;
};

void passkey_init(const struct passkey_config *cfg);
/* Is this a passkey endpoint (POST /api/passkey/...)? */
int passkey_path(const uint8_t *target, size_t len);
/* Answer one call: the JSON body goes to out (cap bytes); returns its
 * length and sets *status.  src names the client (its address). */
size_t passkey_handle(const uint8_t *target, size_t target_len, const uint8_t *body, size_t body_len,
                      const char *src, uint64_t now_ms, char *out, size_t cap, int *status);

#endif
