/*
 * What every benchmark case uses, on capOS and on Linux alike: a cycle
 * counter (under QEMU's -icount shift=0 a TSC delta is a count of guest
 * instructions) and a reporter that prints the median and p99 of samples as
 *   BENCH <metric> median=<n> p99=<n> samples=<n>
 * which bench/run.py collects from both guests.
 */
#ifndef BENCH_H
#define BENCH_H
#include <stdint.h>
#ifdef __capos__
#include "rt/capos.h"
#include "capos_test.capnp.h"
#else
#include <stdio.h>
#include <string.h>
#endif

static inline uint64_t bench_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static void bench_sort(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++) {          /* insertion sort: n is small */
        uint64_t x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

/* samples are per-operation costs; divide is applied first (batch size) */
static void bench_report(const char *metric, uint64_t *v, int n, uint64_t divide)
{
    for (int i = 0; i < n; i++)
        v[i] /= divide;
    bench_sort(v, n);
    printf("BENCH %s median=%lu p99=%lu samples=%d\n", metric, (unsigned long)v[n / 2],
           (unsigned long)v[(n * 99) / 100], n);
}
#endif
