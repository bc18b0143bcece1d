/*
 * Power: ends the machine.
 *   off(status)   params = u32 status, written to QEMU's isa-debug-exit
 *                 (QEMU then exits with status * 2 + 1).
 */
#include "objects.h"
#include "kprintf.h"
#include "../dev/power.h"
#include "../../lib/c/string.h"

static int power_call(struct kobj *o, struct call_ctx *c);
static const struct kobj_type power_type = { "Power", IFACE_POWER, power_call, 0 };
struct kobj power_obj = { &power_type, 1 };

static int power_call(struct kobj *o, struct call_ctx *c)
{
    if (c->method != POWER_OFF)
        return CAP_ERR_UNKNOWN_METHOD;
    uint32_t status = 0;
    if (c->plen >= 4)
        memcpy(&status, c->params, 4);
    kprintf("[kernel] power off, status %u\n", status);
    power_off(status);
}
