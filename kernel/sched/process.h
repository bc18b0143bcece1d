#ifndef SCHED_PROCESS_H
#define SCHED_PROCESS_H
#include "types.h"
#include "list.h"
#include "capos/abi.h"
#include "mm/vm.h"
#include "cap/table.h"

#define PROCESS_EXIT_FAULT  (-1000)   /* killed by a CPU exception */
#define PROCESS_EXIT_KILLED (-1001)   /* killed through its ProcessHandle */

/* Pending records each process keeps preallocated from spawn to exit, so
 * an endpoint round trip (the caller's CALL, the server's RECV) allocates
 * nothing; the heap's live bytes do not move with them. */
#define PROC_PENDING_SPARES 2
/* Kernel stacks of the process's ended threads, kept for its next threads
 * (sched.c); freed when it exits. */
#define PROC_KSTACK_SPARES 4

struct process_handle;
struct session;

struct process {
    uint32_t pid;
    char name[32];
    struct vm_space vm;
    struct cap_table caps;

    /* every thread's ring, by slot (ring/ring.h); a ThreadRef names a slot
     * and the generation it must still have */
    struct ring *rings[PROC_MAX_THREADS];
    uint32_t ring_gen[PROC_MAX_THREADS];
    uint32_t nspare_rings;     /* rings kept mapped for the next thread (RING_SPARE) */

    struct list threads;
    uint32_t nthreads;         /* live threads (in threads) */
    uint32_t nunreaped;        /* threads ended but not yet freed (dead or doomed): they still point here */
    struct list pendings;      /* calls this process made that complete later */
    uint32_t npending;
    struct list received;      /* endpoint calls delivered to us, not yet returned */
    struct pending *pd_spare[PROC_PENDING_SPARES];   /* preallocated pending records (kobj.c) */
    uint32_t npd_spare;
    void *kstack_spare[PROC_KSTACK_SPARES];   /* sched.c: thread_create takes, reap keeps */
    uint32_t nkstack_spare;

    struct process_handle *handle;   /* the parent's view, if any */
    struct session *session;         /* fixed at spawn, a reference */
    struct kobj *thread_caps[3];     /* its ThreadSpawner, ThreadControl, ParkSpace, if made (weak) */
    bool exiting;
    bool gone;                 /* process_exit is done: freed once nthreads and nunreaped are 0 */
    int64_t exit_code;
    struct list all_link;
    uint64_t vm_next;          /* next address VirtualMemory.map hands out */
    uint64_t user_tsc;         /* TSC cycles in user mode (sched/cputime.c) */
    uint64_t kernel_tsc;       /* TSC cycles in the kernel on its behalf */
};

struct spawn_grant {
    const char *name;
    struct kobj *obj;          /* the new process gets its own reference */
};

/* Create a process from a static ELF image with exactly these grants. */
struct process *process_spawn(const char *name, const void *elf, size_t elf_size,
                              const struct spawn_grant *grants, uint32_t ngrants,
                              const char *args, struct session *session, bool threads, int *err);
/* End a process: cancel its calls, release its caps and memory, report its
 * exit code to its handle. If p is the current process, does not return. */
void process_exit(struct process *p, int64_t code);
/* p's thread with id tid, or 0. */
struct thread *process_thread(struct process *p, uint32_t tid);
/* Free p once it has exited and no thread points at it any more. */
void process_free_if_done(struct process *p);
uint32_t process_count(void);
/* The live process with this pid (its address space may already be gone:
 * check vm.pml4), or 0. */
struct process *process_find(uint32_t pid);
uint64_t process_cap_slots_used(void);
#include "capos.capnp.h"
/* KernelStats.processes: every process and the interfaces it holds. */
int process_list_caps(capos_KernelStats_processes_Results_builder r);
#endif
