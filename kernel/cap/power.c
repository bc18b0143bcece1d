/*
 * Power: ends the machine.
 *   off(status)   written to QEMU's isa-debug-exit (QEMU exits with status * 2 + 1).
 */
#include "objects.h"
#include "kprintf.h"
#include "dev/power.h"

static int power_do_off(void *self, capos_Power_off_Params_reader p, capos_Power_off_Results_builder r)
{
    uint32_t status = capos_Power_off_Params_get_status(p);
    kprintf("[kernel] power off, status %u\n", status);
    power_off(status);
}

static const capos_Power_server power_server = { .off = power_do_off };
static int power_call(struct kobj *o, struct call_ctx *c) { return capos_Power_dispatch(&power_server, c, &c->sc); }
static const struct kobj_type power_type = { "Power", IFACE_POWER, power_call, 0 };
struct kobj power_obj = KOBJ_STATIC(power_type, IFACE_POWER);
