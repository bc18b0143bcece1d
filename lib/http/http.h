/* lib/http: the server side of HTTP/1.1 (RFC 9112), sans-IO.
 *
 * The caller owns the socket, the clock and a struct http_conn; the library
 * parses the bytes it is given, one event at a time, and builds responses
 * into caller buffers.  No allocation, no global state, no system calls.
 * See README.md for the limits and the reason codes. */
#ifndef CAPOS_HTTP_H
#define CAPOS_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Hard bounds (the fixed-size parts of struct http_conn). */
#define HTTP_HEAD_MAX      16384u  /* request line + header section, CRLFs included */
#define HTTP_HEADERS_MAX   64u     /* header fields per request */
#define HTTP_ETAG_MAX      40u     /* http_etag() output, NUL included */

/* Defaults used where the configuration leaves 0. */
#define HTTP_DEF_MAX_LINE        8192u
#define HTTP_DEF_MAX_BODY        (1024u * 1024u)
#define HTTP_DEF_HEADER_TIMEOUT  10000u /* ms from waiting for a request to its last header */

struct http_config {
    const char *const *hosts; /* NULL-terminated accepted Host values ("name" or "name:port"); NULL: any */
    size_t max_line;          /* request line and each header line, CRLF excluded */
    size_t max_head;          /* whole head, <= HTTP_HEAD_MAX */
    unsigned max_headers;     /* <= HTTP_HEADERS_MAX */
    uint64_t max_body;        /* Content-Length, or the sum of the chunks */
    uint64_t header_timeout_ms;
};

/* Reason codes: every rejection has one, stable across versions. */
enum http_reason {
    HTTP_OK = 0,
    HTTP_R_TIMEOUT_HEADER,     /* 408 head not complete before the deadline */
    HTTP_R_LINE_TOO_LONG,      /* 414 request line over max_line */
    HTTP_R_HEADER_LINE_TOO_LONG, /* 431 a header line over max_line */
    HTTP_R_HEAD_TOO_LARGE,     /* 431 head over max_head */
    HTTP_R_TOO_MANY_HEADERS,   /* 431 over max_headers */
    HTTP_R_BARE_CR,            /* 400 CR not followed by LF */
    HTTP_R_BARE_LF,            /* 400 LF not preceded by CR */
    HTTP_R_REQUEST_LINE,       /* 400 malformed request line */
    HTTP_R_METHOD,             /* 400 method not a token */
    HTTP_R_TARGET,             /* 400 target not origin-form (or '*' for OPTIONS) */
    HTTP_R_VERSION,            /* 505 not HTTP/1.0 or HTTP/1.1 */
    HTTP_R_OBS_FOLD,           /* 400 header line starting with SP/HTAB */
    HTTP_R_HEADER_NAME,        /* 400 empty or non-token field name, or space before ':' */
    HTTP_R_HEADER_VALUE,       /* 400 control byte in a field value */
    HTTP_R_HOST_MISSING,       /* 400 HTTP/1.1 without Host */
    HTTP_R_HOST_DUPLICATE,     /* 400 more than one Host */
    HTTP_R_HOST_UNKNOWN,       /* 421 Host not in the configured set */
    HTTP_R_CL_MALFORMED,       /* 400 Content-Length not 1*DIGIT (lists included) */
    HTTP_R_CL_DUPLICATE,       /* 400 more than one Content-Length */
    HTTP_R_CL_AND_TE,          /* 400 both Content-Length and Transfer-Encoding */
    HTTP_R_TE_DUPLICATE,       /* 400 more than one Transfer-Encoding */
    HTTP_R_TE_UNSUPPORTED,     /* 501 Transfer-Encoding other than exactly "chunked" */
    HTTP_R_TE_HTTP10,          /* 400 Transfer-Encoding in an HTTP/1.0 request */
    HTTP_R_BODY_TOO_LARGE,     /* 413 body over max_body */
    HTTP_R_CHUNK_SIZE,         /* 400 malformed chunk size or extension */
    HTTP_R_CHUNK_CRLF,         /* 400 chunk data not followed by CRLF */
    HTTP_R_TRAILER,            /* 400 malformed or oversized trailer section */
    HTTP_R_EXPECT,             /* 417 Expect other than 100-continue */
    HTTP_R_PATH,               /* 400 target path unsafe to map to a file (http_target_path) */
    HTTP_R_COUNT
};

enum http_event_type {
    HTTP_EV_NONE = 0,  /* need more input (all given input consumed) */
    HTTP_EV_HEAD,      /* a request head is complete: read it with the accessors */
    HTTP_EV_BODY,      /* ev.data[0..len) is body (a slice of the input) */
    HTTP_EV_END,       /* the request is complete: respond, then http_next() */
    HTTP_EV_ERROR      /* rejected: http_reason()/http_status(); respond and close */
};

struct http_event {
    int type;
    const uint8_t *data;
    size_t len;
};

struct http_field { uint16_t name, name_len, value, value_len; };

/* Caller-allocated; fields are private to http.c. */
struct http_conn {
    struct http_config cfg;
    int phase, reason, version_minor, keep_alive, chunked, expect_continue;
    uint64_t deadline, body_left, body_total;
    /* head accumulation */
    size_t head_len, line_len, line_no;
    int prev_cr;
    /* request line (offsets into head) */
    uint16_t method, method_len, target, target_len;
    unsigned nfields;
    struct http_field f[HTTP_HEADERS_MAX];
    /* chunked body */
    int cstate;
    unsigned ndigits;
    size_t cline, trailer_len;
    uint8_t head[HTTP_HEAD_MAX];
};

void http_init(struct http_conn *c, const struct http_config *cfg, uint64_t now_ms);
/* Parse from in[0..len): *used bytes were consumed (the rest belongs to the
 * next call, or to the next request / an upgraded protocol after HEAD or END).
 * Returns the event type, also stored in ev->type.  A call with len == 0
 * still reports END of a request without body, and the header deadline. */
int http_feed(struct http_conn *c, const uint8_t *in, size_t len, size_t *used,
              uint64_t now_ms, struct http_event *ev);
/* The header deadline alone: HTTP_EV_ERROR (408) once passed, else NONE. */
int http_tick(struct http_conn *c, uint64_t now_ms);
/* Ready for the next request on this connection (after END and the response). */
void http_next(struct http_conn *c, uint64_t now_ms);

int http_reason(const struct http_conn *c);
int http_status(const struct http_conn *c); /* the status a rejection gets */
const char *http_reason_name(int reason);    /* "smuggle.cl-and-te", ... */
const char *http_status_text(int status);

/* After HEAD: the request.  Strings are counted, not NUL-terminated. */
const uint8_t *http_method(const struct http_conn *c, size_t *len);
const uint8_t *http_target(const struct http_conn *c, size_t *len);
int http_version_minor(const struct http_conn *c);
int http_method_is(const struct http_conn *c, const char *m);
/* First field of that name (case-insensitive), value without OWS; NULL if none. */
const uint8_t *http_header(const struct http_conn *c, const char *name, size_t *len);
/* How many fields of that name the request has. */
unsigned http_header_count(const struct http_conn *c, const char *name);
/* Does a comma-separated field of that name hold token tok (case-insensitive)? */
int http_header_has_token(const struct http_conn *c, const char *name, const char *tok);
/* HTTP_CLOSE, HTTP_PERSIST (HTTP/1.1) or HTTP_PERSIST_10 (HTTP/1.0 that asked
 * for keep-alive: the response must say so); pass it to http_wr_response(). */
enum { HTTP_CLOSE = 0, HTTP_PERSIST = 1, HTTP_PERSIST_10 = 2 };
int http_keep_alive(const struct http_conn *c);
int http_expect_continue(const struct http_conn *c);
int http_has_body(const struct http_conn *c);
/* The target's path percent-decoded into out (NUL-terminated), query
 * dropped; refused (HTTP_R_PATH) on %00, bad escapes, "..", "//", "\\". */
int http_target_path(const struct http_conn *c, char *out, size_t cap);

/* A checked writer for responses; a write that does not fit sets a sticky
 * error and writes nothing, and a failed writer's bytes are never sent. */
struct http_wr { uint8_t *p; size_t cap, len; int err; };
void http_wr_init(struct http_wr *w, void *p, size_t cap);
void http_wr_raw(struct http_wr *w, const void *d, size_t n);
void http_wr_str(struct http_wr *w, const char *s);
void http_wr_u64(struct http_wr *w, uint64_t v);
void http_wr_status(struct http_wr *w, int status);           /* "HTTP/1.1 200 OK\r\n" */
void http_wr_header(struct http_wr *w, const char *name, const char *value);
void http_wr_header_u64(struct http_wr *w, const char *name, uint64_t v);
void http_wr_end_head(struct http_wr *w);
/* s[0..n) as a JSON string: quoted, escaped, bytes >= 0x80 passed through */
void http_wr_json_str(struct http_wr *w, const uint8_t *s, size_t n);
int http_wr_failed(const struct http_wr *w);

/* A full response head: status, Content-Type (if not NULL), Content-Length,
 * ETag (if not NULL), Connection: close for HTTP_CLOSE or keep-alive for
 * HTTP_PERSIST_10, blank line. */
void http_wr_response(struct http_wr *w, int status, const char *ctype, uint64_t length,
                      const char *etag, int keep_alive);
/* A rejection: its status, a JSON body {"error":"<reason name>"}, Connection: close. */
void http_wr_error(struct http_wr *w, const struct http_conn *c);
/* A weak-free strong validator from size and modification time: "\"<size>-<mtime>\"" in hex. */
void http_etag(char out[HTTP_ETAG_MAX], uint64_t size, uint64_t mtime);
/* If-None-Match lists etag (or is "*"): the caller answers 304. */
int http_etag_match(const struct http_conn *c, const char *etag);

#endif
