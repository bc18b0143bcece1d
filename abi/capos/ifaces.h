/*
 * Short names for the interface ids and method ordinals of
 * schema/capos.capnp. The values come from the generated header, so the
 * schema stays the one source of truth.
 */
#ifndef CAPOS_IFACES_H
#define CAPOS_IFACES_H
#include "capos.capnp.h"

#define IFACE_CONSOLE          capos_Console_ID
#define  CONSOLE_WRITE         capos_Console_METHOD_write
#define  CONSOLE_READ_LINE     capos_Console_METHOD_readLine
#define IFACE_TIMER            capos_Timer_ID
#define  TIMER_NOW             capos_Timer_METHOD_now
#define  TIMER_SLEEP_UNTIL     capos_Timer_METHOD_sleepUntil
#define IFACE_VIRTUAL_MEMORY   capos_VirtualMemory_ID
#define  VM_MAP                capos_VirtualMemory_METHOD_map
#define  VM_UNMAP              capos_VirtualMemory_METHOD_unmap
#define IFACE_PROCESS_SPAWNER  capos_ProcessSpawner_ID
#define  SPAWNER_SPAWN         capos_ProcessSpawner_METHOD_spawn
#define IFACE_PROCESS_HANDLE   capos_ProcessHandle_ID
#define  PROCESS_WAIT          capos_ProcessHandle_METHOD_wait
#define  PROCESS_KILL          capos_ProcessHandle_METHOD_kill
#define IFACE_POWER            capos_Power_ID
#define  POWER_OFF             capos_Power_METHOD_off
#define IFACE_ENDPOINT_FACTORY capos_EndpointFactory_ID
#define IFACE_ENDPOINT         capos_Endpoint_ID
#define IFACE_SESSION_AUTHORITY capos_SessionAuthority_ID
#define IFACE_SESSION_CONTEXT  capos_SessionContext_ID
#define IFACE_KERNEL_STATS     capos_KernelStats_ID

#endif
