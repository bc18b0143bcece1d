/*
 * Two CPUs at once, measured by the wall clock: bench/run.py takes every
 * "mt-" metric from a second run of both guests under
 * -accel tcg,thread=multi (one host thread per guest CPU, no -icount, which
 * would force one CPU at a time), so the TSC counts host time, not
 * instructions. Figures are TSC ticks (comparable between the two guests of
 * one run, not across machines) and a speed-up in hundredths.
 *   mt-mutex-contended: two threads on two CPUs each take and release one
 *     mutex around a counter increment; ticks per lock+unlock.
 *     capOS rt_mutex (ParkSpace) against glibc's pthread mutex (futex).
 *   mt-speedup-2t-x100: a CPU-bound job (an integer hash chain) done by one
 *     thread, then split over two: 100 x (time with 1) / (time with 2).
 * pair: mt-mutex-contended = mt-pthread-mutex-contended
 * pair: mt-speedup-2t-x100 = mt-pthread-speedup-2t-x100
 */
#include "../bench.h"

#define SAMPLES 5
#define LOCKS 20000                  /* per thread per sample */
#define WORK 8000000u                /* hash steps of the whole job */

#ifdef __capos__
typedef struct rt_mutex mutex_t;
#define LOCK(m) rt_mutex_lock(m)
#define UNLOCK(m) rt_mutex_unlock(m)
typedef struct rt_thread *thread_t;
static void spawn(thread_t *t, void *(*fn)(void *), void *arg) { rt_thread_create(t, fn, arg); }
static void join(thread_t t) { rt_thread_join(t, 0); }
#else
#include <pthread.h>
typedef pthread_mutex_t mutex_t;
#define LOCK(m) pthread_mutex_lock(m)
#define UNLOCK(m) pthread_mutex_unlock(m)
typedef pthread_t thread_t;
static void spawn(thread_t *t, void *(*fn)(void *), void *arg) { pthread_create(t, 0, fn, arg); }
static void join(thread_t t) { pthread_join(t, 0); }
#endif

static mutex_t mu;
static volatile uint64_t counter;
static volatile uint32_t go;
static uint64_t samples[SAMPLES];
static volatile uint64_t sink[2];

static void *locker(void *arg)
{
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        ;
    for (int i = 0; i < LOCKS; i++) {
        LOCK(&mu);
        counter++;
        UNLOCK(&mu);
    }
    return arg;
}

/* n steps of an xorshift-multiply chain: no memory traffic, no sharing */
static void *work(void *arg)
{
    uintptr_t slot = (uintptr_t)arg & 1;
    uint32_t n = (uint32_t)((uintptr_t)arg >> 1);
    uint64_t x = 0x9E3779B97F4A7C15ull + slot;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9ull;
    }
    sink[slot] = x;
    return 0;
}

static void *work_arg(uint32_t n, uintptr_t slot) { return (void *)(((uintptr_t)n << 1) | slot); }

int main(void)
{
    const char *n1 = "mt-mutex-contended", *n2 = "mt-speedup-2t-x100";
#ifndef __capos__
    n1 = "mt-pthread-mutex-contended", n2 = "mt-pthread-speedup-2t-x100";
    pthread_mutex_init(&mu, 0);
#endif
    for (int s = 0; s < SAMPLES; s++) {
        thread_t t;
        go = 0;
        spawn(&t, locker, 0);
        uint64_t t0 = bench_tsc();
        __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
        locker(0);
        join(t);
        samples[s] = bench_tsc() - t0;
    }
    if (counter != (uint64_t)SAMPLES * LOCKS * 2)
        return 1;                          /* the mutex let two in at once */
    bench_report(n1, samples, SAMPLES, 2 * LOCKS);

    for (int s = 0; s < SAMPLES; s++) {
        uint64_t t0 = bench_tsc();
        work(work_arg(WORK, 0));
        uint64_t one = bench_tsc() - t0;
        thread_t t;
        t0 = bench_tsc();
        spawn(&t, work, work_arg(WORK / 2, 1));
        work(work_arg(WORK / 2, 0));
        join(t);
        uint64_t two = bench_tsc() - t0;
        samples[s] = two ? one * 100 / two : 0;
    }
    bench_report(n2, samples, SAMPLES, 1);
    return 0;
}
