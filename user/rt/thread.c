/*
 * Threads and thread-local storage.
 *
 * Every thread's FS base points at its thread control block; the static TLS
 * block (the ELF's .tdata image, then zeroed .tbss) sits just below it, as
 * the x86-64 ABI's variant II lays it out, so `__thread` variables work
 * (local-exec). The TCB's first word points at itself and the word at
 * %fs:0x28 is the stack-protector canary, which code built with
 * -fstack-protector (libsodium, BearSSL) reads.
 *
 * The TCB also holds the thread's wait record for the ring bridge (ring.c).
 */
#include "rt_internal.h"

struct rt_tcb {
    struct rt_tcb *self;              /* %fs:0 */
    uint64_t _r[4];
    uint64_t canary;                  /* %fs:0x28 */
    struct rt_thread *thread;
    struct rt_waiter waiter;
};

struct rt_thread {
    void *(*fn)(void *);
    void *arg;
    void *block;                      /* stack + TLS, one allocation */
    uint32_t id;
    uint32_t handle;
    uint32_t slot;
};

static volatile int slot_lock;
static uint64_t slots_used = 1;      /* slot 0 is the main thread's */

static int slot_get(void)
{
    int s = -1;
    rt_lock(&slot_lock);
    if (~slots_used) {
        s = __builtin_ctzll(~slots_used);
        slots_used |= 1ull << s;
    }
    rt_unlock(&slot_lock);
    return s;
}

static void slot_put(uint32_t s)
{
    rt_lock(&slot_lock);
    slots_used &= ~(1ull << s);
    rt_unlock(&slot_lock);
}

extern char __tdata_start[], __tdata_end[], __tbss_end[];
extern char __tls_align[];
extern void rt_thread_entry(void);    /* crt0.S */

static size_t tls_size(void)
{
    size_t align = (size_t)__tls_align ? (size_t)__tls_align : 8;
    size_t n = (size_t)(__tbss_end - __tdata_start);
    return (n + align - 1) & ~(align - 1);
}

/* Lay out TLS + TCB in mem (tls_size() + sizeof tcb bytes, 64-aligned) and
 * return the TCB (the FS base). */
static struct rt_tcb *tls_setup(void *mem)
{
    size_t ts = tls_size();
    char *block = mem;
    memcpy(block, __tdata_start, (size_t)(__tdata_end - __tdata_start));
    memset(block + (__tdata_end - __tdata_start), 0, ts - (size_t)(__tdata_end - __tdata_start));
    struct rt_tcb *tcb = (struct rt_tcb *)(block + ts);
    memset(tcb, 0, sizeof *tcb);
    tcb->self = tcb;
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    tcb->canary = (((uint64_t)hi << 32) | lo) * 0x9E3779B97F4A7C15ull & ~0xFFull;
    return tcb;
}

static inline void set_fs(void *base)
{
    __asm__ volatile("wrfsbase %0" : : "r"(base) : "memory");
}

uint32_t rt_main_tid;
static uint8_t main_tls[4096] __attribute__((aligned(64)));
static struct rt_tcb main_tcb_only;  /* when the program's TLS is too big for main_tls */

void rt_thread_init_main(uint32_t tid)
{
    rt_main_tid = tid;
    struct rt_tcb *tcb = &main_tcb_only;
    if (tls_size() + sizeof(struct rt_tcb) <= sizeof main_tls)
        tcb = tls_setup(main_tls);
    tcb->self = tcb;
    set_fs(tcb);
    rt_waiter_attach(&tcb->waiter, 0);
}

static struct rt_tcb *tcb_self(void)
{
    struct rt_tcb *tcb;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
    return tcb;
}

struct rt_waiter *rt_waiter_self(void)
{
    return &tcb_self()->waiter;
}

uint32_t rt_thread_self(void)
{
    struct rt_tcb *tcb = tcb_self();
    return tcb->thread ? tcb->thread->id : rt_main_tid;
}

/* Called by rt_thread_entry with the FS base already set by the kernel. */
__attribute__((noreturn)) void rt_thread_main(struct rt_thread *t, uint32_t tid)
{
    struct rt_tcb *tcb;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
    tcb->thread = t;
    t->id = tid;
    rt_waiter_attach(&tcb->waiter, t->slot);
    void *ret = t->fn(t->arg);
    rt_thread_exit(ret);
}

#define STACK_SIZE (64 * 1024)

int rt_thread_create(struct rt_thread **out, void *(*fn)(void *), void *arg)
{
    int64_t sp = rt_capset_lookup("threads");
    if (sp < 0)
        return CAP_ERR_NOT_FOUND;
    struct rt_thread *t = calloc(1, sizeof *t);
    size_t tls = tls_size() + sizeof(struct rt_tcb) + 64;
    char *block = t ? malloc(STACK_SIZE + tls) : 0;
    int slot = block ? slot_get() : -1;
    if (slot < 0) {
        free(block);
        free(t);
        return CAP_ERR_OVERLOADED;
    }
    t->slot = (uint32_t)slot;
    t->fn = fn;
    t->arg = arg;
    t->block = block;
    uint64_t top = ((uint64_t)block + STACK_SIZE) & ~15ull;
    char *tls_mem = (char *)(((uint64_t)block + STACK_SIZE + 63) & ~63ull);
    struct rt_tcb *tcb = tls_setup(tls_mem);
    __atomic_fetch_add(&rt_threads_live, 1, __ATOMIC_RELAXED);   /* before it can run */
    RT_BUFS(b, 128, 128);
    uint32_t spc = (uint32_t)sp;
    capnp_client cl = RT_CLIENT(spc);
    capnp_call call;
    capos_ThreadSpawner_spawn_Results_reader r;
    int e = capos_ThreadSpawner_spawn(&cl, &b, &call, (uint64_t)rt_thread_entry, (uint64_t)t, top,
                                      (uint64_t)tcb, &r);
    if (e) {
        __atomic_fetch_sub(&rt_threads_live, 1, __ATOMIC_RELAXED);
        slot_put(t->slot);
        free(block);
        free(t);
        return rt_error(e);
    }
    uint32_t hidx = capos_ThreadSpawner_spawn_Results_get_thread(r);
    t->handle = hidx < call.result_ncaps ? b.result_caps[hidx] : ~0u;
    t->id = capos_ThreadSpawner_spawn_Results_get_id(r);
    *out = t;
    return 0;
}

int rt_thread_join(struct rt_thread *t, void **ret)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(t->handle);
    capnp_call call;
    capos_ThreadHandle_join_Results_reader r;
    int e = capos_ThreadHandle_join(&cl, &b, &call, &r);
    if (e)
        return rt_error(e);
    if (ret)
        *ret = (void *)capos_ThreadHandle_join_Results_get_value(r);
    rt_release(t->handle);
    __atomic_fetch_sub(&rt_threads_live, 1, __ATOMIC_RELAXED);
    slot_put(t->slot);
    free(t->block);
    free(t);
    return 0;
}

void rt_thread_exit(void *value)
{
    int64_t tc = rt_capset_lookup("thread");
    struct rt_tcb *tcb = tcb_self();
    if (tc < 0 || !tcb->thread) {
        if (tc < 0)
            exit((int)(uint64_t)value);       /* no ThreadControl: the whole process ends */
    }
    /* Leave the bridge first: our TCB goes away with us. The exit names us,
     * so whichever thread's cap_enter processes it, it is we who end. */
    rt_waiter_detach(&tcb->waiter);
    uint8_t params[64] __attribute__((aligned(8)));
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, params, sizeof params);
    capos_ThreadControl_exit_Params_builder p = capos_ThreadControl_exit_Params_init_root(&b);
    capos_ThreadControl_exit_Params_set_id(p, rt_thread_self());
    capos_ThreadControl_exit_Params_set_value(p, (uint64_t)value);
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .flags = CAP_SQE_F_SILENT, .cap_id = (uint32_t)tc, .interface_id = capos_ThreadControl_ID,
        .method_id = capos_ThreadControl_METHOD_exit, .addr = (uint64_t)params, .len = (uint32_t)len,
    };
    rt_ring_submit_tagged(&s, RT_INTERNAL_TAG);
    for (;;)
        sys_cap_enter(0, 0);
}
