/*
 * The capOS user runtime: what every program links against.
 */
#ifndef RT_CAPOS_H
#define RT_CAPOS_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include "capos/abi.h"
#include "capos/ifaces.h"
#include "syscall.h"
#include "c/string.h"
#include "fmt/fmt.h"
#include "capnp.h"

/* ---- process ---- */
extern __thread struct cap_ring_hdr *rt_ring;   /* the calling thread's own ring */
extern const struct capset *rt_capset;
extern uint32_t rt_pid;
/* The kernel entry on the calling thread's own ring (syscall.h). */
static inline int64_t sys_cap_enter(uint32_t min_complete, uint64_t timeout_ns)
{
    return sys_cap_enter_ring(rt_ring, min_complete, timeout_ns);
}
int main(void);
__attribute__((noreturn)) void exit(int code);

/* ---- CapSet: find a granted cap by name and interface; -1 if absent ---- */
int64_t rt_capset_find(const char *name, uint64_t iface);
/* The cap named `name` whatever its interface; -1 if absent. */
int64_t rt_capset_lookup(const char *name);
/* The same, but a missing cap ends the program with a message. */
uint32_t rt_capset_require(const char *name);

/* ---- the ring: every thread has its own; each function works on the
 * calling thread's, and a call's completion comes back to the thread that
 * submitted it ---- */
/* Submit one SQE (user_data is filled in and returned); waits for SQ room. */
uint64_t rt_ring_submit(struct cap_sqe *sqe);
/* The runtime's own user_data values: RT_RING_TAG_BASE | a sequence number
 * below 2^48. Event loops choose tags outside that range. */
#define RT_RING_TAG_BASE (1ull << 48)
/* The same with a caller-chosen user_data (event loops tag their own calls). */
uint64_t rt_ring_submit_tagged(struct cap_sqe *sqe, uint64_t user_data);
/* Enter our own ring until user_data has completed; take that CQE and leave
 * every other one in the CQ for rt_ring_poll. */
void rt_ring_wait(uint64_t user_data, struct cap_cqe *out);
/* Take the oldest completion on our CQ; false if none. For event loops
 * that wait on several calls: sys_cap_enter(1, ...) between polls. */
bool rt_ring_poll(struct cap_cqe *out);
/* An event loop's wait: the next completion, waiting at most timeout_ns
 * (CAP_TIMEOUT_FOREVER: for ever); false if none came. */
bool rt_ring_next(struct cap_cqe *out, uint64_t timeout_ns);
/* CQEs rt_ring_wait found on this thread's CQ ahead of the one it waited
 * for (an event loop's own; 0 in a thread that only makes synchronous calls). */
extern __thread uint64_t rt_ring_others;
/* Submit and wait: a synchronous CALL. Returns the CQE result. */
int32_t rt_call(uint32_t cap, uint64_t iface, uint16_t method, const void *params, uint32_t plen,
                 void *result, uint32_t rlen, struct cap_cqe *cqe_out);
int32_t rt_release(uint32_t cap);

/* ---- generated client stubs over the ring ----
 * RT_CLIENT(cap) is a capnp_client for a cap id; RT_BUFS(name) declares the
 * buffers of one call. Stub errors >= RT_TRANSPORT_BASE carry a CAP_ERR_*;
 * rt_error() turns any stub error into a CAP_ERR_* (0 for success). */
#define RT_TRANSPORT_BASE 256
#define RT_TRANSPORT_ERR(cap_err) (RT_TRANSPORT_BASE - (cap_err))
int rt_transport(void *ctx, uint64_t iface, uint16_t method, const void *params, size_t plen,
                 const uint32_t *param_caps, uint32_t nparam_caps, void *result, size_t rcap,
                 size_t *rlen, uint32_t *result_caps, uint32_t rcaps_cap, uint32_t *rncaps);
int rt_error(int stub_err);
/* The interface of each result cap of this thread's last call, in order. */
extern __thread uint64_t rt_result_ifaces[CAP_MAX_XFER];
#define RT_CLIENT(capvar) ((capnp_client){ rt_transport, &(capvar) })
#define RT_BUFS(name, psize, rsize)                                             \
    uint8_t name##_p[psize] __attribute__((aligned(8)));                        \
    uint8_t name##_r[rsize] __attribute__((aligned(8)));                        \
    uint32_t name##_pc[CAP_MAX_XFER], name##_rc[CAP_MAX_XFER];                  \
    capnp_call_bufs name = { name##_p, psize, name##_pc, CAP_MAX_XFER,          \
                             name##_r, rsize, name##_rc, CAP_MAX_XFER }

/* ---- typed clients for the kernel's objects ---- */
int      rt_console_write(const char *s, size_t n);
int      rt_console_read_line(char *buf, size_t max);     /* length, or a CAP_ERR_* */
uint64_t rt_timer_now(void);
int      rt_timer_sleep_until(uint64_t deadline_ns);
int      printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int      puts(const char *s);
extern uint32_t rt_console, rt_timer, rt_memory;       /* cap ids, or ~0u */

/* ---- processes ---- */
/* Spawn `binary` granting caps[i] under names[i]; session is a SessionContext
 * cap or ~0u to inherit ours. Returns the ProcessHandle cap or a CAP_ERR_*. */
int64_t rt_spawn(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                 uint32_t n, uint32_t session);
int64_t rt_spawn_args(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                      uint32_t n, uint32_t session, const char *args);
/* The same, also granting the child its own "threads" and "thread" caps. */
int64_t rt_spawn_threads(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                         uint32_t n, const char *args);
int64_t rt_wait(uint32_t handle);                      /* exit code, or a CAP_ERR_* */
int     rt_kill(uint32_t handle);
__attribute__((noreturn)) void rt_power_off(uint32_t power, uint32_t status);
struct rt_kernel_stats {
    uint64_t free_frames, objects, heap_bytes, processes, cap_slots, pending_calls;
    uint64_t heap_pages;             /* frames the kernel heap holds (free_frames + heap_pages: exact) */
};
int     rt_stats(uint32_t stats, struct rt_kernel_stats *out);

/* ---- endpoints ---- */
struct rt_incoming {
    const struct cap_recv_hdr *hdr;
    const uint8_t *params;
    uint32_t ncaps;
    uint32_t caps[CAP_MAX_XFER];          /* caps that came with the call (now ours) */
    uint64_t cap_ifaces[CAP_MAX_XFER];
    bool deferred;                        /* a handler sets it to answer later */
    uint32_t keep;                        /* result caps (bit i: cap i) copied, not moved */
    void *user;
    /* set by the server: told of a release notice (the last holder of the
     * facet with this badge, minted by rt_endpoint_facet_notify, let go) */
    void (*released)(void *self, uint64_t badge);
};
typedef int (*rt_dispatch_fn)(const void *server, void *self, capnp_server_call *c);
int rt_recv(uint32_t owner, void *buf, uint32_t len, struct rt_incoming *in);
int rt_return(uint32_t owner, uint32_t call_id, const void *result, uint32_t len,
              const struct cap_xfer *x, uint32_t nx, bool fail);
/* RECV one call into buf, dispatch it through a generated dispatcher (self
 * is passed to the handlers; `in` describes the call) and RETURN the result.
 * Result caps move to the caller unless the handler sets their bit in
 * in->keep (then the caller gets a copy and the server keeps its own). */
int rt_serve_one(uint32_t owner, rt_dispatch_fn dispatch, const void *server, void *self,
                 void *buf, uint32_t len, struct rt_incoming *in);
/* Serve calls on `owner` for ever, each through `dispatch` (a generated
 * X_dispatch_any) with `in` as the handlers' self; returns 0 only if the
 * endpoint is closed under it (a RECV's DISCONNECTED). A caller that dies
 * while its call is handled ends that call, not the loop (its RETURN's
 * DISCONNECTED is taken as answered, and caps meant for it are released).
 * One serve loop per thread. */
int rt_serve_forever(uint32_t owner, rt_dispatch_fn dispatch, const void *server, struct rt_incoming *in);
/* The same for an event loop serving several endpoints: the RECV into buf
 * was posted by the loop (rt_ring_submit_tagged) and completed with cqe. */
int rt_serve_delivered(uint32_t owner, const struct cap_cqe *cqe, rt_dispatch_fn dispatch, const void *server,
                       void *self, void *buf, struct rt_incoming *in);
int rt_endpoint_create(uint32_t factory, uint64_t iface, uint32_t disclose, uint32_t *owner, uint32_t *client);
int64_t rt_endpoint_facet(uint32_t owner, uint64_t badge);
/* The same, and the owner's RECV delivers a release notice (in->released)
 * once the facet's last holder drops it. */
int64_t rt_endpoint_facet_notify(uint32_t owner, uint64_t badge);
int64_t rt_session_mint(uint32_t authority, const char *principal, const char *profile);

/* ---- threads (needs the "threads" and "thread" caps) ---- */
struct rt_thread;
int  rt_thread_create(struct rt_thread **out, void *(*fn)(void *), void *arg);
int  rt_thread_join(struct rt_thread *t, void **ret);
__attribute__((noreturn)) void rt_thread_exit(void *value);
uint32_t rt_thread_self(void);
extern uint32_t rt_main_tid;
extern uint32_t rt_threads_live;                        /* threads besides main */
void rt_lock(volatile int *l);                          /* a spin lock (short sections only) */
void rt_unlock(volatile int *l);

/* ---- parking and synchronisation (ParkSpace: the "park" cap) ---- */
/* Park the calling thread while *word == expected (timeout 0: none);
 * returns a capos_ParkResult, or a CAP_ERR_* (negative). */
int  rt_park_wait(volatile uint32_t *word, uint32_t expected, uint64_t timeout_ns);
void rt_park_wake(volatile uint32_t *word, uint32_t count);
struct rt_mutex { volatile uint32_t state; };      /* 0 free, 1 locked, 2 locked with waiters */
struct rt_cond { volatile uint32_t seq; };
struct rt_once { volatile uint32_t state; };       /* 0 new, 1 running, 2 done */
void rt_mutex_lock(struct rt_mutex *m);
void rt_mutex_unlock(struct rt_mutex *m);
void rt_cond_wait(struct rt_cond *c, struct rt_mutex *m);
void rt_cond_signal(struct rt_cond *c);
void rt_cond_broadcast(struct rt_cond *c);
void rt_once(struct rt_once *o, void (*fn)(void));

/* True for interfaces that are broad authority (rt/authority.c). */
bool rt_broad_authority(uint64_t iface);

/* ---- TerminalSession ---- */
/* One line; *event is a capos_TerminalEvent (line, interrupt, endOfInput). */
int rt_term_read(uint32_t term, bool echo, char *out, size_t cap, int *event);
int rt_term_printf(uint32_t term, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- heap ---- */
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void  free(void *p);
#endif
