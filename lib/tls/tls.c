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

/* ---- the external signer's policy (BearSSL's server policy class) ---- */

/* The ECDSA hashes the client accepts (bits 8+id of its hashes), ours in
 * order of preference. */
static const int SIGN_HASHES[] = { br_sha256_ID, br_sha384_ID, br_sha512_ID };

/* After the ClientHello: the first common suite in the server's order (all
 * of SUITES are ECDHE-ECDSA), the first hash both accept, our one chain. */
static int signer_choose(const br_ssl_server_policy_class **pctx, const br_ssl_server_context *cc,
                         br_ssl_server_choices *choices)
{
    const struct tls_signer_policy *p = (const struct tls_signer_policy *)(const void *)pctx;
    size_t n = 0;
    const br_suite_translated *st = br_ssl_server_get_client_suites(cc, &n);
    uint32_t ecdsa = br_ssl_server_get_client_hashes(cc) >> 8;
    if (br_ssl_engine_get_version(&cc->eng) != BR_TLS12) return 0;
    int hash = 0;
    for (size_t i = 0; i < sizeof SIGN_HASHES / sizeof SIGN_HASHES[0] && !hash; i++)
        if (ecdsa >> SIGN_HASHES[i] & 1) hash = SIGN_HASHES[i];
    if (!hash) return 0;
    for (size_t i = 0; i < n; i++) {
        if ((st[i][1] >> 12) != BR_SSLKEYX_ECDHE_ECDSA) continue;
        choices->cipher_suite = st[i][0];
        choices->algo_id = 0xFF00u + (unsigned)hash;    /* the engine hashes; do_sign gets the hash */
        choices->chain = p->chain;
        choices->chain_len = 1;
        return 1;
    }
    return 0;
}

/* No static (EC)DH or RSA key exchange: never called for ECDHE suites. */
static uint32_t signer_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data, size_t *len)
{
    return 0;
}

/* The hash is in data[0..hv_len); the signature replaces it (room: len). */
static size_t signer_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id, unsigned char *data,
                          size_t hv_len, size_t len)
{
    const struct tls_signer_policy *p = (const struct tls_signer_policy *)(const void *)pctx;
    uint8_t hash[64], sig[TLS_SIG_MAX];
    if ((algo_id & 0xFF00u) != 0xFF00u || hv_len > sizeof hash) return 0;
    memcpy(hash, data, hv_len);
    size_t n = p->sign(p->ctx, (int)(algo_id & 0xFFu), hash, hv_len, sig, sizeof sig);
    if (n == 0 || n > len || n > sizeof sig) return 0;
    memcpy(data, sig, n);
    return n;
}

static const br_ssl_server_policy_class SIGNER_POLICY = {
    .context_size = sizeof(struct tls_signer_policy),
    .choose = signer_choose,
    .do_keyx = signer_keyx,
    .do_sign = signer_sign,
};

int tls_server_init(struct tls_conn *c, const struct tls_config *cfg)
{
    memset(c, 0, sizeof *c);
    if (!cfg->entropy || !cfg->cert_len) return -1;
    if (cfg->sign ? cfg->key != 0 : cfg->key_len != 32) return -1;
    c->chain[0].data = (unsigned char *)(uintptr_t)cfg->cert_der;
    c->chain[0].data_len = cfg->cert_len;
    c->sk.curve = BR_EC_secp256r1;
    c->sk.x = (unsigned char *)(uintptr_t)cfg->key;     /* NULL with a signer: never read */
    c->sk.xlen = cfg->key_len;
    br_ssl_server_init_full_ec(&c->sc, c->chain, 1, BR_KEYTYPE_EC, &c->sk);
    if (cfg->sign) {
        c->policy = (struct tls_signer_policy){ .vtable = &SIGNER_POLICY, .chain = c->chain, .sign = cfg->sign,
                                                .ctx = cfg->sign_ctx };
        br_ssl_server_set_policy(&c->sc, &c->policy.vtable);
    }
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
