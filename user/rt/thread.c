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
 * Every thread has its own ring: the kernel maps one for each new thread and
 * passes it at entry; the thread keeps it in rt_ring (TLS).
 */
#include "capos.h"

struct rt_tcb {
    struct rt_tcb *self;              /* %fs:0 */
    uint64_t _r[4];
    uint64_t canary;                  /* %fs:0x28 */
    struct rt_thread *thread;
};

struct rt_thread {
    void *(*fn)(void *);
    void *arg;
    void *block;                      /* stack + TLS, one allocation */
    uint32_t id;
    uint32_t handle;
};

uint32_t rt_threads_live;

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

/* The main thread's TLS lives in main_tls: it is needed before the heap (the
 * ring pointer is a TLS variable), so a program whose TLS does not fit
 * cannot start (exit code -3). */
void rt_thread_init_main(uint32_t tid)
{
    rt_main_tid = tid;
    if (tls_size() + sizeof(struct rt_tcb) > sizeof main_tls)
        sys_exit(-3);
    set_fs(tls_setup(main_tls));
}

static struct rt_tcb *tcb_self(void)
{
    struct rt_tcb *tcb;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
    return tcb;
}

uint32_t rt_thread_self(void)
{
    struct rt_tcb *tcb = tcb_self();
    return tcb->thread ? tcb->thread->id : rt_main_tid;
}

/* Called by rt_thread_entry with the FS base already set by the kernel. */
__attribute__((noreturn)) void rt_thread_main(struct cap_ring_hdr *ring, struct rt_thread *t, uint32_t tid)
{
    struct rt_tcb *tcb;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
    tcb->thread = t;
    t->id = tid;
    rt_ring = ring;
    void *ret = t->fn(t->arg);
    rt_thread_exit(ret);
}

#define STACK_SIZE (64 * 1024)

/* Stack + TLS blocks of joined threads, kept for the next rt_thread_create
 * (every block has the same size): a spawn+join then maps and unmaps no
 * memory. The stack's old contents are this process's own; the TLS and the
 * TCB are laid out afresh by tls_setup. Guarded by spare_lock. */
#define SPARE_BLOCKS 4
static void *spare_block[SPARE_BLOCKS];
static uint32_t nspare_block;
static volatile int spare_lock;

static void *block_get(size_t size)
{
    void *b = 0;
    rt_lock(&spare_lock);
    if (nspare_block)
        b = spare_block[--nspare_block];
    rt_unlock(&spare_lock);
    return b ? b : malloc(size);
}

static void block_put(void *b)
{
    rt_lock(&spare_lock);
    if (nspare_block < SPARE_BLOCKS) {
        spare_block[nspare_block++] = b;
        b = 0;
    }
    rt_unlock(&spare_lock);
    free(b);
}

int rt_thread_create(struct rt_thread **out, void *(*fn)(void *), void *arg)
{
    int64_t sp = rt_capset_lookup("threads");
    if (sp < 0)
        return CAP_ERR_NOT_FOUND;
    struct rt_thread *t = calloc(1, sizeof *t);
    size_t tls = tls_size() + sizeof(struct rt_tcb) + 64;
    char *block = t ? block_get(STACK_SIZE + tls) : 0;
    if (!block) {
        free(t);
        return CAP_ERR_OVERLOADED;
    }
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
        block_put(block);
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
    block_put(t->block);
    free(t);
    return 0;
}

void rt_thread_exit(void *value)
{
    int64_t tc = rt_capset_lookup("thread");
    if (tc < 0)
        exit((int)(uint64_t)value);           /* no ThreadControl: the whole process ends */
    uint8_t params[64] __attribute__((aligned(8)));
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, params, sizeof params);
    capos_ThreadControl_exit_Params_builder p = capos_ThreadControl_exit_Params_init_root(&b);
    capos_ThreadControl_exit_Params_set_id(p, 0);  /* the caller: our ring goes with us */
    capos_ThreadControl_exit_Params_set_value(p, (uint64_t)value);
    capnp_builder_finish(&b, &len);
    rt_call((uint32_t)tc, capos_ThreadControl_ID, capos_ThreadControl_METHOD_exit, params, (uint32_t)len, 0, 0, 0);
    exit((int)(uint64_t)value);               /* not reached unless the exit was refused */
}
