/* Process start-up: check what the kernel handed us, find the standard caps,
 * run main, exit with its return value. */
#include "capos.h"

const struct capset *rt_capset;
uint32_t rt_pid;
uint32_t rt_console = ~0u, rt_timer = ~0u, rt_memory = ~0u;
void rt_heap_init(void);

int64_t rt_capset_find(const char *name, uint64_t iface)
{
    if (!rt_capset)
        return -1;
    for (uint32_t i = 0; i < rt_capset->count && i < CAPSET_MAX; i++) {
        const struct capset_entry *e = &rt_capset->entries[i];
        if (!strncmp(e->name, name, CAPSET_NAME) && e->interface_id == iface)
            return e->cap_id;
    }
    return -1;
}

int64_t rt_capset_lookup(const char *name)
{
    for (uint32_t i = 0; rt_capset && i < rt_capset->count && i < CAPSET_MAX; i++)
        if (!strncmp(rt_capset->entries[i].name, name, CAPSET_NAME))
            return rt_capset->entries[i].cap_id;
    return -1;
}

uint32_t rt_capset_require(const char *name)
{
    int64_t c = rt_capset_lookup(name);
    if (c < 0) {
        printf("%s: no \"%s\" capability\n", rt_capset->args[0] ? rt_capset->args : "program", name);
        exit(4);
    }
    return (uint32_t)c;
}

void exit(int code)
{
    sys_exit(code);
}

void rt_thread_init_main(uint32_t tid);

__attribute__((noreturn)) void rt_start(struct cap_ring_hdr *ring, uint32_t pid, const struct capset *cs, uint32_t tid)
{
    if ((uint64_t)ring != RING_VADDR || (uint64_t)cs != CAPSET_VADDR || cs->magic != CAPSET_MAGIC)
        sys_exit(-2);
    rt_thread_init_main(tid);                /* TLS first: rt_ring lives there */
    rt_ring = ring;
    rt_capset = cs;
    rt_pid = pid;
    int64_t c = rt_capset_find("console", IFACE_CONSOLE);
    if (c >= 0)
        rt_console = (uint32_t)c;
    c = rt_capset_find("timer", IFACE_TIMER);
    if (c >= 0)
        rt_timer = (uint32_t)c;
    c = rt_capset_find("memory", IFACE_VIRTUAL_MEMORY);
    if (c >= 0)
        rt_memory = (uint32_t)c;
    rt_heap_init();
    exit(main());
}
