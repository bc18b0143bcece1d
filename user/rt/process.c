/* Clients for ProcessSpawner, ProcessHandle, Power and KernelStats. */
#include "capos.h"

int64_t rt_spawn(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                 uint32_t n, uint32_t session)
{
    return rt_spawn_args(spawner, binary, names, caps, n, session, "");
}

static int64_t spawn(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                     uint32_t n, uint32_t session, const char *args, bool threads);

int64_t rt_spawn_args(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                      uint32_t n, uint32_t session, const char *args)
{
    return spawn(spawner, binary, names, caps, n, session, args, false);
}

int64_t rt_spawn_threads(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                         uint32_t n, const char *args)
{
    return spawn(spawner, binary, names, caps, n, ~0u, args, true);
}

static int64_t spawn(uint32_t spawner, const char *binary, const char *const *names, const uint32_t *caps,
                     uint32_t n, uint32_t session, const char *args, bool threads)
{
    if (n > CAP_MAX_XFER - 1)
        return CAP_ERR_INVALID_ARGUMENT;
    RT_BUFS(b, 1024, 256);
    capnp_client cl = RT_CLIENT(spawner);
    capnp_call call;
    capos_ProcessSpawner_spawn_Params_builder p = capos_ProcessSpawner_spawn_start(&call, &cl, &b);
    capos_ProcessSpawner_spawn_Params_set_binary(p, binary, strlen(binary));
    capnp_lbuilder gl = capos_ProcessSpawner_spawn_Params_init_grants(p, n);
    for (uint32_t i = 0; i < n; i++) {
        capos_CapGrant_builder g = capos_CapGrant_list_at(gl, i);
        capos_CapGrant_set_name(g, names[i], strlen(names[i]));
        capos_CapGrant_set_cap(g, capnp_add_cap(p.s, caps[i]));
    }
    if (session != ~0u)
        capos_ProcessSpawner_spawn_Params_set_session(p, capnp_add_cap(p.s, session));
    if (args && *args)
        capos_ProcessSpawner_spawn_Params_set_args(p, args, strlen(args));
    capos_ProcessSpawner_spawn_Params_set_threads(p, threads);
    capos_ProcessSpawner_spawn_Results_reader r;
    int e = capos_ProcessSpawner_spawn_send(&call, &r);
    if (e)
        return rt_error(e);
    uint32_t idx = capos_ProcessSpawner_spawn_Results_get_handle(r);
    if (idx >= call.result_ncaps)
        return CAP_ERR_INVOKE_FAILED;
    return b.result_caps[idx];
}

int64_t rt_wait(uint32_t handle)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(handle);
    capnp_call call;
    capos_ProcessHandle_wait_Results_reader r;
    int e = capos_ProcessHandle_wait(&cl, &b, &call, &r);
    return e ? rt_error(e) : capos_ProcessHandle_wait_Results_get_exitCode(r);
}

int rt_kill(uint32_t handle)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(handle);
    capnp_call call;
    capos_ProcessHandle_kill_Results_reader r;
    return rt_error(capos_ProcessHandle_kill(&cl, &b, &call, &r));
}

void rt_power_off(uint32_t power, uint32_t status)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(power);
    capnp_call call;
    capos_Power_off_Results_reader r;
    capos_Power_off(&cl, &b, &call, status, &r);
    exit((int)status);
}

int rt_stats(uint32_t stats, struct rt_kernel_stats *out)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_get_Results_reader r;
    int e = capos_KernelStats_get(&cl, &b, &call, &r);
    if (e)
        return rt_error(e);
    out->free_frames = capos_KernelStats_get_Results_get_freeFrames(r);
    out->objects = capos_KernelStats_get_Results_get_objects(r);
    out->heap_bytes = capos_KernelStats_get_Results_get_heapBytes(r);
    out->processes = capos_KernelStats_get_Results_get_processes(r);
    out->cap_slots = capos_KernelStats_get_Results_get_capSlots(r);
    out->pending_calls = capos_KernelStats_get_Results_get_pendingCalls(r);
    out->heap_pages = capos_KernelStats_get_Results_get_heapPages(r);
    return 0;
}
