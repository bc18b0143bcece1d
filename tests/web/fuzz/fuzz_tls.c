/* libFuzzer target for lib/tls: the first byte picks the feed step, the rest
 * is a client's records (the seeds start with a real ClientHello).  The
 * server's records and any plaintext are drained as the dev server would.
 * The certificate is a placeholder blob (the server only sends it) and the
 * key a fixed P-256 scalar: this exercises the record and handshake paths,
 * not any secret. */
#include "tls.h"

#include <stdint.h>
#include <string.h>

static struct tls_conn tls;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t seed[TLS_ENTROPY_LEN] = { 42 };
    static uint8_t cert[300], key[32];
    if (size < 1) return 0;
    memset(cert, 0x30, sizeof cert);
    memset(key, 0x01, sizeof key);
    struct tls_config cfg = { .cert_der = cert, .cert_len = sizeof cert, .key = key, .key_len = sizeof key, .entropy = seed };
    if (tls_server_init(&tls, &cfg)) __builtin_trap();
    size_t step = 1 + (size_t)data[0] * 7, off = 1;
    for (int guard = 0; guard < 100000; guard++) {
        size_t n = size - off < step ? size - off : step, k = 0;
        if (n) k = tls_net_in(&tls, data + off, n);
        off += k;
        size_t m, a;
        (void)tls_net_out(&tls, &m);
        tls_net_out_done(&tls, m);
        (void)tls_app_in(&tls, &a);
        tls_app_in_done(&tls, a);
        if (a) (void)tls_app_out(&tls, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19);
        if (tls_state(&tls) >= TLS_CLOSED) break;
        if (!k && !m && !a) break;
    }
    tls_close(&tls);
    return 0;
}
