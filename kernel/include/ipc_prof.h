#ifndef IPC_PROF_H
#define IPC_PROF_H
/*
 * Where an endpoint round trip's instructions go. Built only with
 * `make IPC_PROF=1` (-DCAPOS_IPC_PROF); otherwise every mark is nothing.
 * Under QEMU's -icount shift=0 the TSC counts guest instructions, so a mark
 * adds the instructions since the previous mark to its stage. The stages are
 * named by where they end; kernel/README.md has the breakdown they give.
 */
enum ipc_stage {
    IPC_USER,          /* user code, the SYSCALL entry stub, the BKL */
    IPC_SQE,           /* ring_enter up to the SQE's handler: SQ read, SQE copy */
    IPC_LOOKUP,        /* cap lookup, interface and buffer checks, params copy-in */
    IPC_ALLOC,         /* the call record and the caller's pending record */
    IPC_HEADER,        /* building the receiver's header (caller_ref) */
    IPC_COPY,          /* the message into the receiver's buffer */
    IPC_POST,          /* the receiver's CQE, its wake-up and run-queue hand-off */
    IPC_RET_FIND,      /* RETURN: owner lookup and the call's search */
    IPC_RET_COPY,      /* RETURN: result copy-in, check and copy-out to the caller */
    IPC_RET_POST,      /* RETURN: the caller's CQE, wake-up, freeing the call */
    IPC_RECV,          /* the server's next RECV posted */
    IPC_WAIT,          /* ring_enter after the SQEs, up to the scheduler */
    IPC_SCHED,         /* choosing the next thread */
    IPC_SWITCH,        /* FPU, FS base, CR3, stacks and switch_context */
    IPC_EXIT,          /* back out of ring_enter to the IRETQ */
    IPC_NSTAGES
};

#ifdef CAPOS_IPC_PROF
void ipc_prof_mark(enum ipc_stage s);
void ipc_prof_round(void);          /* one endpoint CALL: prints every 1000 */
#else
static inline void ipc_prof_mark(enum ipc_stage s) { (void)s; }
static inline void ipc_prof_round(void) {}
#endif
#endif
