/* The generated stub servers of every schema interface (gen_stubs.py). */
#ifndef DISPATCH_STUBS_H
#define DISPATCH_STUBS_H
#include <stdint.h>
#include "capos.capnp.h"

struct stub_iface {
    uint64_t id;
    const char *name;
    int (*dispatch_any)(const void *srv, void *self, capnp_server_call *call);
    const void *srv;
    unsigned methods;
};
extern const struct stub_iface stub_ifaces[];
extern const unsigned stub_iface_count;
/* what the stubs read is summed here, so no read is optimised away */
extern volatile uint64_t stub_sink;
/* a stub's answer (the harness decides: OK or an error code) */
int stub_answer(void *self);
#endif
