/*
 * ProcessSpawner: starts a program from the boot package with an explicit
 * grant list. The child holds exactly its grants (copies of caps the caller
 * holds), each under the name the caller gave it, and nothing else.
 *   spawn(binary, grants)  params: see struct spawn_params (capos/bootpkg.h);
 *                          result: one cap, the child's ProcessHandle.
 */
#include "objects.h"
#include "kheap.h"
#include "kprintf.h"
#include "capos/bootpkg.h"
#include "../sched/process.h"
#include "../../lib/c/string.h"

struct spawner {
    struct kobj obj;
    const uint8_t *pkg;
    size_t size;
};

const void *bootpkg_find(const void *pkg, size_t size, const char *name, size_t *elf_size)
{
    const struct bootpkg_hdr *h = pkg;
    if (size < sizeof *h || memcmp(h->magic, BOOTPKG_MAGIC, 8))
        return 0;
    if (h->count > (size - sizeof *h) / sizeof(struct bootpkg_entry))
        return 0;
    const struct bootpkg_entry *e = (const void *)(h + 1);
    for (uint32_t i = 0; i < h->count; i++) {
        if (strncmp(e[i].name, name, BOOTPKG_NAME) || e[i].name[BOOTPKG_NAME - 1])
            continue;
        if (e[i].offset > size || e[i].size > size - e[i].offset)
            return 0;
        *elf_size = e[i].size;
        return (const uint8_t *)pkg + e[i].offset;
    }
    return 0;
}

static int spawner_call(struct kobj *o, struct call_ctx *c)
{
    struct spawner *s = (struct spawner *)o;
    if (c->method != SPAWNER_SPAWN)
        return CAP_ERR_UNKNOWN_METHOD;
    struct spawn_params sp;
    if (c->plen < sizeof sp)
        return CAP_ERR_INVALID_ARGUMENT;
    memcpy(&sp, c->params, sizeof sp);
    if (sp.ngrants > CAPSET_MAX || sp.name_len == 0 || sp.name_len >= BOOTPKG_NAME)
        return CAP_ERR_INVALID_ARGUMENT;
    size_t need = sizeof sp + sp.ngrants * sizeof(struct spawn_grant_desc) + sp.name_len;
    if (c->plen < need)
        return CAP_ERR_INVALID_ARGUMENT;
    const struct spawn_grant_desc *gd = (const void *)(c->params + sizeof sp);
    char name[BOOTPKG_NAME];
    memcpy(name, (const char *)(gd + sp.ngrants), sp.name_len);
    name[sp.name_len] = 0;

    struct spawn_grant grants[CAPSET_MAX];
    char gnames[CAPSET_MAX][CAPSET_NAME];
    for (uint32_t i = 0; i < sp.ngrants; i++) {
        struct kobj *obj;
        int r = cap_lookup(&c->caller->caps, gd[i].cap_id, &obj);
        if (r)
            return r;
        memcpy(gnames[i], gd[i].name, CAPSET_NAME);
        gnames[i][CAPSET_NAME - 1] = 0;
        if (!gnames[i][0])
            return CAP_ERR_INVALID_ARGUMENT;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(gnames[i], gnames[j]))
                return CAP_ERR_INVALID_ARGUMENT;   /* duplicate name */
        grants[i].name = gnames[i];
        grants[i].obj = obj;
    }
    size_t elf_size;
    const void *elf = bootpkg_find(s->pkg, s->size, name, &elf_size);
    if (!elf)
        return CAP_ERR_NOT_FOUND;
    int err = 0;
    struct process *child = process_spawn(name, elf, elf_size, grants, sp.ngrants, "", &err);
    if (!child)
        return err ? err : CAP_ERR_OVERLOADED;
    struct kobj *h = process_handle_create(child);
    if (!h) {
        process_exit(child, PROCESS_EXIT_KILLED);
        return CAP_ERR_OVERLOADED;
    }
    c->result_caps[c->nresult_caps++] = h;
    return 0;
}

static const struct kobj_type spawner_type = { "ProcessSpawner", IFACE_PROCESS_SPAWNER, spawner_call, 0 };

struct kobj *spawner_create(const void *pkg, size_t size)
{
    struct spawner *s = kmalloc(sizeof *s);
    if (!s)
        return 0;
    kobj_init(&s->obj, &spawner_type);
    s->pkg = pkg;
    s->size = size;
    return &s->obj;
}
