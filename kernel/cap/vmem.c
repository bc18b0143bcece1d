/*
 * VirtualMemory: zeroed anonymous pages in the caller's own address space,
 * inside [VMEM_BASE, VMEM_LIMIT), counted against the caller's page quota.
 *   map(hint, size, prot) -> addr   hint is ignored (addresses go upwards from
 *                          VMEM_BASE); prot bits:
 *                          1 = write, 2 = exec, never both (W^X).
 *   unmap(addr, size)      page aligned, inside the region; pages not
 *                          mapped are skipped.
 */
#include "objects.h"
#include "sched/process.h"
#include "mm/frame.h"
#include "c/string.h"

#define PROT_WRITE 1u
#define PROT_EXEC  2u

static int vm_map(struct process *p, uint64_t size, uint32_t prot, uint64_t *out)
{
    if (size == 0 || size > VMEM_LIMIT - VMEM_BASE || (prot & ~3u) || prot == (PROT_WRITE | PROT_EXEC))
        return CAP_ERR_INVALID_ARGUMENT;
    uint64_t pages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
    if (p->vm_next + pages * PAGE_SIZE > VMEM_LIMIT || p->vm.pages + pages > p->vm.page_limit)
        return CAP_ERR_OVERLOADED;
    uint64_t flags = (prot & PROT_WRITE ? PTE_W : 0) | (prot & PROT_EXEC ? 0 : PTE_NX);
    uint64_t base = p->vm_next;
    for (uint64_t i = 0; i < pages; i++) {
        paddr_t pa = frame_alloc();
        if (!pa || vm_map_user(&p->vm, base + i * PAGE_SIZE, pa, flags) < 0) {
            if (pa)
                frame_free(pa);
            vm_unmap_range(&p->vm, base, i, false);
            return CAP_ERR_OVERLOADED;
        }
    }
    p->vm_next = base + pages * PAGE_SIZE;
    *out = base;
    return 0;
}

static int vmem_do_map(void *self, capos_VirtualMemory_map_Params_reader p, capos_VirtualMemory_map_Results_builder r)
{
    struct call_ctx *c = self;
    uint64_t addr;
    int e = vm_map(c->caller, capos_VirtualMemory_map_Params_get_size(p),
                   capos_VirtualMemory_map_Params_get_prot(p), &addr);
    if (e < 0)
        return e;
    capos_VirtualMemory_map_Results_set_addr(r, addr);
    return CAPNP_OK;
}

static int vmem_do_unmap(void *self, capos_VirtualMemory_unmap_Params_reader p, capos_VirtualMemory_unmap_Results_builder r)
{
    struct call_ctx *c = self;
    uint64_t addr = capos_VirtualMemory_unmap_Params_get_addr(p);
    uint64_t size = capos_VirtualMemory_unmap_Params_get_size(p);
    if (addr % PAGE_SIZE || addr < VMEM_BASE || addr >= VMEM_LIMIT || size > VMEM_LIMIT - addr)
        return CAP_ERR_INVALID_ARGUMENT;
    vm_unmap_range(&c->caller->vm, addr, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE, false);   /* one shootdown */
    return CAPNP_OK;
}

static const capos_VirtualMemory_server vmem_server = { .map = vmem_do_map, .unmap = vmem_do_unmap };
static int vmem_call(struct kobj *o, struct call_ctx *c) { return capos_VirtualMemory_dispatch(&vmem_server, c, &c->sc); }
static const struct kobj_type vmem_type = { "VirtualMemory", IFACE_VIRTUAL_MEMORY, vmem_call, 0 };
struct kobj vmem_obj = KOBJ_STATIC(vmem_type, IFACE_VIRTUAL_MEMORY);
