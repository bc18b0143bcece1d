/*
 * The capOS user runtime: what every program links against.
 */
#ifndef RT_CAPOS_H
#define RT_CAPOS_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include "capos/abi.h"
#include "capos/ifaces.h"
#include "syscall.h"
#include "../../lib/c/string.h"
#include "../../lib/fmt/fmt.h"

/* ---- process ---- */
extern struct cap_ring_hdr *rt_ring;
extern const struct capset *rt_capset;
extern uint32_t rt_pid;
extern uint64_t rt_ring_lost;   /* completions dropped because nobody claimed them */
int main(void);
__attribute__((noreturn)) void exit(int code);

/* ---- CapSet: find a granted cap by name and interface; -1 if absent ---- */
int64_t capset_find(const char *name, uint64_t iface);

/* ---- the ring ---- */
/* Submit one SQE (user_data is filled in and returned); waits for SQ room. */
uint64_t ring_submit(struct cap_sqe *sqe);
/* Wait for the completion of user_data (others are kept for their waiters). */
void ring_wait(uint64_t user_data, struct cap_cqe *out);
/* Submit and wait: a synchronous CALL. Returns the CQE result. */
int32_t cap_call(uint32_t cap, uint64_t iface, uint16_t method, const void *params, uint32_t plen,
                 void *result, uint32_t rlen, struct cap_cqe *cqe_out);
int32_t cap_release_cap(uint32_t cap);

/* ---- typed clients for the kernel's objects ---- */
int      console_write(const char *s, size_t n);
int      console_read_line(char *buf, size_t max);     /* length, or a CAP_ERR_* */
uint64_t timer_now(void);
int      timer_sleep_until(uint64_t deadline_ns);
int      printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int      puts(const char *s);
extern uint32_t rt_console, rt_timer, rt_memory;       /* cap ids, or ~0u */

/* ---- heap ---- */
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void  free(void *p);
#endif
