/*
 * Interface ids and method ordinals from schema/capos.capnp.
 * Kept by hand until the schema code generator produces them.
 */
#ifndef CAPOS_IFACES_H
#define CAPOS_IFACES_H

#define IFACE_CONSOLE         0x8e4bdb43eb8876cbull
#define  CONSOLE_WRITE        0
#define  CONSOLE_READ_LINE    1
#define IFACE_TIMER           0xd65a103f9152fdcfull
#define  TIMER_NOW            0
#define  TIMER_SLEEP_UNTIL    1
#define IFACE_VIRTUAL_MEMORY  0xdab7a2354a92dbb9ull
#define  VM_MAP               0
#define  VM_UNMAP             1
#define IFACE_PROCESS_SPAWNER 0x9e1654edee2cff9cull
#define  SPAWNER_SPAWN        0
#define IFACE_PROCESS_HANDLE  0xb622c1133b35faf9ull
#define  PROCESS_WAIT         0
#define  PROCESS_KILL         1
#define IFACE_POWER           0xbc86d63adf96dc82ull
#define  POWER_OFF            0

#endif
