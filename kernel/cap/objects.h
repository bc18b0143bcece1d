/*
 * The kernel's capability objects. Each serves one interface of
 * schema/capos.capnp through the generated dispatcher.
 */
#ifndef CAP_OBJECTS_H
#define CAP_OBJECTS_H
#include "kobj.h"
#include "capos/ifaces.h"

extern struct kobj console_obj;          /* Console */
extern struct kobj terminal_obj;         /* TerminalSession on the same UART */
extern struct kobj timer_obj;            /* Timer */
extern struct kobj vmem_obj;             /* VirtualMemory (acts on the caller's own space) */
extern struct kobj power_obj;            /* Power */
extern struct kobj stats_obj;            /* KernelStats */
extern struct kobj bootpkg_obj;          /* BootPackage */
void bootpkg_init(const void *pkg, size_t size);

void console_input_ready(void);          /* serial input arrived (timer tick) */
void timer_expire(uint64_t now_ns);      /* complete due sleepUntil calls */

/* ProcessSpawner over the boot package. */
struct kobj *spawner_create(const void *pkg, size_t size);
/* Find a program in the boot package. */
const void *bootpkg_find(const void *pkg, size_t size, const char *name, size_t *elf_size);

/* ProcessHandle */
struct process;
struct kobj *process_handle_create(struct process *p);
void process_handle_exited(struct process *p);

/* Threads (thread.c) */
struct thread;
struct kobj *thread_cap_create(struct process *p, int which);   /* 0 ThreadSpawner, 1 ThreadControl, 2 ParkSpace */
void thread_caps_unbind(struct process *p);
void thread_handle_ended(struct thread *t, uint64_t value);
/* ParkSpace (park.c) */
struct kobj *park_space_create(struct process *p);
void park_space_unbind(struct kobj *o);
void park_expire(uint64_t now_ns);
void park_thread_gone(struct thread *t);
void park_cancel(struct pending *pd);    /* pending_cancel for PENDING_PARK */
/* ParkSpace.wait and wake without the general call path, when the SQE is
 * exactly what the runtime sends (park.c says what that is): true with *r
 * set (the CQE's result, or CALL_PENDING); false when it is anything else,
 * before changing anything (do_call then decides, errors included). */
bool park_fast_call(struct process *p, const struct cap_sqe *s, int *r);

/* VirtualMemory region for heaps */
#define VMEM_BASE  0x0000100000000000ull
#define VMEM_LIMIT 0x0000200000000000ull
#endif
