/*
 * VirtualMemory: zeroed anonymous pages in the caller's own address space,
 * inside [VMEM_BASE, VMEM_LIMIT), counted against the caller's page quota.
 *   map(hint, size, prot)  params = u64 hint (ignored for now), u64 size,
 *                          u32 prot (1 = write, 2 = exec; not both: W^X);
 *                          result = u64 address.
 *   unmap(addr, size)      params = u64 addr, u64 size (page aligned, inside
 *                          the region; pages not mapped are skipped).
 */
#include "objects.h"
#include "../sched/process.h"
#include "../mm/frame.h"
#include "../../lib/c/string.h"

static int vmem_call(struct kobj *o, struct call_ctx *c);
static const struct kobj_type vmem_type = { "VirtualMemory", IFACE_VIRTUAL_MEMORY, vmem_call, 0 };
struct kobj vmem_obj = { &vmem_type, 1 };

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
            while (i--)
                vm_unmap_user(&p->vm, base + i * PAGE_SIZE);
            return CAP_ERR_OVERLOADED;
        }
    }
    p->vm_next = base + pages * PAGE_SIZE;
    *out = base;
    return 0;
}

static int vmem_call(struct kobj *o, struct call_ctx *c)
{
    struct process *p = c->caller;
    switch (c->method) {
    case VM_MAP: {
        uint64_t hint, size, addr;
        uint32_t prot;
        if (c->plen < 20)
            return CAP_ERR_INVALID_ARGUMENT;
        if (c->rcap < 8)
            return CAP_ERR_RESULT_TOO_SMALL;
        memcpy(&hint, c->params, 8);
        memcpy(&size, c->params + 8, 8);
        memcpy(&prot, c->params + 16, 4);
        int r = vm_map(p, size, prot, &addr);
        if (r < 0)
            return r;
        memcpy(c->result, &addr, 8);
        return 8;
    }
    case VM_UNMAP: {
        uint64_t addr, size;
        if (c->plen < 16)
            return CAP_ERR_INVALID_ARGUMENT;
        memcpy(&addr, c->params, 8);
        memcpy(&size, c->params + 8, 8);
        if (addr % PAGE_SIZE || addr < VMEM_BASE || addr >= VMEM_LIMIT || size > VMEM_LIMIT - addr)
            return CAP_ERR_INVALID_ARGUMENT;
        for (uint64_t va = addr; va < addr + ALIGN_UP(size, PAGE_SIZE); va += PAGE_SIZE)
            vm_unmap_user(&p->vm, va);
        return 0;
    }
    }
    return CAP_ERR_UNKNOWN_METHOD;
}
