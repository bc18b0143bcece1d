/* The AUTHORITY line test programs print for one process, from the kernel's
 * own tables (KernelStats.processes): "AUTHORITY NAME [pid=P ]held=N: IFACE..."
 * with every held cap's interface by schema name. The harnesses parse it
 * (tests/lib/capos_qemu.py). Kept in one place so every program prints the
 * same line. */
#ifndef CAPOS_TESTS_AUTHORITY_H
#define CAPOS_TESTS_AUTHORITY_H
#include "rt/capos.h"

enum { AUTHORITY_LINE_MAX = 512 };

/* Formats P into LINE (AUTHORITY_LINE_MAX bytes); WITH_PID adds "pid=P". */
void authority_line(capos_ProcessCaps_reader p, bool with_pid, char line[AUTHORITY_LINE_MAX]);

#endif
