/*
 * init: the first process and the service manager. It prints the boot
 * banner and its CapSet, reads the boot manifest from the boot package,
 * validates it, starts every service with exactly its grants, and then
 * supervises them for ever (restart policies, services.c). It has no
 * console of its own: the terminal belongs to the manifest's login service.
 */
#include "rt/capos.h"
#include "services.h"

static void print_capset(void)
{
    printf("CapSet of pid %u (%u caps):\n", rt_pid, rt_capset->count);
    for (uint32_t i = 0; i < rt_capset->count; i++) {
        const struct capset_entry *e = &rt_capset->entries[i];
        printf("  %-10s cap %08x  interface %016lx\n", e->name, e->cap_id, e->interface_id);
    }
}

int main(void)
{
    printf("\ncapOS: init is up (pid %u) at %lu us after boot\n", rt_pid, rt_timer_now() / 1000);
    print_capset();
    if (services_boot() < 0) {
        printf("init: the boot stops here.\n");
        rt_power_off(rt_capset_require("power"), 2);
    }
    services_supervise();
}
