/*
 * Kernel objects and how a CALL reaches them.
 *
 * Every capability names a kernel object. An object's type gives its
 * interface id and one `call` function; `call` either answers at once
 * (returns the result length, >= 0, or a CAP_ERR_*), or keeps the call as a
 * `struct pending` and returns CALL_PENDING, completing it later with
 * pending_complete().
 */
#ifndef CAP_KOBJ_H
#define CAP_KOBJ_H
#include "types.h"
#include "list.h"
#include "capos/abi.h"

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
};

#define CALL_PENDING (-0x10000)
#define CALL_MAX_RESULT_CAPS 4

struct call_ctx {
    struct process *caller;
    uint16_t method;
    const uint8_t *params;
    uint32_t plen;
    uint8_t *result;                    /* kernel buffer of rcap bytes */
    uint32_t rcap;                      /* = min(SQE result_len, CAP_MAX_RESULT) */
    struct kobj *result_caps[CALL_MAX_RESULT_CAPS];   /* references handed to the caller */
    uint32_t nresult_caps;
    /* for calls that complete later */
    uint64_t user_data;
    uint64_t result_addr;
    uint32_t result_len;
};

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
};

void kobj_init(struct kobj *o, const struct kobj_type *t);
static inline struct kobj *kobj_get(struct kobj *o) { o->refs++; return o; }
void kobj_put(struct kobj *o);
size_t kobj_live_count(void);

/* Turn the current call into a pending one; 0 when the caller is over its
 * outstanding-call quota (then answer CAP_ERR_OVERLOADED). */
struct pending *pending_new(struct call_ctx *c);
/* Copy `len` result bytes to the caller and post its CQE; frees p. */
void pending_complete(struct pending *p, int result, const void *data, uint32_t len);
/* Drop a pending call without a completion (its caller is going away). */
void pending_free(struct pending *p);

#endif
