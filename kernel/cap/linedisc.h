#ifndef CAP_LINEDISC_H
#define CAP_LINEDISC_H
#include "kobj.h"
#define LD_ECHO     1u
#define LD_EVENTS   2u      /* Ctrl-C / Ctrl-D end the read with an event */
#define LD_TERMINAL 4u      /* answer with TerminalSession's result struct */
#define LD_RAW      8u      /* TerminalSession.readKeys: the bytes as typed, no echo or editing */
/* Queue a line read for the caller; returns CALL_PENDING or an error. */
int ld_read(struct call_ctx *c, uint32_t max, unsigned flags);
/* A waiting read's caller is going away (pending_cancel): off the readers,
 * and the oldest reader's partial line with it. */
void ld_cancel(struct pending *pd);

#endif
