/*
 * An exit that callers can wait for: the one place behind
 * ProcessHandle.wait (a process's exit code) and ThreadHandle.join (a
 * thread's exit value). Both answer at once once the exit has happened,
 * queue the call (PENDING_EXIT_WAIT) until then, and fail their waiters
 * with CAP_ERR_DISCONNECTED when the handle goes away first.
 */
#ifndef CAP_EXIT_WAIT_H
#define CAP_EXIT_WAIT_H
#include "kobj.h"

struct exit_wait {
    bool exited;
    uint64_t value;            /* valid once exited */
    struct list waiters;       /* struct pending (PENDING_EXIT_WAIT), while !exited */
};

void exit_wait_init(struct exit_wait *w);
/* The wait method. CAPNP_OK with *value set when the exit has happened;
 * CALL_PENDING when the call now waits; CAP_ERR_OVERLOADED over quota. */
int exit_wait_call(struct exit_wait *w, struct call_ctx *c, uint64_t *value);
/* The exit happened (once): every waiter gets value. */
void exit_wait_done(struct exit_wait *w, uint64_t value);
/* The handle is going away: every waiter gets CAP_ERR_DISCONNECTED. */
void exit_wait_drop(struct exit_wait *w);
#endif
