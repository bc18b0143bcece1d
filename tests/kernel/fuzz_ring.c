/*
 * libFuzzer target: the capability ring as the kernel runs it (ring.c: SQE
 * decoding, the CQ and its overflow, buffer checks; table.c: cap ids;
 * transfer.c: copy and move descriptors; kobj.c: pending calls), with the
 * Console, TerminalSession and BootPackage objects behind it (the line
 * discipline too), built for the host. Hardware and scheduler hooks are
 * stubs; user memory is a model: a read-write region and a read-only page
 * (anything else is unmapped), the ring lives in host memory.
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
 * At the end the process exits as the kernel ends one (pending calls
 * cancelled, caps released) and the model checks nothing leaked: every
 * kernel allocation freed, every static object back to its one reference.
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
static struct thread me;
static uint64_t now_ns;
static unsigned blocks;
struct thread *current_thread(void) { return &me; }
/* cap_enter waiting: nothing else runs, so only time passes (a millisecond
 * a block); a wait that no deadline ends would never return. BLOCKS counts
 * one cap_enter's blocks (enter_wait resets it): an input may wait many
 * times, but one wait of at most 255 ms never blocks more than 255 times. */
void thread_block(void)
{
    if (me.wait_deadline == ~0ull || ++blocks > 1000)
        abort();
    now_ns += 1000000;
}
void thread_wake(struct thread *t) {}
void thread_set_timeout(struct thread *t, uint64_t deadline) { t->wait_deadline = deadline; }
void thread_clear_timeout(struct thread *t) { t->wait_deadline = ~0ull; }
uint64_t time_now_ns(void) { return now_ns; }
static uint8_t rx[256];
static size_t rx_head, rx_len;
int serial_getc(void) { return rx_head < rx_len ? rx[rx_head++] : -1; }
void serial_putc(char c) {}
void serial_write(const char *s, size_t n) {}
int endpoint_recv(struct process *p, const struct cap_sqe *s) { return CAP_ERR_INVALID_CAP; }
int endpoint_return(struct process *p, const struct cap_sqe *s) { return CAP_ERR_INVALID_CAP; }
bool endpoint_fast_call(struct process *p, const struct cap_sqe *s, int *r) { return false; }
void endpoint_call_cancel(struct pending *pd) { abort(); }
void park_cancel(struct pending *pd) { abort(); }

/* ---- the process ---- */
static struct process proc;
static uint8_t ring_mem[RING_SIZE] __attribute__((aligned(4096)));
static struct kobj *const served[] = { &console_obj, &terminal_obj, &bootpkg_obj };
#define NSERVED (sizeof served / sizeof served[0])
static uint32_t held[NSERVED];

static void proc_init(void)
{
    memset(&proc, 0, sizeof proc);
    memset(ring_mem, 0, sizeof ring_mem);
    proc.ring = (struct cap_ring_hdr *)ring_mem;
    proc.sq = (struct cap_sqe *)(ring_mem + RING_SQ_OFFSET);
    proc.cq = (struct cap_cqe *)(ring_mem + RING_CQ_OFFSET);
    list_init(&proc.threads);
    list_init(&proc.pendings);
    list_init(&proc.overflow);
    list_init(&proc.received);
    list_init(&me.proc_link);
    me.proc = &proc;
    list_add_tail(&proc.threads, &me.proc_link);
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
}

static uint64_t addr_of(uint8_t sel, uint16_t off)
{
    switch (sel % 8) {
    case 0: return 0;
    case 1: return 0xFFFF800000000000ull + off;          /* kernel */
    case 2: return RING_VADDR + off;
    case 3: return CAPSET_VADDR + off % 4096;
    case 4: return RO_BASE + off % (RO_SIZE + 16);
    case 5: return USER_TOP - 1 - off;
    default: return RW_BASE + off % (RW_SIZE + 16);
    }
}

static const uint64_t ifaces[] = { capos_Console_ID, capos_TerminalSession_ID, capos_BootPackage_ID, 0, 0x1234 };

static void submit(const struct cap_sqe *s)
{
    struct cap_ring_hdr *h = proc.ring;
    uint32_t tail = h->sq_tail;
    if (tail - h->sq_head < RING_SQ_ENTRIES) {
        proc.sq[tail & (RING_SQ_ENTRIES - 1)] = *s;
        h->sq_tail = tail + 1;
    }
}

static void enter_wait(uint32_t min, uint64_t timeout_ns)
{
    blocks = 0;
    int64_t n = ring_enter(&proc, min, timeout_ns);
    if (n < 0 || n > RING_CQ_ENTRIES)
        abort();
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
        .interface_id = ifaces[d[4] % 5],
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
            .interface_id = ifaces[next() % 5],
            .method_id = (uint16_t)(next() % 4),
            .addr = pick_addr(), .len = pick_len(),
            .result_addr = pick_addr(), .result_len = pick_len(),
            .xfer_cap_count = (uint8_t)(next() % 6 == 0 ? next() % 20 : 0),
            .xfer_addr = next() % 2 ? RW_BASE + 8192 : pick_addr(),
            .call_id = next() % 4 == 0 ? (uint32_t)next() : 0,
        };
        submit(&s);
        if (next() % 500 == 0)
            proc.ring->sq_tail = (uint32_t)next();
        if (next() % 700 == 0)
            proc.ring->cq_head = (uint32_t)next();
        if (i % 8 == 0 || next() % 3 == 0) {
            enter();
            proc.ring->cq_head = proc.ring->cq_tail;
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
    me.wait_deadline = ~0ull;
    memset(rw_mem, 0, sizeof rw_mem);
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
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
                proc.ring->sq_tail = v;
            else
                proc.ring->cq_head = v;
            break;
        }
        case 5:
            proc.ring->cq_head = proc.ring->cq_tail;
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
