/*
 * capnp-rpc: the two-party Cap'n Proto RPC protocol (the reference
 * rpc.capnp, level 1 without promises' Resolve/Disembargo), sans-IO.
 *
 * One crpc_conn is one connection.  Bytes in: crpc_input() frames and
 * handles one message at a time (calls on the objects the connection
 * exports are dispatched synchronously, returns for our questions become
 * events).  Bytes out: crpc_output() / crpc_output_done(), which the caller
 * writes to its transport.  Nothing is allocated: the four tables, the
 * output queue and the scratch buffers calls are decoded into are caller
 * memory given to crpc_init().  No globals, no libc: only lib/capnp.
 *
 * Every malformed message, and every protocol violation (a forged export
 * id, a question id reused before its Finish, a Release of more than was
 * sent, ...), is answered with an Abort carrying a stable reason code, and
 * the connection is closed: crpc_input() returns CRPC_ERR_CLOSED, the
 * caller flushes the output (the Abort) and drops the transport.  A closed
 * connection holds nothing: every export was dropped (exported objects get
 * the dropped hook), every table is empty (crpc_live() is 0).
 */
#ifndef CRPC_H
#define CRPC_H

#include "capnp.h"

/* Results of the API calls (not on the wire). */
enum crpc_err {
    CRPC_OK = 0,
    CRPC_MORE = 1,           /* crpc_input: the frame is not complete yet */
    CRPC_ERR_CLOSED = 2,     /* the connection is closed (c->reason says why) */
    CRPC_ERR_NO_SPACE = 3,   /* the output queue or a builder is full */
    CRPC_ERR_TABLE_FULL = 4, /* no free question slot */
    CRPC_ERR_HANDLE = 5,     /* not a live handle / question of this connection */
    CRPC_ERR_INVALID = 6,    /* bad argument */
};

/* Stable reason codes: the text of an Abort or an exception is the name
 * (crpc_reason_name).  Never renumber; the names are what peers see. */
enum crpc_reason {
    CRPC_R_NONE = 0,
    /* Abort: the message could not be taken at all */
    CRPC_R_BAD_FRAME = 1,          /* bad-frame: segment count or table */
    CRPC_R_TOO_LARGE = 2,          /* too-large: over the message size limit */
    CRPC_R_MALFORMED = 3,          /* malformed: a pointer or bound is wrong */
    CRPC_R_UNKNOWN_QUESTION = 4,   /* unknown-question: Return for no question of ours */
    CRPC_R_QUESTION_REUSED = 5,    /* question-reused: id still in the answer table */
    CRPC_R_UNKNOWN_ANSWER = 6,     /* unknown-answer: Finish/promisedAnswer for no answer */
    CRPC_R_UNKNOWN_EXPORT = 7,     /* unknown-export: an export id never issued */
    CRPC_R_RELEASE_COUNT = 8,      /* release-count: released more than was sent */
    CRPC_R_TOO_MANY_QUESTIONS = 9, /* too-many-questions: the answer table is full */
    CRPC_R_TOO_MANY_IMPORTS = 10,  /* too-many-imports */
    CRPC_R_TOO_MANY_EXPORTS = 11,  /* too-many-exports */
    CRPC_R_BAD_CAP = 12,           /* bad-cap-descriptor */
    CRPC_R_BAD_TARGET = 13,        /* bad-target: unknown MessageTarget kind */
    CRPC_R_BAD_TRANSFORM = 14,     /* bad-transform: unknown PromisedAnswer op */
    CRPC_R_PEER_ABORT = 15,        /* peer-abort: (close reason) the peer sent Abort */
    CRPC_R_OUTPUT_FULL = 16,       /* output-full: the caller did not drain */
    CRPC_R_BAD_RETURN = 17,        /* bad-return: a Return kind we never asked for */
    /* exceptions: the call failed, the connection goes on */
    CRPC_R_UNKNOWN_INTERFACE = 32, /* unknown-interface (unimplemented) */
    CRPC_R_UNKNOWN_METHOD = 33,    /* unknown-method (unimplemented) */
    CRPC_R_UNIMPLEMENTED = 34,     /* unimplemented (unimplemented) */
    CRPC_R_STALE_CAP = 35,         /* stale-cap: released or revoked (failed) */
    CRPC_R_DISCONNECTED = 36,      /* disconnected: the exports were revoked */
    CRPC_R_RESULTS_TOO_LARGE = 37, /* results-too-large (failed) */
    CRPC_R_BAD_PARAMS = 38,        /* bad-params (failed) */
    CRPC_R_NOT_A_CAP = 39,         /* not-a-cap: a pipelined path names no cap */
    CRPC_R_NO_BOOTSTRAP = 40,      /* no-bootstrap (failed) */
    CRPC_R_SEND_RESULTS_TO = 41,   /* results-elsewhere: only `caller` (unimplemented) */
    CRPC_R_CANCELED = 42,          /* canceled: the callee canceled (client event) */
    CRPC_R_FAILED = 43,            /* failed: an application error without a name */
};

/* Exception.Type on the wire. */
enum crpc_exc_type {
    CRPC_EXC_FAILED = 0,
    CRPC_EXC_OVERLOADED = 1,
    CRPC_EXC_DISCONNECTED = 2,
    CRPC_EXC_UNIMPLEMENTED = 3,
};

const char *crpc_reason_name(int reason);

/* ---------------------------------------------------------------- limits */

#define CRPC_MAX_CAPS 16      /* capabilities in one payload */
#define CRPC_MAX_PATH 4       /* getPointerField ops in one pipelined target */
#define CRPC_ANSWER_PATHS 8   /* pipelinable caps remembered per answer */
#define CRPC_ABORT_RESERVE 256 /* output bytes only an Abort may use */

typedef struct crpc_limits {
    uint32_t max_segments;      /* <= CAPNP_MAX_SEGMENTS */
    uint32_t max_message_bytes; /* whole frame, table included */
    uint64_t traversal_words;   /* per message */
    uint32_t nesting;
} crpc_limits;

/* Defaults: 8 segments, 64 KiB, 16 Ki words, nesting 32. */
void crpc_default_limits(crpc_limits *l);

/* Frame check without a connection: CRPC_OK with *frame_len when buf holds
 * a whole message, CRPC_MORE when not yet, CRPC_ERR_INVALID with *reason
 * (bad-frame, too-large) when it never will.  Decided from the segment
 * table alone, before the body is buffered. */
int crpc_frame(const crpc_limits *l, const uint8_t *buf, size_t len,
               size_t *frame_len, int *reason);

/* ---------------------------------------------------------------- objects */

/* An object a connection serves: the generated X_dispatch_any with its
 * server table and instance.  The caller owns it; the connection only
 * points at it while it is exported, and tells the hook when it stops. */
typedef struct crpc_object {
    uint64_t interface_id;
    int (*dispatch)(const void *srv, void *self, capnp_server_call *call);
    const void *srv;
    void *self;
} crpc_object;

/* Capability handles, as they appear in the side tables of params and
 * results the application reads and builds:
 *   an import (a cap the peer hosts): its slot, below CRPC_H_EXPORT;
 *   an export (an object we host): CRPC_H_EXPORT | export id;
 *   CRPC_H_TRANSIENT: a cap the peer passed in params (released with the
 *   call, usable by nobody); CAPNP_NO_CAP: null. */
#define CRPC_H_EXPORT 0x80000000u
#define CRPC_H_TRANSIENT 0x7fffffffu

/* ----------------------------------------------------------------- tables */

struct crpc_question {
    uint8_t state;     /* free, pending, canceled (finished early), returned */
    uint8_t no_finish; /* the peer never took it (Unimplemented): no Finish */
};

struct crpc_answer_path {
    uint8_t len;
    uint8_t cap; /* index into rcaps */
    uint16_t field[CRPC_MAX_PATH];
};

struct crpc_answer {
    uint32_t qid;
    uint8_t state;    /* free, results, exception */
    uint8_t exc_type; /* enum crpc_exc_type, for state exception */
    uint8_t nrcaps;
    uint8_t npaths;
    const char *reason;                  /* exception text (static) */
    uint32_t rcaps[CRPC_MAX_CAPS];       /* handles in the Return's capTable */
    struct crpc_answer_path paths[CRPC_ANSWER_PATHS];
};

struct crpc_import {
    uint32_t id;          /* the peer's export id */
    uint32_t remote_refs; /* times the peer sent it: what a Release returns */
    uint32_t local_refs;  /* handles the application holds */
    uint8_t used;
};

struct crpc_export {
    const crpc_object *obj;
    uint32_t remote_refs; /* times sent to the peer, less its Releases */
    uint32_t pins;        /* answers whose results hold it */
    uint32_t gen;         /* generation of the slot (0: never used) */
    uint8_t used;
};

/* Caller memory for one connection.  scratch holds a call's params and
 * its results while it is dispatched (two halves). */
typedef struct crpc_mem {
    struct crpc_question *questions;
    uint32_t nquestions;
    struct crpc_answer *answers;
    uint32_t nanswers;
    struct crpc_import *imports;
    uint32_t nimports;
    struct crpc_export *exports;
    uint32_t nexports;
    uint8_t *out;
    size_t out_cap;
    uint8_t *scratch;
    size_t scratch_cap;
} crpc_mem;

/* ----------------------------------------------------------------- events */

enum crpc_event_kind {
    CRPC_EV_NONE = 0,      /* the message was handled inside (or ignored) */
    CRPC_EV_RETURN = 1,    /* a question of ours returned results */
    CRPC_EV_EXCEPTION = 2, /* a question of ours failed */
    CRPC_EV_CLOSED = 3,    /* the peer aborted (reason, type) or we did */
};

typedef struct crpc_event {
    int kind;
    uint32_t question;
    capnp_struct payload;  /* Payload of the results (content is pointer 0) */
    const uint32_t *caps;  /* result caps as handles, parallel to capTable */
    uint32_t ncaps;
    uint16_t type;         /* exception type */
    capnp_text reason;     /* exception / abort text */
} crpc_event;

/* ------------------------------------------------------------- connection */

enum crpc_state { CRPC_OPEN = 0, CRPC_CLOSED = 1 };

typedef struct crpc_conn {
    int state;
    int reason;      /* why it closed (enum crpc_reason) */
    bool revoked;    /* crpc_revoke(): calls fail disconnected */
    crpc_mem mem;
    crpc_limits lim;
    const crpc_object *bootstrap;
    size_t out_len;
    capnp_msg in; /* the message crpc_input handles (events point into it) */
    uint32_t ev_caps[CRPC_MAX_CAPS];
    /* hooks (any may be NULL) */
    void *ctx;
    void (*dropped)(void *ctx, const crpc_object *obj); /* export ended */
    /* an application error code (>= 256) to its exception type and name */
    int (*describe)(void *ctx, int err, const char **reason);
    /* counters */
    uint64_t messages_in, messages_out, calls, aborts_sent;
} crpc_conn;

void crpc_init(crpc_conn *c, const crpc_mem *mem, const crpc_limits *lim);
void crpc_set_bootstrap(crpc_conn *c, const crpc_object *obj);

/* Take at most one message from buf.  CRPC_MORE: buf holds no whole frame
 * yet (*used 0).  CRPC_OK: *used bytes were one message, *ev says what
 * came of it (content valid until the next crpc_input).  CRPC_ERR_CLOSED:
 * the connection is closed (an Abort may be queued: flush, then drop). */
int crpc_input(crpc_conn *c, const uint8_t *buf, size_t len, size_t *used,
               crpc_event *ev);

/* Queued output: the bytes to write, and how many were written. */
const uint8_t *crpc_output(const crpc_conn *c, size_t *len);
void crpc_output_done(crpc_conn *c, size_t n);

/* Abort with a reason (sends Abort, closes, drops everything). */
void crpc_abort(crpc_conn *c, int reason, int type);
/* The transport went away: close and drop everything, sending nothing. */
void crpc_close(crpc_conn *c);
/* The session behind the exports ended: drop every export now; later calls
 * on any of them fail `disconnected`, Releases of them are ignored. */
void crpc_revoke(crpc_conn *c);

/* Table entries in use: 0 on a closed connection (the leak counter). */
uint32_t crpc_live(const crpc_conn *c);

/* ----------------------------------------------------------------- server */

/* Inside a handler: a handle for obj to put in the results' cap table
 * (capnp_add_cap(results.s, crpc_export(c, obj))).  The export lives while
 * the peer holds it.  CAPNP_NO_CAP when the table is full. */
uint32_t crpc_export(crpc_conn *c, const crpc_object *obj);
/* The object behind an export handle (a cap the peer passed back), or NULL
 * when it is not a live export of this connection. */
const crpc_object *crpc_export_object(const crpc_conn *c, uint32_t handle);

/* ----------------------------------------------------------------- client */

typedef struct crpc_target {
    uint8_t kind; /* 0: import handle, 1: promised answer */
    uint8_t nops;
    uint16_t ops[CRPC_MAX_PATH]; /* getPointerField indexes */
    uint32_t id;  /* import handle or question id */
} crpc_target;

crpc_target crpc_target_import(uint32_t handle);
/* The cap at a path of pointer fields of a question's results (nops 0: the
 * content itself, as for a bootstrap question). */
crpc_target crpc_target_answer(uint32_t qid, uint32_t nops, const uint16_t *ops);

int crpc_bootstrap(crpc_conn *c, uint32_t *qid);

/* A Call being built in the output queue. */
typedef struct crpc_call {
    capnp_builder b;
    capnp_sbuilder payload;
    uint32_t caps[CRPC_MAX_CAPS]; /* the params' cap side table: handles */
    uint32_t qid;
    int err; /* enum crpc_err of a failed begin */
} crpc_call;

/* Start a call: returns the params struct to fill (capability fields take
 * capnp_add_cap(p, import handle)).  A failed start returns a builder that
 * ignores writes; crpc_call_send then reports the error. */
capnp_sbuilder crpc_call_begin(crpc_conn *c, crpc_call *call, crpc_target t,
                               uint64_t interface_id, uint16_t method_id,
                               uint16_t dw, uint16_t pw);
int crpc_call_send(crpc_conn *c, crpc_call *call, uint32_t *qid);

/* Done with a question: sends Finish.  Before its Return this cancels it. */
int crpc_finish(crpc_conn *c, uint32_t qid);
/* Drop one handle of an import; the last sends Release. */
int crpc_release(crpc_conn *c, uint32_t handle);
/* Keep one more handle of an import (e.g. a copy kept past its event). */
int crpc_retain(crpc_conn *c, uint32_t handle);

/* Read helpers for a RETURN event: the content as a struct, or as a cap
 * handle (a bootstrap answer). */
capnp_struct crpc_content(const crpc_event *ev);
uint32_t crpc_content_cap(const crpc_event *ev);

#endif
