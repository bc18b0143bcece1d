/*
 * The cheapest trip into the kernel and back.
 *   capOS: one NOP SQE per cap_enter (submit, enter, reap), and NOPs in
 *          batches of 16 and 256 per enter (cost per SQE).
 *   Linux: getppid().
 * pair: ring-nop-1 = getppid
 */
#include "../bench.h"

#define N 2001

static uint64_t samples[N];

#ifdef __capos__
static struct cap_sqe *sq(void) { return (struct cap_sqe *)((char *)rt_ring + RING_SQ_OFFSET); }

/* submit k NOPs, one enter, reap k completions */
static void nops(uint32_t k)
{
    uint32_t tail = rt_ring->sq_tail;
    for (uint32_t i = 0; i < k; i++) {
        struct cap_sqe *s = &sq()[(tail + i) & (RING_SQ_ENTRIES - 1)];
        s->opcode = CAP_OP_NOP;
        s->user_data = i;
    }
    __atomic_store_n(&rt_ring->sq_tail, tail + k, __ATOMIC_RELEASE);
    int64_t got = sys_cap_enter(k, 0);
    if (got != (int64_t)k)
        exit(100 + (int)got);
    rt_ring->cq_head += k;   /* every NOP completes at once, with result 0 */
}

int main(void)
{
    static const uint32_t sizes[] = { 1, 16, 256 };
    static const char *const names[] = { "ring-nop-1", "ring-nop-batch16", "ring-nop-batch256" };
    for (int s = 0; s < 3; s++) {
        int n = sizes[s] == 256 ? 201 : N;
        for (int i = 0; i < 50; i++)
            nops(sizes[s]);
        for (int i = 0; i < n; i++) {
            uint64_t t0 = bench_tsc();
            nops(sizes[s]);
            samples[i] = bench_tsc() - t0;
        }
        bench_report(names[s], samples, n, sizes[s]);
    }
    return 0;
}
#else
#include <unistd.h>


int main(void)
{
    for (int i = 0; i < 100; i++)
        getppid();
    for (int i = 0; i < N; i++) {
        uint64_t t0 = bench_tsc();
        getppid();
        samples[i] = bench_tsc() - t0;
    }
    bench_report("getppid", samples, N, 1);
    return 0;
}
#endif
