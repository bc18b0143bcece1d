/* TLS 1.2 server over BearSSL's engine, sans-IO.  See tls.h. */
#include "tls.h"

#include <string.h>

/* Forward-secret AEAD suites only, in the server's order of preference:
 * a client offering nothing else (CBC, RSA or static-ECDH key exchange)
 * gets a handshake failure. */
static const uint16_t SUITES[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};

int tls_server_init(struct tls_conn *c, const struct tls_config *cfg)
{
    memset(c, 0, sizeof *c);
    if (!cfg->entropy || cfg->key_len != 32 || !cfg->cert_len) return -1;
    c->chain[0].data = (unsigned char *)(uintptr_t)cfg->cert_der;
    c->chain[0].data_len = cfg->cert_len;
    c->sk.curve = BR_EC_secp256r1;
    c->sk.x = (unsigned char *)(uintptr_t)cfg->key;
    c->sk.xlen = cfg->key_len;
    br_ssl_server_init_full_ec(&c->sc, c->chain, 1, BR_KEYTYPE_EC, &c->sk);
    br_ssl_engine_set_versions(&c->sc.eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(&c->sc.eng, SUITES, sizeof SUITES / sizeof SUITES[0]);
    br_ssl_engine_add_flags(&c->sc.eng, BR_OPT_ENFORCE_SERVER_PREFERENCES);
    br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof c->iobuf, 1);
    br_ssl_engine_inject_entropy(&c->sc.eng, cfg->entropy, TLS_ENTROPY_LEN);
    if (!br_ssl_server_reset(&c->sc)) return -1;
    return 0;
}

int tls_error(const struct tls_conn *c)
{
    return br_ssl_engine_last_error(&c->sc.eng);
}

int tls_state(struct tls_conn *c)
{
    unsigned st = br_ssl_engine_current_state(&c->sc.eng);
    if (st & BR_SSL_CLOSED) return tls_error(c) == BR_ERR_OK ? TLS_CLOSED : TLS_FAILED;
    if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) c->opened = 1;
    return c->opened ? TLS_OPEN : TLS_HANDSHAKING;
}

size_t tls_net_in(struct tls_conn *c, const uint8_t *in, size_t len)
{
    size_t room;
    unsigned char *p = br_ssl_engine_recvrec_buf(&c->sc.eng, &room);
    if (!p || !len) return 0;
    size_t n = len < room ? len : room;
    memcpy(p, in, n);
    br_ssl_engine_recvrec_ack(&c->sc.eng, n);
    return n;
}

uint8_t *tls_net_in_buf(struct tls_conn *c, size_t *room)
{
    unsigned char *p = br_ssl_engine_recvrec_buf(&c->sc.eng, room);
    if (!p) *room = 0;
    return p;
}

void tls_net_in_done(struct tls_conn *c, size_t n)
{
    if (n) br_ssl_engine_recvrec_ack(&c->sc.eng, n);
}

const uint8_t *tls_net_out(struct tls_conn *c, size_t *len)
{
    unsigned char *p = br_ssl_engine_sendrec_buf(&c->sc.eng, len);
    if (!p) *len = 0;
    return p;
}

void tls_net_out_done(struct tls_conn *c, size_t n)
{
    if (n) br_ssl_engine_sendrec_ack(&c->sc.eng, n);
}

const uint8_t *tls_app_in(struct tls_conn *c, size_t *len)
{
    unsigned char *p = br_ssl_engine_recvapp_buf(&c->sc.eng, len);
    if (!p) *len = 0;
    return p;
}

void tls_app_in_done(struct tls_conn *c, size_t n)
{
    if (n) br_ssl_engine_recvapp_ack(&c->sc.eng, n);
}

size_t tls_app_out(struct tls_conn *c, const uint8_t *data, size_t len)
{
    size_t room;
    unsigned char *p = br_ssl_engine_sendapp_buf(&c->sc.eng, &room);
    if (!p || !len) return 0;
    size_t n = len < room ? len : room;
    memcpy(p, data, n);
    br_ssl_engine_sendapp_ack(&c->sc.eng, n);
    br_ssl_engine_flush(&c->sc.eng, 0);
    return n;
}

void tls_close(struct tls_conn *c)
{
    br_ssl_engine_close(&c->sc.eng);
}
