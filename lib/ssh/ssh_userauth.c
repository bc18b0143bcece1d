/* RFC 4252 user authentication: "publickey" with ssh-ed25519 keys (7),
 * every other method refused with an audit reason, the attempt limits. */

#include "ssh_core.h"

/* the methods that can continue (RFC 4252 5.1) */
static const char *const auth_methods[] = { "publickey", NULL };

#define MAX_AUTH_REQUESTS 64u
#define USERAUTH_SIGNED_MAX 512u                /* session id + signed request */

static int auth_fail(struct ssh_conn *c, enum ssh_reason why, struct ssh_event *ev)
{
    if (why != SSH_R_AUTH_NONE) {
        c->auth_failures++;
        if (c->auth_failures >= c->cfg.max_auth_attempts) { ssh_fatal(c, SSH_R_AUTH_TOO_MANY); return -1; }
    }
    struct ssh_reply m;
    struct ssh_wr *w = ssh_reply_begin(&m, SSH_MSG_USERAUTH_FAILURE);
    wr_namelist(w, auth_methods);       /* authentications that can continue */
    wr_bool(w, 0);                      /* partial success */
    ssh_send(c, w, 0);
    ev->type = SSH_EV_AUTH_FAILURE;
    ev->reason = why;
    return 1;
}

int ssh_on_userauth(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t ul, sl, ml;
    const uint8_t *user = rd_str(r, &ul);
    const uint8_t *service = rd_str(r, &sl);
    const uint8_t *method = rd_str(r, &ml);
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (++c->auth_requests > MAX_AUTH_REQUESTS) { ssh_fatal(c, SSH_R_AUTH_TOO_MANY); return -1; }
    if (ul == 0 || ul > SSH_MAX_USER || !ssh_printable(user, ul)) return auth_fail(c, SSH_R_AUTH_BAD_USER, ev);
    if (!str_eq(service, sl, "ssh-connection")) return auth_fail(c, SSH_R_AUTH_BAD_SERVICE, ev);
    if (str_eq(method, ml, "none")) return auth_fail(c, SSH_R_AUTH_NONE, ev);
    if (str_eq(method, ml, "password")) return auth_fail(c, SSH_R_AUTH_PASSWORD, ev);
    if (str_eq(method, ml, "keyboard-interactive")) return auth_fail(c, SSH_R_AUTH_KBDINT, ev);
    if (!str_eq(method, ml, "publickey")) return auth_fail(c, SSH_R_AUTH_METHOD, ev);

    /* RFC 4252 7 */
    int is_signed = rd_bool(r);
    size_t al, bl;
    const uint8_t *alg = rd_str(r, &al);
    const uint8_t *blob = rd_str(r, &bl);
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    uint8_t pub[SSH_ED25519_PUB_LEN];
    if (!str_eq(alg, al, SSH_ED25519) || ssh_ed25519_parse_blob(blob, bl, pub) != 0)
        return auth_fail(c, SSH_R_AUTH_KEY_ALG, ev);

    if (!is_signed) {
        if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (c->cfg.authorize(c->cfg.ctx, SSH_AUTH_QUERY, (const char *)user, ul, pub, NULL) != 1)
            return auth_fail(c, SSH_R_AUTH_KEY_UNKNOWN, ev);
        struct ssh_reply m;
        struct ssh_wr *w = ssh_reply_begin(&m, SSH_MSG_USERAUTH_PK_OK);
        wr_str(w, alg, al);
        wr_str(w, blob, bl);
        ssh_send(c, w, 0);
        return 0;
    }
    size_t signed_len;                  /* payload bytes covered by the signature */
    const uint8_t *signed_part = rd_consumed(r, &signed_len);
    size_t sgl;
    const uint8_t *sigblob = rd_str(r, &sgl);
    if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    struct ssh_rd sr;
    size_t stl, sl2;
    rd_init(&sr, sigblob, sgl);
    const uint8_t *st = rd_str(&sr, &stl);
    const uint8_t *sig = rd_str(&sr, &sl2);
    if (!rd_done(&sr) || !str_eq(st, stl, SSH_ED25519) || sl2 != SSH_ED25519_SIG_LEN)
        return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    uint8_t msg[USERAUTH_SIGNED_MAX];
    struct ssh_wr w;
    wr_init(&w, msg, sizeof msg);
    wr_str(&w, c->session_id, SSH_HASH_LEN);
    wr_raw(&w, signed_part, signed_len);
    if (wr_failed(&w)) return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    if (crypto_sign_verify_detached(sig, msg, wr_len(&w), pub) != 0)
        return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    struct ssh_auth_proof proof = { .signed_data = msg, .signed_len = wr_len(&w), .signature = sig };
    if (c->cfg.authorize(c->cfg.ctx, SSH_AUTH_LOGIN, (const char *)user, ul, pub, &proof) != 1)
        return auth_fail(c, SSH_R_AUTH_KEY_UNKNOWN, ev);
    struct ssh_reply m;
    ssh_send(c, ssh_reply_begin(&m, SSH_MSG_USERAUTH_SUCCESS), 0);
    memcpy(c->user, user, ul);
    c->user[ul] = 0;
    c->user_len = ul;
    c->phase = PH_CONN;
    ev->type = SSH_EV_AUTH_SUCCESS;
    ev->data = (const uint8_t *)c->user;
    ev->len = c->user_len;
    return 1;
}
