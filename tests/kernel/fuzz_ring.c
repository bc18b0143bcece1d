/*
 * libFuzzer target: the capability ring as the kernel runs it (ring.c: SQE
 * decoding, the CQ and its overflow, buffer checks; table.c: cap ids;
 * transfer.c: copy and move descriptors; kobj.c: pending calls), with the
 * Console, TerminalSession and BootPackage objects behind it (the line
 * discipline too), built for the host. Hardware and scheduler hooks are
 * stubs; user memory is a model: a read-write region and a read-only page
 * (anything else is unmapped), and the model's threads' rings (each made by
 * ring_create, freed by ring_thread_gone) live in host memory. Timer is
 * served too, so a sleep submitted by a thread that then ends completes
 * into a stale ThreadRef and is dropped.
 * Input: records
 *   [0 ...16 bytes]   an SQE: opcode, flags, cap (an index into the caps
 *                     held, or raw), interface (one of the served, or raw),
 *                     method, params/result/xfer addresses (a region and an
 *                     offset), lengths, transfer count, call_id
 *   [1 off n bytes]   bytes written into the read-write region (params,
 *                     transfer descriptors)
 *   [2]               cap_enter
 *   [3 a b c d]       user space clobbers sq_tail;  [4 a b c d] cq_head
 *   [5]               user space consumes every completion
 *   [6 seed(8) n]     n*16 SQEs from tests/guest/sqefuzz's generator (the
 *                     same distributions), with cap_enter between: the
 *                     guest fuzzer's reach, measured on this build
 *   [7 n]             n bytes typed on the UART (pending line reads finish)
 *   [8 min ms]        cap_enter waiting for min completions, at most ms
 *                     milliseconds (the model's clock moves while it waits)
 *   [0xF0]            a new thread, with its own ring (at most MODEL_THREADS)
 *   [0xF1 n]          thread n % MODEL_THREADS becomes the current one (the
 *                     one whose ring the next records use), if it lives
 *   [0xF2 n]          thread n ends (not the current one): its ring goes
 *   [0xF3 ms]         ms milliseconds pass: due sleeps complete
 * (Other opcode bytes select records 0-8 by their value modulo 9.)
 * At the end the process exits as the kernel ends one (pending calls
 * cancelled, caps released, rings freed) and the model checks nothing
 * leaked: every kernel allocation and ring freed, every static object back
 * to its one reference.
 */
#include <stdlib.h>
#include <string.h>
#include "cap/objects.h"
#include "cap/table.h"
#include "cap/endpoint.h"
#include "ring/ring.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "mm/kheap.h"
#include "mm/vm.h"
#include "dev/serial.h"
#include "arch/x86_64/lapic.h"
#include "kprintf.h"
#include "capos/bootpkg.h"

void panic(const char *fmt, ...) { abort(); }
void kprintf(const char *fmt, ...) {}

/* ---- the kernel heap: counted ---- */
static long live_allocs;
void *kmalloc(size_t size) { live_allocs++; return calloc(1, size); }
void kfree(void *p) { if (p) { live_allocs--; free(p); } }

/* ---- user memory: a read-write region and a read-only page ---- */
#define RW_BASE 0x400000ull
#define RW_SIZE 0x4000ull
#define RO_BASE 0x500000ull
#define RO_SIZE 0x1000ull
static uint8_t rw_mem[RW_SIZE] __attribute__((aligned(4096)));
static uint8_t ro_mem[RO_SIZE] = "read-only";

static uint8_t *user_ptr(vaddr_t va, size_t len, uint64_t need)
{
    if (va >= RW_BASE && va - RW_BASE <= RW_SIZE && len <= RW_SIZE - (va - RW_BASE))
        return rw_mem + (va - RW_BASE);
    if (!(need & PTE_W) && va >= RO_BASE && va - RO_BASE <= RO_SIZE && len <= RO_SIZE - (va - RO_BASE))
        return ro_mem + (va - RO_BASE);
    return 0;
}
bool vm_user_range_ok(struct vm_space *s, vaddr_t va, size_t len, uint64_t need) { return user_ptr(va, len, need) != 0; }
bool vm_copy_in(struct vm_space *s, void *dst, vaddr_t va, size_t len)
{
    uint8_t *p = user_ptr(va, len, 0);
    if (p)
        memcpy(dst, p, len);
    return p != 0;
}
bool vm_copy_out(struct vm_space *s, vaddr_t va, const void *src, size_t len)
{
    uint8_t *p = user_ptr(va, len, PTE_W);
    if (p)
        memcpy(p, src, len);
    return p != 0;
}

/* ---- the scheduler, the clock, the UART, endpoints: stubs ---- */
#define MODEL_THREADS 4
static struct thread threads[MODEL_THREADS];   /* live while ->ring is set */
static unsigned cur;
static uint64_t now_ns;
static unsigned blocks;
struct thread *current_thread(void) { return &threads[cur]; }
static struct process proc;
struct process *current_process(void) { return &proc; }
/* cap_enter waiting: nothing else runs, so only time passes (a millisecond
 * a block); a wait that no deadline ends would never return. BLOCKS counts
 * one cap_enter's blocks (enter_wait resets it): an input may wait many
 * times, but one wait of at most 255 ms never blocks more than 255 times. */
void thread_block(void)
{
    if (threads[cur].wait_deadline == ~0ull || ++blocks > 1000)
        abort();
    now_ns += 1000000;
    timer_expire(now_ns);
}
void thread_wake(struct thread *t) {}
void thread_wake_handoff(struct thread *t) {}
void sched_prefer_thread(struct thread *t) {}
void thread_set_timeout(struct thread *t, uint64_t deadline) { t->wait_deadline = deadline; }
void thread_clear_timeout(struct thread *t) { t->wait_deadline = ~0ull; }
uint64_t time_now_ns(void) { return now_ns; }
void time_calibration(uint64_t *base, uint64_t *mult) { *base = 0; *mult = 1ull << 32; }
static uint8_t rx[256];
static size_t rx_head, rx_len;
int serial_getc(void) { return rx_head < rx_len ? rx[rx_head++] : -1; }
void serial_putc(char c) {}
void serial_write(const char *s, size_t n) {}
int endpoint_recv(struct process *p, const struct cap_sqe *s) { return CAP_ERR_INVALID_CAP; }
int endpoint_return(struct process *p, const struct cap_sqe *s) { return CAP_ERR_INVALID_CAP; }
bool endpoint_fast_call(struct process *p, const struct cap_sqe *s, int *r, struct thread **direct) { return false; }
/* no object here is an endpoint's: the endpoint fast path's first look
 * (ring/ipc.h) always steps aside, and ring/ipc.c is not built here */
const struct kobj_type endpoint_owner_type, endpoint_facet_type;
uint64_t endpoint_ifaces[4];
bool ring_enter_ipc(struct thread *self, struct ring *r, uint32_t n, uint32_t min_complete, struct thread **next)
{
    abort();
}
void thread_block_to(struct thread *next) { abort(); }
bool park_fast_call(struct process *p, const struct cap_sqe *s, int *r) { return false; }
void endpoint_call_cancel(struct pending *pd) { abort(); }
void park_cancel(struct pending *pd) { abort(); }
void park_thread_gone(struct thread *t) {}

/* ---- ring memory: host memory posing as frames (phys_to_virt undoes the
 * direct-map offset); the space owns them once mapped, as in the kernel ---- */
#define RING_PAGES (RING_SIZE / 4096)
static void *ring_frames[PROC_MAX_THREADS];    /* by slot: what the space holds */
static unsigned ring_slot_of(vaddr_t va)
{
    return va < THREAD_RINGS_VADDR ? 0 : (unsigned)((va - THREAD_RINGS_VADDR) / RING_STRIDE);
}
paddr_t frame_alloc_contig(size_t n)
{
    void *m = aligned_alloc(4096, n * 4096);
    if (!m)
        abort();
    memset(m, 0, n * 4096);
    live_allocs++;
    return (paddr_t)((uintptr_t)m - DIRECT_MAP);
}
void frame_free(paddr_t pa) { abort(); }        /* only on a failed map, which the model never has */
int vm_map_user(struct vm_space *s, vaddr_t va, paddr_t pa, uint64_t flags)
{
    if (va % RING_STRIDE == 0)
        ring_frames[ring_slot_of(va)] = phys_to_virt(pa);
    return 0;
}
bool vm_unmap_user(struct vm_space *s, vaddr_t va)
{
    void **f = &ring_frames[ring_slot_of(va)];
    if (va % RING_STRIDE == 0 && *f) {
        free(*f);
        *f = 0;
        live_allocs--;
    }
    return true;
}
size_t vm_unmap_range(struct vm_space *s, vaddr_t va, size_t npages, bool borrowed)
{
    if (npages)
        vm_unmap_user(s, va);           /* a ring's frames are one allocation, freed at its first page */
    return npages;
}

/* ---- the process and its threads' rings ---- */
static struct kobj *const served[] = { &console_obj, &terminal_obj, &bootpkg_obj, &timer_obj };
#define NSERVED (sizeof served / sizeof served[0])
static uint32_t held[NSERVED];
static struct cap_ring_hdr *hdr(void) { return threads[cur].ring->hdr; }
static struct cap_sqe *sqes(void) { return threads[cur].ring->sq; }

static void thread_new(void)
{
    for (unsigned t = 0; t < MODEL_THREADS; t++) {
        if (threads[t].ring)
            continue;
        memset(&threads[t], 0, sizeof threads[t]);
        threads[t].proc = &proc;
        threads[t].wait_deadline = ~0ull;
        list_init(&threads[t].proc_link);
        struct ring *r = ring_create(&proc);
        if (!r)
            abort();
        ring_bind(r, &threads[t]);
        return;
    }
}

static void thread_end(unsigned t)
{
    if (t != cur && threads[t].ring) {
        ring_thread_gone(&threads[t]);
        if (threads[t].ring)
            abort();                               /* its ring must be gone */
    }
}

static void proc_init(void)
{
    memset(&proc, 0, sizeof proc);
    memset(threads, 0, sizeof threads);
    proc.vm.pml4 = 1;                              /* a live space: rings are unmapped when they go */
    list_init(&proc.threads);
    list_init(&proc.pendings);
    list_init(&proc.received);
    cur = 0;
    thread_new();
    if (threads[0].ring->va != RING_VADDR)
        abort();                                   /* the first thread's ring is where the entry says */
    proc.nthreads = 1;
    if (cap_table_init(&proc.caps, 16))
        abort();
    for (unsigned i = 0; i < NSERVED; i++)
        held[i] = (uint32_t)cap_insert(&proc.caps, kobj_get(served[i]));
}

/* process_exit's part that concerns the ring and the caps */
static void proc_exit(void)
{
    proc.exiting = true;
    while (!list_empty(&proc.pendings))
        pending_cancel(container_of(proc.pendings.next, struct pending, proc_link));
    ring_discard_overflow(&proc);
    pending_spares_drop(&proc);
    cap_table_destroy(&proc.caps);
    for (unsigned s = 0; s < PROC_MAX_THREADS; s++)   /* the space goes, then the rings */
        if (ring_frames[s]) {
            free(ring_frames[s]);
            ring_frames[s] = 0;
            live_allocs--;
        }
    proc.vm.pml4 = 0;
    for (unsigned s = 0; s < PROC_MAX_THREADS; s++)
        if (proc.rings[s])
            ring_free(&proc, proc.rings[s]);
}

static uint64_t addr_of(uint8_t sel, uint16_t off)
{
    switch (sel % 8) {
    case 0: return 0;
    case 1: return 0xFFFF800000000000ull + off;          /* kernel */
    case 2: return RING_VADDR + off;
    case 3: return off & 1 ? CAPSET_VADDR + off % 4096 : THREAD_RINGS_VADDR + off * 64ull;   /* other rings too */
    case 4: return RO_BASE + off % (RO_SIZE + 16);
    case 5: return USER_TOP - 1 - off;
    default: return RW_BASE + off % (RW_SIZE + 16);
    }
}

static const uint64_t ifaces[] = { capos_Console_ID, capos_TerminalSession_ID, capos_BootPackage_ID, 0, 0x1234, capos_Timer_ID };

static void submit(const struct cap_sqe *s)
{
    struct cap_ring_hdr *h = hdr();
    uint32_t tail = h->sq_tail;
    if (tail - h->sq_head < RING_SQ_ENTRIES) {
        sqes()[tail & (RING_SQ_ENTRIES - 1)] = *s;
        h->sq_tail = tail + 1;
    }
}

static void enter_wait(uint32_t min, uint64_t timeout_ns)
{
    blocks = 0;
    vaddr_t mine = threads[cur].ring->va;
    int64_t n;                                     /* as the system call: the NOP fast path first */
    if (threads[cur].park || !ring_enter_nops(threads[cur].ring, min, timeout_ns, mine, &n))
        n = ring_enter(&threads[cur], min, timeout_ns, mine);
    if (n < 0 || n > RING_CQ_ENTRIES)
        abort();
    if (ring_enter(&threads[cur], 0, 0, mine == RING_VADDR ? ring_vaddr(1) : RING_VADDR) != CAP_ERR_WRONG_THREAD)
        abort();                                   /* another slot's ring is never ours */
}

static void enter(void)
{
    enter_wait(0, 0);
}

static void sqe_record(const uint8_t *d)
{
    struct cap_sqe s = {
        .opcode = d[0] % 8,
        .flags = d[1] & 0x80 ? d[1] & 3 : 0,
        .cap_id = d[2] & 0x80 ? (uint32_t)d[2] << 16 | d[3] : held[d[2] % NSERVED],
        .interface_id = ifaces[d[4] % 6],
        .method_id = d[5] % 8 == 7 ? 0xffff : d[5] % 8,
        .addr = addr_of(d[6], (uint16_t)(d[7] << 8 | d[8])),
        .len = d[9] & 0x80 ? (uint32_t)d[9] << 24 : (uint32_t)d[9] * 8,
        .result_addr = addr_of(d[10], (uint16_t)(d[11] << 8)),
        .result_len = d[12] & 0x80 ? (uint32_t)d[12] << 24 : (uint32_t)d[12] * 40,
        .xfer_cap_count = d[13] % 4 == 0 ? d[13] / 4 % 20 : 0,
        .xfer_addr = addr_of(d[14], (uint16_t)(d[15] * 16)),
        .call_id = d[1] & 0x40 ? d[1] : 0,
        .user_data = d[3],
    };
    submit(&s);
}

/* tests/guest/sqefuzz's generator, with its addresses mapped onto the model */
static uint64_t rng;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static uint64_t pick_addr(void)
{
    switch (next() % 9) {
    case 0: return 0;
    case 1: return 0xFFFF800000000000ull + (next() % 0x100000);
    case 2: return RING_VADDR + (next() % RING_SIZE);
    case 3: return CAPSET_VADDR + (next() % 4096);
    case 4: return next() & 0x00007FFFFFFFFFFFull;
    case 5: return RO_BASE;
    default: return RW_BASE + (next() % 8192);
    }
}
static uint32_t pick_len(void)
{
    switch (next() % 5) {
    case 0: return 0;
    case 1: return (uint32_t)next();
    case 2: return (uint32_t)(next() % 8192);
    default: return (uint32_t)(next() % 256);
    }
}
static void sqefuzz_rounds(uint64_t seed, unsigned rounds)
{
    rng = seed | 1;
    for (unsigned i = 0; i < rounds; i++) {
        struct cap_xfer *x = (struct cap_xfer *)(rw_mem + 8192);
        for (int k = 0; k < 4; k++)
            x[k] = (struct cap_xfer){ next() % 3 ? held[next() % NSERVED] : (uint32_t)next(), (uint32_t)(next() % 3) };
        struct cap_sqe s = {
            .opcode = (uint8_t)(next() % 7),
            .flags = (uint16_t)(next() % 5 == 0 ? next() % 4 : 0),
            .cap_id = next() % 4 ? held[next() % NSERVED] : (uint32_t)next(),
            .interface_id = ifaces[next() % 6],
            .method_id = (uint16_t)(next() % 4),
            .addr = pick_addr(), .len = pick_len(),
            .result_addr = pick_addr(), .result_len = pick_len(),
            .xfer_cap_count = (uint8_t)(next() % 6 == 0 ? next() % 20 : 0),
            .xfer_addr = next() % 2 ? RW_BASE + 8192 : pick_addr(),
            .call_id = next() % 4 == 0 ? (uint32_t)next() : 0,
        };
        submit(&s);
        if (next() % 500 == 0)
            hdr()->sq_tail = (uint32_t)next();
        if (next() % 700 == 0)
            hdr()->cq_head = (uint32_t)next();
        if (i % 8 == 0 || next() % 3 == 0) {
            enter();
            hdr()->cq_head = hdr()->cq_tail;
        }
    }
}

/* a small boot package for BootPackage to serve */
static uint8_t pkg[sizeof(struct bootpkg_hdr) + sizeof(struct bootpkg_entry) + 64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct bootpkg_hdr *h = (void *)pkg;
    memcpy(h->magic, BOOTPKG_MAGIC, 8);
    h->count = 1;
    struct bootpkg_entry *e = (void *)(h + 1);
    strcpy(e->name, "manifest");
    e->offset = sizeof *h + sizeof *e;
    e->size = 64;
    bootpkg_init(pkg, sizeof pkg);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proc_init();
    rx_head = rx_len = 0;
    now_ns = 0;
    memset(rw_mem, 0, sizeof rw_mem);
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
        if (op >= 0xF0 && op <= 0xF3) {
            uint8_t n = i < size ? data[i] : 0;
            switch (op) {
            case 0xF0:
                thread_new();
                break;
            case 0xF1:
                i++;
                if (threads[n % MODEL_THREADS].ring)
                    cur = n % MODEL_THREADS;
                break;
            case 0xF2:
                i++;
                thread_end(n % MODEL_THREADS);
                break;
            default:
                i++;
                now_ns += (uint64_t)n * 1000000;
                timer_expire(now_ns);
                break;
            }
            continue;
        }
        switch (op % 9) {
        case 0:
            if (size - i < 16)
                goto done;
            sqe_record(data + i);
            i += 16;
            break;
        case 1: {
            if (size - i < 2)
                goto done;
            size_t off = (size_t)data[i] * 64 % RW_SIZE, n = data[i + 1];
            i += 2;
            if (n > size - i)
                n = size - i;
            if (n > RW_SIZE - off)
                n = RW_SIZE - off;
            memcpy(rw_mem + off, data + i, n);
            i += n;
            break;
        }
        case 2:
            enter();
            break;
        case 3:
        case 4: {
            uint32_t v = 0;
            for (int k = 0; k < 4 && i < size; k++)
                v = v << 8 | data[i++];
            if (op % 9 == 3)
                hdr()->sq_tail = v;
            else
                hdr()->cq_head = v;
            break;
        }
        case 5:
            hdr()->cq_head = hdr()->cq_tail;
            break;
        case 6: {
            if (size - i < 9)
                goto done;
            uint64_t seed;
            memcpy(&seed, data + i, 8);
            sqefuzz_rounds(seed, data[i + 8] * 16u);
            i += 9;
            break;
        }
        case 8: {
            uint32_t min = i < size ? data[i++] : 0;
            uint32_t ms = i < size ? data[i++] : 0;
            enter_wait(min * 4, (uint64_t)ms * 1000000);   /* 0: do not wait */
            break;
        }
        default: {
            size_t n = i < size ? data[i++] : 0;
            if (n > size - i)
                n = size - i;
            memcpy(rx, data + i, n);
            rx_head = 0;
            rx_len = n;
            i += n;
            console_input_ready();
            break;
        }
        }
    }
done:
    enter();
    proc_exit();
    if (live_allocs)
        abort();                                   /* a pending call, an overflow CQE or a table leaked */
    for (unsigned k = 0; k < NSERVED; k++)
        if (served[k]->refs != 1)
            abort();                               /* a reference taken and never dropped (or dropped twice) */
    return 0;
}
