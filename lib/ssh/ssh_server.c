/* lib/ssh server core: the public entry points that are no one layer's
 * (init, clock, wipe), the event loop, and the dispatch of each packet to
 * its layer by message number (RFC 4250 4.1).  The layers: ssh_transport.c
 * and ssh_kex.c (RFC 4253), ssh_userauth.c (RFC 4252), ssh_connection.c
 * (RFC 4254). */

#include "ssh_core.h"

#define DEFAULT_MAX_AUTH_ATTEMPTS 6u
#define DEFAULT_LOGIN_GRACE_MS 120000u
#define DEFAULT_REKEY_BYTES (1ull << 30)
#define SOFTWARE_MAX 200u                       /* longest softwareversion we send */

static const char *const reason_names[SSH_R__COUNT] = {
    [SSH_R_NONE] = "none",
    [SSH_R_BANNER_MALFORMED] = "banner.malformed",
    [SSH_R_BANNER_TOO_LONG] = "banner.too-long",
    [SSH_R_BANNER_VERSION] = "banner.version",
    [SSH_R_PACKET_LENGTH] = "packet.length",
    [SSH_R_PACKET_PADDING] = "packet.padding",
    [SSH_R_PACKET_MAC] = "packet.mac",
    [SSH_R_PACKET_DECODE] = "packet.decode",
    [SSH_R_SEQ_WRAP] = "packet.sequence-wrap",
    [SSH_R_UNEXPECTED_MESSAGE] = "protocol.unexpected-message",
    [SSH_R_KEX_STRICT] = "kex.strict-violation",
    [SSH_R_KEX_NO_KEX_ALG] = "kex.no-common-kex",
    [SSH_R_KEX_NO_HOSTKEY_ALG] = "kex.no-common-hostkey",
    [SSH_R_KEX_NO_CIPHER] = "kex.no-common-cipher",
    [SSH_R_KEX_NO_COMPRESSION] = "kex.no-common-compression",
    [SSH_R_KEX_BAD_PUBLIC] = "kex.bad-ecdh-public",
    [SSH_R_KEX_SIGN_FAILED] = "kex.hostkey-sign-failed",
    [SSH_R_BAD_SERVICE] = "protocol.bad-service",
    [SSH_R_AUTH_TOO_MANY] = "auth.too-many-attempts",
    [SSH_R_AUTH_TIMEOUT] = "auth.grace-timeout",
    [SSH_R_CHANNEL_PROTOCOL] = "channel.protocol-error",
    [SSH_R_PEER_DISCONNECT] = "peer.disconnect",
    [SSH_R_APP_DISCONNECT] = "app.disconnect",
    [SSH_R_INTERNAL] = "internal.error",
    [SSH_R_DENY_EXEC] = "deny.exec",
    [SSH_R_DENY_SUBSYSTEM] = "deny.subsystem",
    [SSH_R_DENY_ENV] = "deny.env",
    [SSH_R_DENY_X11] = "deny.x11",
    [SSH_R_DENY_AGENT] = "deny.agent",
    [SSH_R_DENY_TCPIP_FORWARD] = "deny.tcpip-forward",
    [SSH_R_DENY_DIRECT_TCPIP] = "deny.direct-tcpip",
    [SSH_R_DENY_STREAMLOCAL] = "deny.streamlocal",
    [SSH_R_DENY_SECOND_SESSION] = "deny.second-session",
    [SSH_R_DENY_CHANNEL_TYPE] = "deny.channel-type",
    [SSH_R_DENY_CHANNEL_REQUEST] = "deny.channel-request",
    [SSH_R_DENY_GLOBAL_REQUEST] = "deny.global-request",
    [SSH_R_DENY_PTY] = "deny.pty",
    [SSH_R_DENY_SHELL] = "deny.shell",
    [SSH_R_AUTH_NONE] = "auth.none",
    [SSH_R_AUTH_PASSWORD] = "auth.password-disabled",
    [SSH_R_AUTH_KBDINT] = "auth.kbdint-disabled",
    [SSH_R_AUTH_METHOD] = "auth.method-unknown",
    [SSH_R_AUTH_KEY_ALG] = "auth.key-algorithm",
    [SSH_R_AUTH_KEY_UNKNOWN] = "auth.key-unknown",
    [SSH_R_AUTH_BAD_SIGNATURE] = "auth.bad-signature",
    [SSH_R_AUTH_BAD_USER] = "auth.bad-user",
    [SSH_R_AUTH_BAD_SERVICE] = "auth.bad-service",
};

const char *ssh_reason_name(enum ssh_reason r)
{
    if ((unsigned)r >= SSH_R__COUNT || !reason_names[r]) return "unknown";
    return reason_names[r];
}

int ssh_printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e) return 0;
    return 1;
}

int ssh_server_init(struct ssh_conn *c, const struct ssh_server_config *cfg, uint64_t now_ms)
{
    if (!cfg || !cfg->sign || !cfg->authorize || !cfg->random) return -1;
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.max_auth_attempts) c->cfg.max_auth_attempts = DEFAULT_MAX_AUTH_ATTEMPTS;
    if (!c->cfg.login_grace_ms) c->cfg.login_grace_ms = DEFAULT_LOGIN_GRACE_MS;
    if (!c->cfg.rekey_bytes) c->cfg.rekey_bytes = DEFAULT_REKEY_BYTES;
    c->now_ms = now_ms;
    c->grace_deadline_ms = now_ms + c->cfg.login_grace_ms;
    c->cfg.random(c->cfg.ctx, c->pad_key, sizeof c->pad_key);

    const char *sw = cfg->software ? cfg->software : "capOS";
    size_t swl = strlen(sw);
    if (swl == 0 || swl > SOFTWARE_MAX || !ssh_printable((const uint8_t *)sw, swl) || strchr(sw, ' ') ||
        strchr(sw, '-')) {
        sw = "capOS"; swl = 5;
    }
    struct ssh_wr w;
    wr_init(&w, c->v_s, sizeof c->v_s);
    wr_raw(&w, "SSH-2.0-", 8);
    wr_raw(&w, sw, swl);
    c->v_s_len = wr_len(&w);
    wr_init(&w, c->out, sizeof c->out);    /* the identification line goes first */
    wr_raw(&w, c->v_s, c->v_s_len);
    wr_raw(&w, "\r\n", 2);
    c->out_end = wr_len(&w);
    c->phase = PH_BANNER;
    ssh_kex_send_init(c);
    return 0;
}

void ssh_conn_wipe(struct ssh_conn *c)
{
    sodium_memzero(c, sizeof *c);
}

void ssh_tick(struct ssh_conn *c, uint64_t now_ms)
{
    if (now_ms > c->now_ms) c->now_ms = now_ms;
}

uint64_t ssh_deadline(const struct ssh_conn *c)
{
    if (c->closed || c->phase == PH_CONN) return UINT64_MAX;
    return c->grace_deadline_ms;
}

int ssh_is_closed(const struct ssh_conn *c)
{
    return c->closed && c->disconnect_reported;
}

/* Is t assigned to a protocol layer (RFC 4250 4.1)?  Unassigned numbers
 * are answered with UNIMPLEMENTED, assigned ones out of place end the
 * connection. */
static int msg_assigned(uint8_t t)
{
    return t <= SSH_MSG_CHANNEL_FAILURE &&
           !(t > SSH_MSG_EXT_INFO && t < SSH_MSG_KEX_FIRST) &&
           !(t > SSH_MSG_USERAUTH_BANNER && t < SSH_MSG_USERAUTH_PK_OK) &&
           !(t > SSH_MSG_USERAUTH_PK_OK && t < SSH_MSG_GLOBAL_REQUEST) &&
           !(t > SSH_MSG_REQUEST_FAILURE && t < SSH_MSG_CHANNEL_OPEN);
}

/* One packet's payload.  1: event, 0: nothing to report, -1: ssh_fatal */
static int dispatch(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    uint8_t t = rd_u8(r);
    int initial = c->kex_count == 0;
    if (t == SSH_MSG_DISCONNECT) {
        c->closed = 1;
        c->close_reason = SSH_R_PEER_DISCONNECT;
        return -1;
    }
    if (t == SSH_MSG_IGNORE || t == SSH_MSG_DEBUG || t == SSH_MSG_UNIMPLEMENTED) {
        if (initial && c->strict) { ssh_fatal(c, SSH_R_KEX_STRICT); return -1; }
        return 0;
    }
    if (t == SSH_MSG_KEXINIT) return ssh_on_kexinit(c, r);
    if (t == SSH_MSG_KEX_ECDH_INIT) return ssh_on_ecdh_init(c, r);
    if (t == SSH_MSG_NEWKEYS) return ssh_on_newkeys(c, r, ev);
    if (initial || c->kex_got_init || (t >= SSH_MSG_KEX_FIRST && t <= SSH_MSG_KEX_LAST)) {
        ssh_fatal(c, initial && c->strict ? SSH_R_KEX_STRICT : SSH_R_UNEXPECTED_MESSAGE);
        return -1;
    }
    int res = NOT_MINE;
    switch (c->phase) {
    case PH_SERVICE:
        if (t == SSH_MSG_SERVICE_REQUEST) res = ssh_on_service_request(c, r);
        else if (t == SSH_MSG_EXT_INFO) res = 0;
        break;
    case PH_AUTH:
        if (t == SSH_MSG_USERAUTH_REQUEST) res = ssh_on_userauth(c, r, ev);
        else if (t == SSH_MSG_EXT_INFO) res = 0;
        break;
    case PH_CONN:
        if (t == SSH_MSG_USERAUTH_REQUEST) res = 0;    /* RFC 4252 5.1: ignore after success */
        else res = ssh_connection_dispatch(c, t, r, ev);
        break;
    }
    if (res != NOT_MINE) return res;
    if (msg_assigned(t)) {
        ssh_fatal(c, SSH_R_UNEXPECTED_MESSAGE);
        return -1;
    }
    ssh_send_unimplemented(c);
    return 0;
}

void ssh_flush_deferred(struct ssh_conn *c)
{
    if (c->closed || ssh_out_blocked(c) || c->phase < PH_SERVICE) return;
    if (ssh_out_free(c) < OUT_RESERVE) return;
    if (c->phase == PH_CONN && c->chan_state == CHAN_OPEN) ssh_chan_flush(c);
    if (ssh_rekey_due(c)) ssh_kex_send_init(c);
}

int ssh_poll_event(struct ssh_conn *c, struct ssh_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ssh_release_in(c);
    for (;;) {
        if (c->closed) {
            if (c->disconnect_reported) return 0;
            c->disconnect_reported = 1;
            ev->type = SSH_EV_DISCONNECT;
            ev->reason = c->close_reason;
            return 1;
        }
        if (c->phase != PH_CONN && c->now_ms >= c->grace_deadline_ms) {
            ssh_fatal(c, SSH_R_AUTH_TIMEOUT);
            continue;
        }
        ssh_flush_deferred(c);
        if (c->closed) continue;
        if (c->chan_state == CHAN_CLOSED && !c->close_reported) {
            c->close_reported = 1;
            ev->type = SSH_EV_CHANNEL_CLOSED;
            return 1;
        }
        if (c->phase == PH_BANNER) {
            int r = ssh_read_banner(c, ev);
            if (r == 0) return 0;
            if (r > 0) return 1;
            continue;
        }
        if (ssh_out_free(c) < OUT_RESERVE) return 0;   /* drain output first */
        struct ssh_rd payload;
        int r = ssh_read_packet(c, &payload);
        if (r == 0) return 0;
        if (r < 0) continue;
        r = dispatch(c, &payload, ev);
        if (r > 0) return 1;
        memset(ev, 0, sizeof *ev);
        /* the packet is consumed; its buffer is released on the next loop */
        ssh_release_in(c);
    }
}
