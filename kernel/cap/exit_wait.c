#include "exit_wait.h"
#include "kprintf.h"

void exit_wait_init(struct exit_wait *w)
{
    w->exited = false;
    w->value = 0;
    list_init(&w->waiters);
}

int exit_wait_call(struct exit_wait *w, struct call_ctx *c, uint64_t *value)
{
    if (w->exited) {
        *value = w->value;
        return CAPNP_OK;
    }
    struct pending *pd = pending_new(c, PENDING_EXIT_WAIT);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    list_add_tail(&w->waiters, &pd->wait_link);
    return CALL_PENDING;
}

void exit_wait_done(struct exit_wait *w, uint64_t value)
{
    KASSERT(!w->exited);
    w->exited = true;
    w->value = value;
    while (!list_empty(&w->waiters))
        pending_complete_u64(container_of(w->waiters.next, struct pending, wait_link), value);
}

void exit_wait_drop(struct exit_wait *w)
{
    while (!list_empty(&w->waiters))
        pending_complete(container_of(w->waiters.next, struct pending, wait_link), CAP_ERR_DISCONNECTED, 0, 0);
}
