/*
 * Time: the TSC is the clock (monotonic nanoseconds since boot) and the local
 * APIC timer drives preemption with a periodic interrupt. Both are calibrated
 * once against the PIT (channel 2, polled, 2 ms: most of the boot's
 * instructions are this wait, and 2386 PIT counts still give 0.05%), which QEMU drives from the
 * same virtual clock. The 8259 PIC is masked: we never use it.
 */
#include "lapic.h"
#include "cpu.h"
#include "trap.h"
#include "kprintf.h"

#define LAPIC_PHYS 0xFEE00000ull
#define REG_ID       0x020
#define REG_EOI      0x0B0
#define REG_SPURIOUS 0x0F0
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR  0x390
#define REG_TIMER_DIV  0x3E0
#define REG_ICR_LO   0x300
#define REG_ICR_HI   0x310
#define ICR_PENDING  (1u << 12)

static volatile uint32_t *lapic;
static uint64_t tsc_hz, tsc_boot, ns_mult;   /* ns = (tsc * ns_mult) >> 32 */
static uint32_t timer_count;                 /* the periodic timer's initial count, every CPU */

static inline uint32_t rd(uint32_t r) { return lapic[r / 4]; }
static inline void wr(uint32_t r, uint32_t v) { lapic[r / 4] = v; }

#define CAL_PER_SECOND 500          /* the calibration window is 1/500 s */

/* Busy-wait 2 ms on PIT channel 2. */
static void pit_wait(void)
{
    const uint16_t count = 1193182 / CAL_PER_SECOND;
    outb(0x61, (inb(0x61) & ~0x02) & ~0x01);
    outb(0x43, 0xB0);               /* channel 2, lo/hi, mode 0 */
    outb(0x42, count & 0xFF);
    outb(0x42, count >> 8);
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);   /* gate high: start */
    while (!(inb(0x61) & 0x20))
        pause();
}

void lapic_init(uint32_t hz)
{
    outb(0x21, 0xFF);               /* mask the 8259s */
    outb(0xA1, 0xFF);
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11));
    lapic = phys_to_virt(LAPIC_PHYS);
    wr(REG_SPURIOUS, 0x100 | VEC_SPURIOUS);
    wr(REG_TIMER_DIV, 0x3);         /* divide by 16 */
    wr(REG_LVT_TIMER, 1u << 16);    /* masked while calibrating */
    wr(REG_TIMER_INIT, 0xFFFFFFFF);

    uint64_t t0 = rdtsc();
    uint32_t c0 = rd(REG_TIMER_CUR);
    pit_wait();
    uint64_t t1 = rdtsc();
    uint32_t c1 = rd(REG_TIMER_CUR);

    tsc_hz = (t1 - t0) * CAL_PER_SECOND;
    ns_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / tsc_hz);
    uint64_t apic_hz = (uint64_t)(c0 - c1) * CAL_PER_SECOND;
    tsc_boot = 0;
    timer_count = (uint32_t)(apic_hz / hz);
    wr(REG_LVT_TIMER, VEC_TIMER | (1u << 17));   /* periodic */
    wr(REG_TIMER_INIT, timer_count);
    kprintf("[kernel] tsc %lu kHz, lapic timer %lu kHz, tick %u Hz\n",
            tsc_hz / 1000, apic_hz / 1000, hz);
}

/* An application processor's LAPIC: the same tick as the boot CPU's (every
 * LAPIC timer runs from the same bus clock), no calibration. */
void lapic_init_ap(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11));
    wr(REG_SPURIOUS, 0x100 | VEC_SPURIOUS);
    wr(REG_TIMER_DIV, 0x3);
    wr(REG_LVT_TIMER, VEC_TIMER | (1u << 17));
    wr(REG_TIMER_INIT, timer_count);
}

void lapic_eoi(void) { wr(REG_EOI, 0); }

uint32_t lapic_id(void) { return rd(REG_ID) >> 24; }

/* Write the ICR (destination in physical mode) and wait until the LAPIC has
 * sent it. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
    wr(REG_ICR_HI, apic_id << 24);
    wr(REG_ICR_LO, icr_lo);
    while (rd(REG_ICR_LO) & ICR_PENDING)
        pause();
}

void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    while (rdtsc() < end)
        pause();
}

uint64_t time_now_ns(void)
{
    return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_boot) * ns_mult) >> 32);
}

uint64_t time_tsc_hz(void) { return tsc_hz; }

void time_calibration(uint64_t *base, uint64_t *mult)
{
    *base = tsc_boot;
    *mult = ns_mult;
}
