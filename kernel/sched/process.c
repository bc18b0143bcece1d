/*
 * Processes: an address space, a capability table, a ring, and threads.
 *
 * Layout of a new process (see capos/abi.h):
 *   the ELF's segments          where the ELF says (below RING_VADDR)
 *   RING_VADDR                  the first thread's ring: header, SQ, CQ (read/write, no-exec)
 *   CAPSET_VADDR                the CapSet page (read-only)
 *   THREAD_RINGS_VADDR ...      the rings of threads made later, one per slot
 *   USER_STACK_TOP - 64 KiB     the stack (read/write, no-exec; unmapped guard below)
 *   VMEM_BASE ...               VirtualMemory.map allocations (the heap)
 */
#include "process.h"
#include "sched.h"
#include "elf.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "mm/frame.h"
#include "cap/objects.h"
#include "cap/session.h"
#include "cap/endpoint.h"
#include "capos.capnp.h"
#include "ring/ring.h"
#include "dev/power.h"
#include "c/string.h"

#define DEFAULT_CAP_SLOTS  256
#define DEFAULT_PAGE_LIMIT 4096      /* 16 MiB of user memory per process */

static struct list all = LIST_INIT(all);
static uint32_t nprocs, next_pid = 1;
static int64_t init_exit_code;

uint32_t process_count(void) { return nprocs; }

struct thread *process_thread(struct process *p, uint32_t tid)
{
    for (struct list *n = p->threads.next; n != &p->threads; n = n->next) {
        struct thread *t = container_of(n, struct thread, proc_link);
        if (t->tid == tid)
            return t;
    }
    return 0;
}

int process_list_caps(capos_KernelStats_processes_Results_builder r)
{
    capnp_lbuilder l = capos_KernelStats_processes_Results_init_list(r, nprocs);
    uint32_t i = 0;
    for (struct list *n = all.next; n != &all && i < nprocs; n = n->next, i++) {
        struct process *p = container_of(n, struct process, all_link);
        capos_ProcessCaps_builder b = capos_ProcessCaps_list_at(l, i);
        capos_ProcessCaps_set_pid(b, p->pid);
        capos_ProcessCaps_set_name(b, p->name, strlen(p->name));
        capos_ProcessCaps_set_held(b, p->caps.used);
        capos_ProcessCaps_set_pages(b, (uint32_t)p->vm.pages);
        capos_ProcessCaps_set_userTsc(b, p->user_tsc);
        capos_ProcessCaps_set_kernelTsc(b, p->kernel_tsc);
        capos_ProcessCaps_set_pending(b, p->npending);
        uint32_t listed = p->caps.used < 32 ? p->caps.used : 32, k = 0;
        capnp_lbuilder ifs = capos_ProcessCaps_init_interfaces(b, listed);
        for (uint32_t s = 0; s < p->caps.nslots && k < listed; s++)
            if (p->caps.slots[s].obj)
                capnp_lset_u64(ifs, k++, p->caps.slots[s].obj->iface);
    }
    return CAPNP_OK;
}

uint64_t process_cap_slots_used(void)
{
    uint64_t n = 0;
    for (struct list *l = all.next; l != &all; l = l->next)
        n += container_of(l, struct process, all_link)->caps.used;
    return n;
}

static int map_fresh(struct process *p, vaddr_t va, size_t pages, uint64_t flags)
{
    for (size_t i = 0; i < pages; i++) {
        paddr_t pa = frame_alloc();
        if (!pa)
            return CAP_ERR_OVERLOADED;
        if (vm_map_user(&p->vm, va + i * PAGE_SIZE, pa, flags) < 0) {
            frame_free(pa);
            return CAP_ERR_OVERLOADED;
        }
    }
    return 0;
}

static int setup_capset(struct process *p, const struct spawn_grant *g, uint32_t n, const char *args, bool threads)
{
    paddr_t pa = frame_alloc();
    if (!pa)
        return CAP_ERR_OVERLOADED;
    struct capset *cs = phys_to_virt(pa);
    cs->magic = CAPSET_MAGIC;
    cs->pid = p->pid;
    strlcpy(cs->args, args ? args : "", sizeof cs->args);
    for (uint32_t i = 0; i < n; i++) {
        int64_t id = cap_insert(&p->caps, kobj_get(g[i].obj));
        if (id < 0) {
            kobj_put(g[i].obj);
            frame_free(pa);
            return (int)id;
        }
        struct capset_entry *e = &cs->entries[i];
        strlcpy(e->name, g[i].name, sizeof e->name);
        e->cap_id = (uint32_t)id;
        e->interface_id = g[i].obj->iface;
    }
    cs->count = n;
    static const char *const thread_names[3] = { "threads", "thread", "park" };
    for (int which = 0; threads && which < 3 && cs->count < CAPSET_MAX; which++) {
        struct kobj *o = thread_cap_create(p, which);
        int64_t id = o ? cap_insert(&p->caps, o) : CAP_ERR_OVERLOADED;
        if (id < 0) {
            if (o)
                kobj_put(o);
            frame_free(pa);
            return (int)id;
        }
        struct capset_entry *e = &cs->entries[cs->count++];
        strlcpy(e->name, thread_names[which], sizeof e->name);
        e->cap_id = (uint32_t)id;
        e->interface_id = o->iface;
    }
    if (vm_map_user(&p->vm, CAPSET_VADDR, pa, PTE_NX) < 0) {
        frame_free(pa);
        return CAP_ERR_OVERLOADED;
    }
    return 0;
}

struct process *process_find(uint32_t pid)
{
    for (struct list *n = all.next; n != &all; n = n->next) {
        struct process *p = container_of(n, struct process, all_link);
        if (p->pid == pid)
            return p;
    }
    return 0;
}

struct process *process_spawn(const char *name, const void *elf, size_t elf_size,
                              const struct spawn_grant *grants, uint32_t ngrants,
                              const char *args, struct session *session, bool threads, int *err)
{
    if (ngrants > CAPSET_MAX - 3) {
        *err = CAP_ERR_INVALID_ARGUMENT;
        return 0;
    }
    struct process *p = kmalloc(sizeof *p);
    if (!p) {
        *err = CAP_ERR_OVERLOADED;
        return 0;
    }
    memset(p, 0, sizeof *p);
    p->pid = next_pid++;
    strlcpy(p->name, name, sizeof p->name);
    list_init(&p->threads);
    list_init(&p->pendings);
    list_init(&p->received);
    p->vm_next = VMEM_BASE;
    p->user_tsc = p->kernel_tsc = 0;
    p->session = session;
    kobj_get(&session->obj);
    list_add_tail(&all, &p->all_link);
    nprocs++;
    if (pending_spares_fill(p) < 0) {
        process_exit(p, PROCESS_EXIT_KILLED);
        *err = CAP_ERR_OVERLOADED;
        return 0;
    }

    uint64_t entry = 0;
    int r = CAP_ERR_OVERLOADED;
    if (vm_space_init(&p->vm, DEFAULT_PAGE_LIMIT) < 0 || cap_table_init(&p->caps, DEFAULT_CAP_SLOTS) < 0)
        goto fail;
    if ((r = elf_load(&p->vm, elf, elf_size, &entry)) < 0)
        goto fail;
    struct ring *ring = ring_create(p);                /* slot 0: at RING_VADDR */
    if (!ring) {
        r = CAP_ERR_OVERLOADED;
        goto fail;
    }
    if ((r = setup_capset(p, grants, ngrants, args, threads)) < 0)
        goto fail;
    if ((r = map_fresh(p, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE / PAGE_SIZE, PTE_W | PTE_NX)) < 0)
        goto fail;
    r = CAP_ERR_OVERLOADED;
    struct thread *t = thread_create(p, entry, USER_STACK_TOP - 8, ring->va, p->pid, CAPSET_VADDR);
    if (!t)
        goto fail;
    ring_bind(ring, t);
    return p;
fail:
    *err = r;
    p->exit_code = PROCESS_EXIT_KILLED;
    process_exit(p, PROCESS_EXIT_KILLED);
    return 0;
}

/*
 * The teardown order binds; each step relies on the ones before it:
 *  1. Cancel every pending call p made (pending_cancel): queued endpoint
 *     calls are withdrawn and roll their moves back into p's cap table, so
 *     the table must still exist; in-flight ones are orphaned. From here on
 *     nothing can complete into p (completions travel through pendings).
 *  2. Drop the completions still queued for CQ room in every thread's
 *     ring: none can be added now.
 *  3. Fail the endpoint calls p had received but not answered, so their
 *     callers learn at once even when another owner keeps the endpoint.
 *  4. Release p's caps. Objects may die here and complete other processes'
 *     calls; none targets p (step 1).
 *  5. Tell the parent (ProcessHandle): its wait sees p's caps already gone,
 *     so leak accounting right after the wait is exact.
 *  6. Drop the session, free the address space (and ring and CapSet pages),
 *     then the rings' kernel side (every thread's ring pointer goes to 0).
 *  7. Unbind p's thread caps, tell every thread's joiner, destroy every
 *     thread but the running one; the running one (if p's) leaves through
 *     thread_exit_current and the reaper frees p once it is off its stack.
 *     A thread running on another CPU is doomed instead (sched.c): it ends
 *     itself at its next kernel entry, and p is freed only after that.
 * p->exiting makes a second call (a fault in a dying process's code path,
 * a kill racing an exit) a no-op.
 */
void process_exit(struct process *p, int64_t code)
{
    if (p->exiting)
        return;
    p->exiting = true;
    p->exit_code = code;
    if (p->pid == 1)
        init_exit_code = code;

    while (!list_empty(&p->pendings))                                       /* 1 */
        pending_cancel(container_of(p->pendings.next, struct pending, proc_link));
    KASSERT(p->npending == 0);
    ring_discard_overflow(p);                                               /* 2 */
    pending_spares_drop(p);
    endpoint_receiver_exit(p);                                              /* 3 */
    KASSERT(list_empty(&p->received));
    cap_table_destroy(&p->caps);                                            /* 4 */
    KASSERT(p->npending == 0);
    process_handle_exited(p);                                               /* 5 */
    kobj_put(&p->session->obj);                                             /* 6 */
    vm_space_destroy(&p->vm);
    for (uint32_t s = 0; s < PROC_MAX_THREADS; s++)
        if (p->rings[s])
            ring_free(p, p->rings[s]);

    thread_caps_unbind(p);                                                  /* 7 */
    struct thread *self = 0;
    for (struct list *n = p->threads.next; n != &p->threads; n = n->next)
        thread_handle_ended(container_of(n, struct thread, proc_link), (uint64_t)code);
    while (!list_empty(&p->threads)) {
        struct thread *t = container_of(p->threads.next, struct thread, proc_link);
        if (t == current_thread()) {
            list_del(&t->proc_link);
            self = t;
            continue;
        }
        thread_destroy(t);
    }
    list_del(&p->all_link);
    nprocs--;
    if (nprocs == 0) {
        kprintf("[kernel] no processes left; init exited with %ld\n", init_exit_code);
        power_off((uint32_t)init_exit_code & 0x7f);
    }
    p->gone = true;
    if (self) {
        list_add_tail(&p->threads, &self->proc_link);   /* thread_exit_current unlinks it */
        thread_exit_current();
    }
    process_free_if_done(p);
}

void process_free_if_done(struct process *p)
{
    if (p->gone && p->nthreads == 0 && p->nunreaped == 0)
        kfree(p);
}
