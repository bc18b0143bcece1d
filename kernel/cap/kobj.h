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

/* A call that completes later. It sits on its caller's list (so the caller's
 * death cancels it) and on the serving object's wait list. */
struct pending {
    struct list proc_link;
    struct list wait_link;
    struct process *proc;
    uint64_t user_data;
    uint64_t result_addr;
    uint32_t result_len;
    uint64_t arg;                       /* object-specific (deadline, max length, ...) */
    uint64_t arg2;
    struct thread *thread;              /* ParkSpace: the parked thread */
    void (*cancel)(struct pending *p);  /* object-specific clean-up when the caller goes away */
    bool silent;                        /* complete without posting a CQE */
    void *cancel_arg;
};

void kobj_init(struct kobj *o, const struct kobj_type *t);
static inline struct kobj *kobj_get(struct kobj *o) { o->refs++; return o; }
void kobj_put(struct kobj *o);
size_t kobj_live_count(void);

/* Turn the current call into a pending one; 0 when the caller is over its
 * outstanding-call quota (then answer CAP_ERR_OVERLOADED). */
struct pending *pending_new(struct call_ctx *c);
struct pending *pending_new_for(struct process *p, uint64_t user_data, uint64_t result_addr, uint32_t result_len);
/* Copy `len` result bytes to the caller and post its CQE; frees p. */
void pending_complete(struct pending *p, int result, const void *data, uint32_t len);
/* Complete with a result struct whose only field is a 64-bit value at offset
 * 0 of a one-word data section (ProcessHandle.wait, ThreadHandle.join). */
void pending_complete_u64(struct pending *p, uint64_t v);
/* Complete with an encoded empty result struct (methods returning `()`). */
void pending_complete_empty(struct pending *p);
/* Drop a pending call without a completion (its caller is going away). */
void pending_free(struct pending *p);
size_t pending_live_count(void);

/* Map the generated dispatcher's codec errors onto the ring's error codes. */
int call_error(int capnp_err);

#endif
