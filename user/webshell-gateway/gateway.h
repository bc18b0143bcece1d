/*
 * webshell-gateway: shared state of the browser door (README.md).
 *
 * Two tables, both fixed-size:
 *   conns[]: TLS connections (main.c moves their bytes; web.c answers the
 *            HTTP requests on them; one may become a WebSocket).
 *   sess[]:  web sessions (term.c): a login through SessionManager, its
 *            cookie, its shell and the terminal stream of the one
 *            WebSocket attached to it.
 * A slot is named by (index, generation): a completion or a facet badge
 * carrying an older generation is stale and ignored.
 */
#ifndef WEBSHELL_GATEWAY_H
#define WEBSHELL_GATEWAY_H

#include "rt/capos.h"
#include "http/http.h"
#include "ws/ws.h"
#include "tls/tls.h"

#define MAXCONN 12          /* TLS connections (Chromium opens up to 6 per origin) */
#define MAXSESS 8           /* web sessions (the session manager has its own bound too) */
#define IOMAX 3800          /* bytes of one TcpSocket recv or send */
#define HEADBUF 1536        /* one response head */
#define BODYMAX 8192        /* a login or passkey request's body */
#define MSGMAX 4100         /* one terminal-stream message from the page */
#define PASTEMAX 4096       /* one paste, before bracketing */
#define KEYBUF 8192         /* typed bytes the shell has not read yet */
#define TWBUF 8192          /* shell output not yet sent to the page */
#define WINDOW 65536u       /* output credits the page starts with (flow control) */
#define ATTACH_MS 30000u    /* a login whose page never opens its terminal ends */
#define CONN_IDLE_MS 60000u /* a connection without a terminal, silent that long, closes */
#define HANDSHAKE_MS 15000u /* a TLS handshake not done by then closes */
#define TOKEN_LEN 32        /* the cookie's random bytes */

/* Per-connection protocol state, allocated at accept (about 150 KiB). */
struct wire {
    struct tls_conn tls;
    struct http_conn http;
    struct ws_conn ws;
};

enum conn_proto { P_HTTP = 0, P_WS };

struct conn {
    bool used;
    uint16_t gen;
    uint32_t sock, id, peer;
    struct wire *w;
    int proto;
    bool recv_on, send_on, peer_gone, done, closing;   /* closing: close once the output is out */
    uint64_t last_ms, since_ms;
    /* received bytes not yet taken by TLS */
    uint8_t in[IOMAX];
    uint32_t in_off, in_len;
    /* the response being written: a head, then a body (static or in rb) */
    uint8_t hb[HEADBUF];
    uint32_t hb_len, hb_off;
    const uint8_t *body;
    uint32_t body_len, body_off;
    bool responding, keep;
    /* the request being read */
    int route;
    uint8_t rq[BODYMAX];
    uint32_t rq_len;
    bool rq_over;
    char host[64];          /* the request's Host, for its Origin */
    /* a terminal stream: the session it serves and the message being read */
    int sess;
    uint8_t msg[MSGMAX];
    uint32_t msg_len;
    bool msg_over;
    /* socket call buffers */
    uint8_t rp[64] __attribute__((aligned(8))), rres[IOMAX + 256] __attribute__((aligned(8)));
    uint8_t sp[IOMAX + 128] __attribute__((aligned(8))), sres[128] __attribute__((aligned(8)));
};

enum sess_state {
    S_FREE = 0,
    S_LOGGED_IN,        /* logged in, its page has not opened the terminal yet */
    S_ATTACHED,         /* its WebSocket is open and its shell runs */
    S_ENDING            /* ended: waiting for calls in flight before the slot is free */
};

struct sess {
    int state;
    uint16_t gen;
    uint32_t id;                                /* the session id the page is told */
    uint8_t token[TOKEN_LEN];                   /* the cookie */
    char user[33];
    uint32_t session, context, shell, term;    /* caps; ~0u: none */
    bool wait_on;
    uint64_t since_ms;
    int conn;                                   /* the attached WebSocket's conn, -1: none */
    uint16_t conn_gen;
    uint16_t cols, rows;
    uint8_t keys[KEYBUF];
    uint32_t keys_len;
    bool keys_wait;
    uint32_t keys_call, keys_max;
    uint8_t tw[TWBUF];
    uint32_t tw_len;
    bool tw_wait;
    uint32_t tw_call;
    uint32_t credits;                           /* output bytes the page can take now */
    uint8_t wres[64] __attribute__((aligned(8)));
};

extern struct conn conns[MAXCONN];
extern struct sess sess[MAXSESS];
extern uint32_t manager, launcher, audit, term_owner;
extern char profile[16];

uint64_t now_ms(void);
void audit_rec(const char *event, const char *reason);

/* web.c: the HTTP side of a connection */
void web_request(struct conn *k, uint32_t i);            /* feed the HTTP parser what TLS decrypted */

void reply(struct conn *k, int status, const char *ctype, const void *body, uint32_t len, const uint8_t *body_ext,
           uint32_t ext_len, const char *extra_name, const char *extra_value);
void refuse(struct conn *k, int status, const char *reason);
bool origin_ok(struct conn *k);
int cookie_sess(struct conn *k);
bool form_field(const uint8_t *b, size_t n, const char *name, char *out, size_t cap);
void set_cookie_reply(struct conn *k, uint32_t s);        /* 200 {"session",...} and the cookie */

/* passkey.c: passkey login and registration (SessionManager, UserSession) */
void pk_login_options(struct conn *k);
void pk_login(struct conn *k);
void pk_register_options(struct conn *k);
void pk_register(struct conn *k);

/* term.c: sessions and the terminal stream */
int sess_free_slot(void);
int sess_new(uint32_t s, uint32_t session, uint32_t context, const char *user, size_t ul);
int sess_login(const char *user, size_t ul, const uint8_t *pw, size_t pl, int *out, uint64_t *retry_ms);
int sess_by_cookie(const uint8_t *cookie, size_t len);
void sess_end(uint32_t s, const char *why);
bool sess_attach(uint32_t s, struct conn *k, uint32_t ci);
void term_feed(struct conn *k, uint32_t ci);              /* terminal-stream messages from the page */
void term_pump(uint32_t s);                               /* output, answers to the shell, deadlines */
void term_conn_gone(struct conn *k);                      /* its WebSocket ended */
void term_shell_exited(uint32_t s, int64_t code);
void term_serve(const struct cap_cqe *c);                 /* a TerminalSession call from a shell */
void term_init(uint32_t endpoints);
void term_post_recv(void);

enum { K_ACCEPT = 1, K_RECV, K_SEND, K_TERM, K_WAIT };
#define TAG(k, i, g) (0xE100000000000000ull | (uint64_t)(k) << 40 | (uint64_t)(g) << 16 | (uint64_t)(i))
#define TAG_K(t) ((int)(((t) >> 40) & 0xff))
#define TAG_I(t) ((uint32_t)((t) & 0xffff))
#define TAG_G(t) ((uint16_t)((t) >> 16))

#endif
