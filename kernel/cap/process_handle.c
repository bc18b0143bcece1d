/*
 * ProcessHandle: a parent's view of a child.
 *   wait() -> exitCode   completes when the child has exited
 *            (at once if it already has). Exit codes: what the child passed
 *            to exit, or PROCESS_EXIT_FAULT / PROCESS_EXIT_KILLED.
 *   kill()   ends the child (its exit code becomes PROCESS_EXIT_KILLED).
 */
#include "objects.h"
#include "exit_wait.h"
#include "mm/kheap.h"
#include "sched/process.h"
#include "kprintf.h"

struct process_handle {
    struct kobj obj;
    struct process *proc;      /* 0 once the child has exited; the child's ->handle is us until then */
    struct exit_wait exit;     /* value: the exit code, as int64_t */
};

static int handle_wait(void *self, capos_ProcessHandle_wait_Params_reader p, capos_ProcessHandle_wait_Results_builder r)
{
    struct call_ctx *c = self;
    struct process_handle *h = (struct process_handle *)c->obj;
    uint64_t code;
    int err = exit_wait_call(&h->exit, c, &code);
    if (err == CAPNP_OK)
        capos_ProcessHandle_wait_Results_set_exitCode(r, (int64_t)code);
    return err;
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
    exit_wait_drop(&h->exit);
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
    exit_wait_init(&h->exit);
    p->handle = h;
    return &h->obj;
}

void process_handle_exited(struct process *p)
{
    struct process_handle *h = p->handle;
    if (!h)
        return;
    KASSERT(h->proc == p);
    p->handle = 0;
    h->proc = 0;
    exit_wait_done(&h->exit, (uint64_t)p->exit_code);
}
