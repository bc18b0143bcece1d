#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H
#include "types.h"
void     lapic_init(uint32_t hz);     /* periodic timer interrupt at hz */
void     lapic_init_ap(void);         /* the same tick on an application processor */
void     lapic_eoi(void);
uint32_t lapic_id(void);
void     lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo);
void     delay_us(uint64_t us);           /* busy-wait on the TSC */
uint64_t time_now_ns(void);           /* monotonic, from the TSC */
uint64_t time_tsc_hz(void);
void     time_calibration(uint64_t *tsc_base, uint64_t *ns_mult);   /* time_now_ns's terms */
#endif
