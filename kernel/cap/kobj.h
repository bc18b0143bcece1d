/*
 * Kernel objects and how a CALL reaches them.
 *
 * Every capability names a kernel object. An object's type gives its
 * interface id and one `call` function, which hands the call to the
 * schema-generated dispatcher for that interface (params and results are
 * Cap'n Proto messages; capability pointers in them index the call's
 * transferred caps and result caps). A method answers at once (CAPNP_OK, or
 * a CAP_ERR_*), or keeps the call as a `struct pending` and returns
 * CALL_PENDING, completing it later with pending_complete().
 */
#ifndef CAP_KOBJ_H
#define CAP_KOBJ_H
#include "types.h"
#include "list.h"
#include "capos/abi.h"
#include "capos/ifaces.h"
#include "capnp.h"
#include "ring/ring.h"

struct kobj;
struct process;
struct call_ctx;

struct kobj_type {
    const char *name;
    uint64_t iface;
    int  (*call)(struct kobj *o, struct call_ctx *c);
    void (*destroy)(struct kobj *o);   /* the last reference went away */
};

struct kobj {
    const struct kobj_type *type;
    uint32_t refs;
    uint64_t iface;        /* the type's, except where an object serves another (endpoint facets) */
};
#define KOBJ_STATIC(t, iface_id) { &(t), 1, (iface_id) }

#define CALL_PENDING (-0x10000)
#define CALL_MAX_RESULT_CAPS 4

struct call_ctx {
    struct process *caller;
    struct kobj *obj;                   /* the object called */
    capnp_server_call sc;               /* params in, result message out */
    struct kobj **in_caps;              /* caps the caller transferred (side table = identity) */
    uint32_t nin;
    struct kobj *out_caps[CALL_MAX_RESULT_CAPS];   /* references handed to the caller */
    uint32_t nout;
    /* for calls that complete later */
    uint64_t user_data;
    uint64_t result_addr;
    uint32_t result_len;
    struct xfer_set *xfer;              /* the transfer; an object that keeps it sets xfer_taken */
    bool silent;                        /* CAP_SQE_F_SILENT: no completion is posted */
    bool xfer_taken;
};

/* The object behind capability pointer `index` of the params, or 0. */
struct kobj *ctx_param_cap(struct call_ctx *c, uint32_t index);
/* Hand `o` (a reference the caller now owns) back as a result capability;
 * returns the index to store in the result's capability field, or
 * CAPNP_NO_CAP (and drops the reference) when the call has too many. */
uint32_t ctx_result_cap(struct call_ctx *c, capnp_sbuilder s, struct kobj *o);

/*
 * A call that completes later. It sits on its caller's `pendings` list (so
 * the caller's death cancels it) and, through wait_link, on the list of
 * whatever it waits for. `kind` names the object that keeps it and so which
 * member of the union below is live; nothing else reads that member.
 *
 * Life: pending_new*() -> on a wait list -> exactly one of
 *   pending_complete*()  the object answers (posts the CQE, frees it);
 *   pending_retire()     the object posted the CQE itself (RECV, RETURN);
 *   pending_cancel()     the caller (or, for a park, its thread) is going
 *                        away: the object's clean-up runs, no CQE is posted.
 */
enum pending_kind {
    PENDING_TIMER,          /* Timer.sleepUntil */
    PENDING_LINE,           /* Console / TerminalSession.readLine (linedisc.c) */
    PENDING_PARK,           /* ParkSpace.wait */
    PENDING_EP_CALL,        /* CALL on an endpoint's client facet */
    PENDING_EP_RECV,        /* RECV posted on an endpoint's owner side */
    PENDING_EXIT_WAIT,      /* ProcessHandle.wait, ThreadHandle.join */
    PENDING_IRQ,            /* Interrupt.wait (interrupt.c) */
};

struct ep_call;
struct park_space;
struct thread;

struct pending {
    struct list proc_link;              /* on proc->pendings */
    struct list wait_link;              /* on the keeping object's wait list (or alone) */
    struct process *proc;               /* the caller's process */
    struct thread_ref to;               /* the thread that submitted it: its ring gets the CQE */
    enum pending_kind kind;
    uint64_t user_data;
    uint64_t result_addr;
    uint32_t result_len;
    bool silent;                        /* complete without posting a CQE (unless it fails) */
    union {
        struct { uint64_t deadline_ns; } timer;
        struct { uint32_t max; unsigned flags; /* LD_* */ } line;
        struct {
            uint64_t addr;              /* the user word waited on */
            uint64_t deadline_ns;       /* ~0: none */
            struct thread *thread;      /* the parked thread (its ->park is this) */
            struct park_space *space;   /* the ParkSpace it waits in (wait_link: its waiters) */
            struct list timed_link;     /* on park.c's deadline list when it has one (else alone) */
        } park;
        struct { struct ep_call *call; } ep_call;   /* the queued or delivered call */
        /* PENDING_EP_RECV, PENDING_EXIT_WAIT: nothing beyond the wait list */
    };
};

void kobj_init(struct kobj *o, const struct kobj_type *t);
static inline struct kobj *kobj_get(struct kobj *o) { o->refs++; return o; }
void kobj_put(struct kobj *o);
size_t kobj_live_count(void);

/* Turn the current call into a pending one of the given kind; 0 when the
 * caller is over its outstanding-call quota (then answer CAP_ERR_OVERLOADED). */
struct pending *pending_new(struct call_ctx *c, enum pending_kind kind);
struct pending *pending_new_for(struct process *p, enum pending_kind kind, uint64_t user_data,
                                uint64_t result_addr, uint32_t result_len);
/* p's preallocated pending records: filled at spawn (-1: no memory), freed
 * once p's pending calls are all cancelled (process_exit). */
int pending_spares_fill(struct process *p);
void pending_spares_drop(struct process *p);
/* Copy `len` result bytes to the caller and post its CQE; frees p. */
void pending_complete(struct pending *p, int result, const void *data, uint32_t len);
/* Complete with a result struct whose only field is a 64-bit value at offset
 * 0 of a one-word data section (ProcessHandle.wait, ThreadHandle.join). */
void pending_complete_u64(struct pending *p, uint64_t v);
/* Complete with an encoded empty result struct (methods returning `()`). */
void pending_complete_empty(struct pending *p);
/* Free a pending call whose CQE its object has already posted. */
void pending_retire(struct pending *p);
/* Drop a pending call without a completion: its caller (or parked thread) is
 * going away. Runs the keeping object's clean-up for p's kind, then frees p. */
void pending_cancel(struct pending *p);
size_t pending_live_count(void);

/* Map the generated dispatcher's codec errors onto the ring's error codes. */
int call_error(int capnp_err);

#endif
