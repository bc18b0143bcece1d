/*
 * ProcessSpawner: starts a program from the boot package with an explicit
 * grant list. The child holds exactly its grants (copies of caps the caller
 * holds), each under the name the caller gave it, and nothing else.
 *   spawn(binary, grants, session) -> handle   each grant names one of the
 *                          transferred caps; the session (a SessionContext
 *                          cap) defaults to the caller's own.
 */
#include "objects.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "capos/bootpkg.h"
#include "sched/process.h"
#include "session.h"
#include "c/string.h"

struct spawner {
    struct kobj obj;
    const uint8_t *pkg;
    size_t size;
};

static int spawner_spawn(void *self, capos_ProcessSpawner_spawn_Params_reader p,
                         capos_ProcessSpawner_spawn_Results_builder r)
{
    struct call_ctx *c = self;
    struct spawner *s = (struct spawner *)c->obj;
    capnp_text bin = capos_ProcessSpawner_spawn_Params_get_binary(p);
    capnp_list gl = capos_ProcessSpawner_spawn_Params_get_grants(p);
    if (bin.len == 0 || bin.len >= BOOTPKG_NAME || gl.count > CAPSET_MAX - 3)
        return CAP_ERR_INVALID_ARGUMENT;
    char name[BOOTPKG_NAME];
    memcpy(name, bin.str, bin.len);
    name[bin.len] = 0;

    struct spawn_grant grants[CAPSET_MAX];
    char gnames[CAPSET_MAX][CAPSET_NAME];
    for (uint32_t i = 0; i < gl.count; i++) {
        capos_CapGrant_reader g = capos_CapGrant_list_get(gl, i);
        capnp_text gn = capos_CapGrant_get_name(g);
        struct kobj *obj = ctx_param_cap(c, capos_CapGrant_get_cap(g));
        if (!obj || gn.len == 0 || gn.len >= CAPSET_NAME)
            return CAP_ERR_INVALID_ARGUMENT;
        memcpy(gnames[i], gn.str, gn.len);
        gnames[i][gn.len] = 0;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(gnames[i], gnames[j]))
                return CAP_ERR_INVALID_ARGUMENT;   /* duplicate name */
        grants[i].name = gnames[i];
        grants[i].obj = obj;
    }
    struct session *sess = c->caller->session;
    if (capos_ProcessSpawner_spawn_Params_has_session(p)) {
        sess = session_from(ctx_param_cap(c, capos_ProcessSpawner_spawn_Params_get_session(p)));
        if (!sess)
            return CAP_ERR_INVALID_ARGUMENT;
    }
    capnp_text at = capos_ProcessSpawner_spawn_Params_get_args(p);
    char args[CAPSET_ARGS];
    if (at.len >= sizeof args)
        return CAP_ERR_INVALID_ARGUMENT;
    memcpy(args, at.str, at.len);
    args[at.len] = 0;
    size_t elf_size;
    const void *elf = bootpkg_find(s->pkg, s->size, name, &elf_size);
    if (!elf)
        return CAP_ERR_NOT_FOUND;
    int err = 0;
    struct process *child = process_spawn(name, elf, elf_size, grants, gl.count, args, sess,
                                         capos_ProcessSpawner_spawn_Params_get_threads(p), &err);
    if (!child)
        return err ? err : CAP_ERR_OVERLOADED;
    struct kobj *h = process_handle_create(child);
    if (!h) {
        process_exit(child, PROCESS_EXIT_KILLED);
        return CAP_ERR_OVERLOADED;
    }
    capos_ProcessSpawner_spawn_Results_set_handle(r, ctx_result_cap(c, r.s, h));
    return CAPNP_OK;
}

static const capos_ProcessSpawner_server spawner_server = { .spawn = spawner_spawn };
static int spawner_call(struct kobj *o, struct call_ctx *c) { return capos_ProcessSpawner_dispatch(&spawner_server, c, &c->sc); }
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
