/*
 * ParkBench: the costs behind every lock.
 *   uncontended lock+unlock; lock+unlock while a second thread hammers the
 *   same mutex (one CPU: they collide only when one is preempted holding
 *   it); a wait/wake ping-pong round trip between two threads on two
 *   words; thread spawn + join.
 *   capOS: rt_mutex on ParkSpace, rt_park_wait/wake, rt_thread_*.
 *   Linux: glibc pthread mutexes, raw futex(2), pthread_create/join.
 * pair: mutex-uncontended = pthread-mutex-uncontended
 * pair: mutex-contended = pthread-mutex-contended
 * pair: park-pingpong = futex-pingpong
 * pair: thread-spawn-join = pthread-create-join
 */
#include "../bench.h"

#define SAMPLES 201
#define BATCH 20
static uint64_t samples[SAMPLES];
static volatile uint32_t ping, pong;
static volatile int stop;

#ifdef __capos__
typedef struct rt_mutex mutex_t;
#define LOCK(m) rt_mutex_lock(m)
#define UNLOCK(m) rt_mutex_unlock(m)
static void park_wait(volatile uint32_t *w, uint32_t v) { rt_park_wait(w, v, 0); }
static void park_wake(volatile uint32_t *w) { rt_park_wake(w, 1); }
typedef struct rt_thread *thread_t;
static void spawn(thread_t *t, void *(*fn)(void *)) { rt_thread_create(t, fn, 0); }
static void join(thread_t t) { rt_thread_join(t, 0); }
#else
#include <pthread.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
typedef pthread_mutex_t mutex_t;
#define LOCK(m) pthread_mutex_lock(m)
#define UNLOCK(m) pthread_mutex_unlock(m)
static void park_wait(volatile uint32_t *w, uint32_t v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, 0, 0, 0); }
static void park_wake(volatile uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0); }
typedef pthread_t thread_t;
static void spawn(thread_t *t, void *(*fn)(void *)) { pthread_create(t, 0, fn, 0); }
static void join(thread_t t) { pthread_join(t, 0); }
#endif

static mutex_t mu;

static void *hammer(void *arg)
{
    while (!stop) {
        LOCK(&mu);
        UNLOCK(&mu);
    }
    return 0;
}

/* B: wait for ping, answer with pong */
static void *ponger(void *arg)
{
    for (uint32_t i = 1;; i++) {
        while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) != i)
            park_wait(&ping, i - 1);
        if (stop)
            return 0;
        __atomic_store_n(&pong, i, __ATOMIC_RELEASE);
        park_wake(&pong);
    }
}

static void *nothing(void *arg) { return arg; }

int main(void)
{
    const char *n1 = "mutex-uncontended", *n2 = "mutex-contended", *n3 = "park-pingpong", *n4 = "thread-spawn-join";
#ifndef __capos__
    n1 = "pthread-mutex-uncontended", n2 = "pthread-mutex-contended", n3 = "futex-pingpong", n4 = "pthread-create-join";
    pthread_mutex_init(&mu, 0);
#endif
    for (int s = 0; s < SAMPLES; s++) {
        uint64_t t0 = bench_tsc();
        for (int i = 0; i < BATCH; i++) {
            LOCK(&mu);
            UNLOCK(&mu);
        }
        samples[s] = bench_tsc() - t0;
    }
    bench_report(n1, samples, SAMPLES, BATCH);

    thread_t t;
    spawn(&t, hammer);
    for (int s = 0; s < SAMPLES; s++) {
        uint64_t t0 = bench_tsc();
        for (int i = 0; i < BATCH; i++) {
            LOCK(&mu);
            UNLOCK(&mu);
        }
        samples[s] = bench_tsc() - t0;
    }
    stop = 1;
    join(t);
    stop = 0;
    bench_report(n2, samples, SAMPLES, BATCH);

    spawn(&t, ponger);
    uint32_t i = 0;
    for (int s = 0; s < SAMPLES; s++) {
        uint64_t t0 = bench_tsc();
        for (int k = 0; k < BATCH; k++) {
            i++;
            __atomic_store_n(&ping, i, __ATOMIC_RELEASE);
            park_wake(&ping);
            while (__atomic_load_n(&pong, __ATOMIC_ACQUIRE) != i)
                park_wait(&pong, i - 1);
        }
        samples[s] = bench_tsc() - t0;
    }
    stop = 1;
    __atomic_store_n(&ping, i + 1, __ATOMIC_RELEASE);
    park_wake(&ping);
    join(t);
    bench_report(n3, samples, SAMPLES, BATCH);

    for (int s = 0; s < 101; s++) {
        uint64_t t0 = bench_tsc();
        spawn(&t, nothing);
        join(t);
        samples[s] = bench_tsc() - t0;
    }
    bench_report(n4, samples, 101, 1);
    return 0;
}
