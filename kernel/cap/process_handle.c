/*
 * ProcessHandle: a parent's view of a child.
 *   wait() -> exitCode   completes when the child has exited
 *            (at once if it already has). Exit codes: what the child passed
 *            to exit, or PROCESS_EXIT_FAULT / PROCESS_EXIT_KILLED.
 *   kill()   ends the child (its exit code becomes PROCESS_EXIT_KILLED).
 */
#include "objects.h"
#include "mm/kheap.h"
#include "sched/process.h"

struct process_handle {
    struct kobj obj;
    struct process *proc;      /* 0 once the child has exited */
    bool exited;
    int64_t code;
    struct list waiters;
};

static int handle_wait(void *self, capos_ProcessHandle_wait_Params_reader p, capos_ProcessHandle_wait_Results_builder r)
{
    struct call_ctx *c = self;
    struct process_handle *h = (struct process_handle *)c->obj;
    if (h->exited) {
        capos_ProcessHandle_wait_Results_set_exitCode(r, h->code);
        return CAPNP_OK;
    }
    struct pending *pd = pending_new(c, PENDING_EXIT_WAIT);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    list_add_tail(&h->waiters, &pd->wait_link);
    return CALL_PENDING;
}

static int handle_kill(void *self, capos_ProcessHandle_kill_Params_reader p, capos_ProcessHandle_kill_Results_builder r)
{
    struct process_handle *h = (struct process_handle *)((struct call_ctx *)self)->obj;
    if (h->proc)
        process_exit(h->proc, PROCESS_EXIT_KILLED);
    return CAPNP_OK;
}

static const capos_ProcessHandle_server handle_server = { .wait = handle_wait, .kill = handle_kill };
static int handle_call(struct kobj *o, struct call_ctx *c) { return capos_ProcessHandle_dispatch(&handle_server, c, &c->sc); }

static void handle_destroy(struct kobj *o)
{
    struct process_handle *h = (struct process_handle *)o;
    if (h->proc)
        h->proc->handle = 0;
    while (!list_empty(&h->waiters))
        pending_complete(container_of(h->waiters.next, struct pending, wait_link),
                         CAP_ERR_DISCONNECTED, 0, 0);
    kfree(h);
}

static const struct kobj_type handle_type = { "ProcessHandle", IFACE_PROCESS_HANDLE, handle_call, handle_destroy };

struct kobj *process_handle_create(struct process *p)
{
    struct process_handle *h = kmalloc(sizeof *h);
    if (!h)
        return 0;
    kobj_init(&h->obj, &handle_type);
    h->proc = p;
    list_init(&h->waiters);
    p->handle = h;
    return &h->obj;
}

void process_handle_exited(struct process *p)
{
    struct process_handle *h = p->handle;
    if (!h)
        return;
    p->handle = 0;
    h->proc = 0;
    h->exited = true;
    h->code = p->exit_code;
    while (!list_empty(&h->waiters))
        pending_complete_u64(container_of(h->waiters.next, struct pending, wait_link), (uint64_t)h->code);
}
