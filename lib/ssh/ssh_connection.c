/* RFC 4254 connection protocol: global requests (4), one "session" channel
 * (5-6) with window and maximum-packet flow control both ways, EOF, CLOSE
 * and exit-status; everything else refused with an audit reason. */

#include "ssh_core.h"

#define CHANNEL_DATA_HEADER 9u                  /* type, recipient, data length */
/* window replenished once this much is acknowledged, or the window is this low */
#define WINDOW_ADJUST_ACKED (SSH_CHAN_WINDOW / 8)
#define WINDOW_ADJUST_LOW (SSH_CHAN_WINDOW / 2)
#define OUR_CHANNEL_ID 0u                       /* the one session channel */

/* copy a peer-supplied string into evtext, replacing non-printables */
static const uint8_t *sanitize(struct ssh_conn *c, const uint8_t *s, size_t n, size_t *outlen)
{
    if (n > sizeof c->evtext) n = sizeof c->evtext;
    for (size_t i = 0; i < n; i++)
        c->evtext[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? s[i] : '?';
    *outlen = n;
    return c->evtext;
}

static int deny_event(struct ssh_conn *c, struct ssh_event *ev, enum ssh_reason why,
                      const uint8_t *name, size_t nl)
{
    ev->type = SSH_EV_DENIED;
    ev->reason = why;
    ev->data = sanitize(c, name, nl, &ev->len);
    return 1;
}

/* RFC 4254 4 */
static int on_global_request(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t nl;
    const uint8_t *name = rd_str(r, &nl);
    int want_reply = rd_bool(r);
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (want_reply) {
        struct ssh_reply m;
        ssh_send(c, ssh_reply_begin(&m, SSH_MSG_REQUEST_FAILURE), 0);
    }
    if (str_eq(name, nl, "keepalive@openssh.com")) { ev->type = SSH_EV_KEEPALIVE; return 1; }
    if (str_eq(name, nl, "no-more-sessions@openssh.com")) { c->no_more_sessions = 1; return 0; }
    if (str_eq(name, nl, "tcpip-forward") || str_eq(name, nl, "cancel-tcpip-forward"))
        return deny_event(c, ev, SSH_R_DENY_TCPIP_FORWARD, name, nl);
    if (str_eq(name, nl, "streamlocal-forward@openssh.com") ||
        str_eq(name, nl, "cancel-streamlocal-forward@openssh.com"))
        return deny_event(c, ev, SSH_R_DENY_STREAMLOCAL, name, nl);
    return deny_event(c, ev, SSH_R_DENY_GLOBAL_REQUEST, name, nl);
}

/* RFC 4254 5.1 */
static int on_channel_open(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t tl;
    const uint8_t *type = rd_str(r, &tl);
    uint32_t sender = rd_u32(r);
    uint32_t window = rd_u32(r);
    uint32_t maxpkt = rd_u32(r);
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    enum ssh_reason why;
    uint32_t code = SSH_OPEN_ADMINISTRATIVELY_PROHIBITED;
    struct ssh_reply m;
    struct ssh_wr *w;
    if (str_eq(type, tl, "session")) {
        if (!c->chan_used && !c->no_more_sessions) {
            if (maxpkt == 0) { ssh_fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
            c->chan_used = 1;
            c->chan_state = CHAN_OPEN;
            c->chan_remote_id = sender;
            c->chan_remote_window = window;
            c->chan_remote_maxpkt = maxpkt < SSH_CHAN_MAX_PACKET ? maxpkt : SSH_CHAN_MAX_PACKET;
            c->chan_local_window = SSH_CHAN_WINDOW;
            w = ssh_reply_begin(&m, SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
            wr_u32(w, sender);
            wr_u32(w, OUR_CHANNEL_ID);
            wr_u32(w, SSH_CHAN_WINDOW);
            wr_u32(w, SSH_CHAN_MAX_PACKET);
            ssh_send(c, w, 0);
            ev->type = SSH_EV_SESSION_OPEN;
            return 1;
        }
        why = SSH_R_DENY_SECOND_SESSION;
    } else if (str_eq(type, tl, "direct-tcpip")) why = SSH_R_DENY_DIRECT_TCPIP;
    else if (str_eq(type, tl, "direct-streamlocal@openssh.com")) why = SSH_R_DENY_STREAMLOCAL;
    else if (str_eq(type, tl, "x11")) why = SSH_R_DENY_X11;
    else if (str_eq(type, tl, "auth-agent@openssh.com")) why = SSH_R_DENY_AGENT;
    else if (str_eq(type, tl, "forwarded-tcpip")) why = SSH_R_DENY_TCPIP_FORWARD;
    else { why = SSH_R_DENY_CHANNEL_TYPE; code = SSH_OPEN_UNKNOWN_CHANNEL_TYPE; }
    w = ssh_reply_begin(&m, SSH_MSG_CHANNEL_OPEN_FAILURE);
    wr_u32(w, sender);
    wr_u32(w, code);
    wr_cstr(w, ssh_reason_name(why));   /* description */
    wr_cstr(w, "");                     /* language tag */
    ssh_send(c, w, 0);
    return deny_event(c, ev, why, type, tl);
}

/* A message about the session channel with nothing but its recipient. */
static void send_chan_simple(struct ssh_conn *c, uint8_t type)
{
    struct ssh_reply m;
    struct ssh_wr *w = ssh_reply_begin(&m, type);
    wr_u32(w, c->chan_remote_id);
    ssh_send(c, w, 0);
}

static void chan_reply(struct ssh_conn *c, int ok)
{
    send_chan_simple(c, ok ? SSH_MSG_CHANNEL_SUCCESS : SSH_MSG_CHANNEL_FAILURE);
}

static void chan_send_eof(struct ssh_conn *c)
{
    if (c->chan_sent_eof || c->chan_sent_close) return;
    send_chan_simple(c, SSH_MSG_CHANNEL_EOF);
    c->chan_sent_eof = 1;
}

static void chan_send_close(struct ssh_conn *c)
{
    if (c->chan_sent_close) return;
    send_chan_simple(c, SSH_MSG_CHANNEL_CLOSE);
    c->chan_sent_close = 1;
}

/* RFC 4254 6 */
static int on_channel_request(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t tl;
    const uint8_t *type = rd_str(r, &tl);
    int want_reply = rd_bool(r);
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (c->chan_sent_close || c->chan_got_close) return 0;
    enum ssh_reason why = SSH_R_DENY_CHANNEL_REQUEST;
    const uint8_t *nm = type;
    size_t nml = tl;
    if (str_eq(type, tl, "pty-req")) {
        size_t terml, ml;
        const uint8_t *term = rd_str(r, &terml);
        ev->cols = rd_u32(r); ev->rows = rd_u32(r);
        ev->width_px = rd_u32(r); ev->height_px = rd_u32(r);
        (void)rd_str(r, &ml);
        if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (!c->chan_have_pty) {
            c->chan_have_pty = 1;
            if (want_reply) chan_reply(c, 1);
            ev->type = SSH_EV_PTY;
            ev->data = sanitize(c, term, terml, &ev->len);
            return 1;
        }
        why = SSH_R_DENY_PTY;
    } else if (str_eq(type, tl, "window-change")) {
        ev->cols = rd_u32(r); ev->rows = rd_u32(r);
        ev->width_px = rd_u32(r); ev->height_px = rd_u32(r);
        if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (want_reply) chan_reply(c, 1);
        ev->type = SSH_EV_WINDOW_CHANGE;
        return 1;
    } else if (str_eq(type, tl, "shell")) {
        if (!c->chan_have_shell) {
            c->chan_have_shell = 1;
            if (want_reply) chan_reply(c, 1);
            ev->type = SSH_EV_SHELL;
            return 1;
        }
        why = SSH_R_DENY_SHELL;
    } else if (str_eq(type, tl, "keepalive@openssh.com")) {
        if (want_reply) chan_reply(c, 0);
        ev->type = SSH_EV_KEEPALIVE;
        return 1;
    } else if (str_eq(type, tl, "exec")) why = SSH_R_DENY_EXEC;
    else if (str_eq(type, tl, "subsystem")) {
        why = SSH_R_DENY_SUBSYSTEM;
        nm = rd_str(r, &nml);   /* report the subsystem's name */
        if (rd_failed(r)) { nm = type; nml = tl; }
    } else if (str_eq(type, tl, "env")) {
        why = SSH_R_DENY_ENV;
        nm = rd_str(r, &nml);   /* report the variable's name, never its value */
        if (rd_failed(r)) { nm = type; nml = tl; }
    } else if (str_eq(type, tl, "x11-req")) why = SSH_R_DENY_X11;
    else if (str_eq(type, tl, "auth-agent-req@openssh.com")) why = SSH_R_DENY_AGENT;
    if (want_reply) chan_reply(c, 0);
    ev->value = (uint64_t)want_reply;
    return deny_event(c, ev, why, nm, nml);
}

static void maybe_chan_closed(struct ssh_conn *c)
{
    if (c->chan_state == CHAN_OPEN && c->chan_sent_close && c->chan_got_close) c->chan_state = CHAN_CLOSED;
}

/* RFC 4254 5.2-5.3 and 6: messages about an open channel */
static int on_channel_msg(struct ssh_conn *c, uint8_t t, struct ssh_rd *r, struct ssh_event *ev)
{
    uint32_t recipient = rd_u32(r);
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (recipient != OUR_CHANNEL_ID || c->chan_state != CHAN_OPEN) { ssh_fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
    switch (t) {
    case SSH_MSG_CHANNEL_WINDOW_ADJUST: {
        uint32_t n = rd_u32(r);
        if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if ((uint64_t)c->chan_remote_window + n > 0xffffffffull) { ssh_fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
        c->chan_remote_window += n;
        return 0;
    }
    case SSH_MSG_CHANNEL_DATA:
    case SSH_MSG_CHANNEL_EXTENDED_DATA: {
        if (t == SSH_MSG_CHANNEL_EXTENDED_DATA) (void)rd_u32(r);
        size_t dl;
        const uint8_t *d = rd_str(r, &dl);
        if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (dl > c->chan_local_window || dl > SSH_CHAN_MAX_PACKET || c->chan_got_eof || c->chan_got_close) {
            ssh_fatal(c, SSH_R_CHANNEL_PROTOCOL);
            return -1;
        }
        c->chan_local_window -= (uint32_t)dl;
        if (t == SSH_MSG_CHANNEL_EXTENDED_DATA || c->chan_sent_close || dl == 0) {
            c->chan_pending_ack += (uint32_t)dl;  /* discarded: replenish at once */
            return 0;
        }
        ev->type = SSH_EV_DATA;
        ev->data = d;
        ev->len = dl;
        return 1;
    }
    case SSH_MSG_CHANNEL_EOF:
        if (c->chan_got_eof) return 0;
        c->chan_got_eof = 1;
        ev->type = SSH_EV_EOF;
        return 1;
    case SSH_MSG_CHANNEL_CLOSE:
        if (c->chan_got_close) { ssh_fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
        c->chan_got_close = 1;
        chan_send_close(c);
        maybe_chan_closed(c);
        return 0;
    case SSH_MSG_CHANNEL_REQUEST:
        return on_channel_request(c, r, ev);
    default:    /* CHANNEL_SUCCESS / FAILURE: we never ask for replies */
        return 0;
    }
}

/* RFC 4254 */
int ssh_connection_dispatch(struct ssh_conn *c, uint8_t t, struct ssh_rd *r, struct ssh_event *ev)
{
    switch (t) {
    case SSH_MSG_GLOBAL_REQUEST: return on_global_request(c, r, ev);
    case SSH_MSG_REQUEST_SUCCESS: case SSH_MSG_REQUEST_FAILURE: return 0;
    case SSH_MSG_CHANNEL_OPEN: return on_channel_open(c, r, ev);
    case SSH_MSG_CHANNEL_OPEN_CONFIRMATION: case SSH_MSG_CHANNEL_OPEN_FAILURE:
        ssh_fatal(c, SSH_R_CHANNEL_PROTOCOL);   /* we never open channels */
        return -1;
    case SSH_MSG_CHANNEL_WINDOW_ADJUST: case SSH_MSG_CHANNEL_DATA: case SSH_MSG_CHANNEL_EXTENDED_DATA:
    case SSH_MSG_CHANNEL_EOF: case SSH_MSG_CHANNEL_CLOSE: case SSH_MSG_CHANNEL_REQUEST:
    case SSH_MSG_CHANNEL_SUCCESS: case SSH_MSG_CHANNEL_FAILURE:
        return on_channel_msg(c, t, r, ev);
    default:
        return NOT_MINE;
    }
}

/* What the session channel owes the client: window, exit status, EOF, CLOSE. */
void ssh_chan_flush(struct ssh_conn *c)
{
    struct ssh_reply m;
    struct ssh_wr *w;
    if (c->chan_pending_ack && !c->chan_sent_close && !c->chan_got_close &&
        (c->chan_pending_ack >= WINDOW_ADJUST_ACKED || c->chan_local_window < WINDOW_ADJUST_LOW)) {
        w = ssh_reply_begin(&m, SSH_MSG_CHANNEL_WINDOW_ADJUST);
        wr_u32(w, c->chan_remote_id);
        wr_u32(w, c->chan_pending_ack);
        ssh_send(c, w, 0);
        c->chan_local_window += c->chan_pending_ack;
        c->chan_pending_ack = 0;
    }
    if (c->exit_pending) {
        c->exit_pending = 0;
        if (!c->chan_sent_close && !c->chan_got_close) {    /* RFC 4254 6.10 */
            w = ssh_reply_begin(&m, SSH_MSG_CHANNEL_REQUEST);
            wr_u32(w, c->chan_remote_id);
            wr_cstr(w, "exit-status");
            wr_bool(w, 0);              /* want reply */
            wr_u32(w, c->exit_status);
            ssh_send(c, w, 0);
        }
        chan_send_eof(c);
        chan_send_close(c);
        maybe_chan_closed(c);
    }
    if (c->eof_pending) {
        c->eof_pending = 0;
        chan_send_eof(c);
    }
}

int ssh_channel_writable(const struct ssh_conn *c)
{
    return !c->closed && c->phase == PH_CONN && c->chan_state == CHAN_OPEN && !c->chan_sent_eof &&
           !c->chan_sent_close && !c->chan_got_close && !c->exit_pending;
}

size_t ssh_channel_write(struct ssh_conn *c, const void *data, size_t len)
{
    if (!ssh_channel_writable(c) || ssh_out_blocked(c)) return 0;
    size_t n = len;
    if (n > c->chan_remote_window) n = c->chan_remote_window;
    if (n > c->chan_remote_maxpkt) n = c->chan_remote_maxpkt;
    size_t fr = ssh_out_free(c);
    size_t ovh = CHANNEL_DATA_HEADER + PKT_OVERHEAD;
    if (fr < OUT_RESERVE + ovh + 1) return 0;
    if (n > fr - OUT_RESERVE - ovh) n = fr - OUT_RESERVE - ovh;
    if (n == 0) return 0;
    struct ssh_wr w;
    if (ssh_pkt_begin(c, &w, CHANNEL_DATA_HEADER + n) < 0) return 0;
    wr_u8(&w, SSH_MSG_CHANNEL_DATA);
    wr_u32(&w, c->chan_remote_id);
    wr_str(&w, data, n);
    if (ssh_pkt_end(c, &w) < 0) { ssh_fatal(c, SSH_R_INTERNAL); return 0; }
    c->chan_remote_window -= (uint32_t)n;
    if (c->out_bytes_since_kex >= c->cfg.rekey_bytes || c->out_pkts_since_kex >= REKEY_PACKETS)
        ssh_flush_deferred(c);
    return n;
}

void ssh_channel_ack(struct ssh_conn *c, size_t n)
{
    if (c->chan_state != CHAN_OPEN) return;
    uint64_t room = (uint64_t)SSH_CHAN_WINDOW - c->chan_local_window - c->chan_pending_ack;
    if (n > room) n = (size_t)room;
    c->chan_pending_ack += (uint32_t)n;
    ssh_flush_deferred(c);
}

void ssh_channel_eof(struct ssh_conn *c)
{
    if (c->chan_state != CHAN_OPEN) return;
    c->eof_pending = 1;
    ssh_flush_deferred(c);
}

void ssh_channel_exit(struct ssh_conn *c, uint32_t status)
{
    if (c->chan_state != CHAN_OPEN || c->chan_sent_close) return;
    c->exit_pending = 1;
    c->exit_status = status;
    ssh_flush_deferred(c);
}
