#ifndef ARCH_SMP_H
#define ARCH_SMP_H
#include "types.h"
#include "percpu.h"

#define VEC_IPI 41                 /* wake-ups and TLB shootdowns (trap.h's table) */

void smp_init_boot_cpu(void);      /* cpus[0]: GS base, TSC_AUX */
void smp_start_aps(void);          /* find the other CPUs (ACPI MADT) and start them */
/* Make another CPU look at its run queue or its current thread: the
 * reschedule IPI (it may be halted in its idle loop). */
void smp_kick(struct cpu *c);
/* Every other CPU running on page tables pml4 forgets its TLB entries
 * (leave: switches to the kernel's tables). Returns once they all have.
 * Binds on: the caller holds the BKL. */
void smp_tlb_shootdown(paddr_t pml4, bool leave);
/* Serve a pending shootdown request (the IPI handler, the BKL spin). */
void smp_serve_requests(void);
void smp_ipi_received(void);
#endif
