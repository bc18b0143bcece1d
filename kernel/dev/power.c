/*
 * Poweroff. Under QEMU with `-device isa-debug-exit,iobase=0xf4,iosize=4`
 * the write ends QEMU with status (v << 1) | 1. Without that device we try
 * the ACPI PM1a port QEMU's PIIX4 and Q35 machines use, then halt forever.
 */
#include "power.h"
#include "arch/x86_64/cpu.h"

void power_off(uint32_t status)
{
    cli();
    outl(0xf4, status);
    __asm__ volatile("outw %0, %1" : : "a"((uint16_t)0x2000), "Nd"((uint16_t)0x604));  /* q35 */
    __asm__ volatile("outw %0, %1" : : "a"((uint16_t)0x2000), "Nd"((uint16_t)0xb004)); /* piix (bochs) */
    for (;;)
        hlt();
}
