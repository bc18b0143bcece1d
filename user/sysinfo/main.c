/*
 * sysinfo: serves SystemInfo on its export "info": read-only facts about
 * the running system (uptime, the kernel and build versions, the kernel's
 * free frames, heap, process and cap-slot counts).  It is the one holder of
 * KernelStats on that path, and reads only its counters: whoever holds a
 * SystemInfo (the broker hands it to a remote session's CapSet view) learns
 * those numbers and nothing of the process table.
 *
 * Grants: stats (KernelStats), timer (the uptime); args: version=TEXT (the
 * build version it reports; default "dev").
 */
#include "rt/capos.h"

static uint32_t stats;
static char version[32] = "dev";

static int do_get(void *self, capos_SystemInfo_get_Params_reader p, capos_SystemInfo_get_Results_builder r)
{
    struct rt_kernel_stats st;
    int e = rt_stats(stats, &st);
    if (e)
        return e;
    capos_SystemInfo_get_Results_set_uptimeNs(r, rt_timer_now());
    capos_SystemInfo_get_Results_set_kernelVersion(r, "capOS", 5);
    capos_SystemInfo_get_Results_set_buildVersion(r, version, strlen(version));
    capos_SystemInfo_get_Results_set_freeFrames(r, st.free_frames);
    capos_SystemInfo_get_Results_set_heapBytes(r, st.heap_bytes);
    capos_SystemInfo_get_Results_set_processes(r, st.processes);
    capos_SystemInfo_get_Results_set_capSlots(r, st.cap_slots);
    return CAPNP_OK;
}

static const capos_SystemInfo_server server = { .get = do_get };

/* The word after "version=" in the args, if any. */
static void version_arg(void)
{
    const char *a = strstr(rt_capset->args, "version=");
    if (!a)
        return;
    a += 8;
    size_t n = 0;
    while (a[n] && a[n] != ' ' && n < sizeof version - 1)
        n++;
    memcpy(version, a, n);
    version[n] = 0;
}

int main(void)
{
    uint32_t owner = rt_capset_require("info");
    stats = rt_capset_require("stats");
    version_arg();
    struct rt_incoming in;
    return rt_serve_forever(owner, capos_SystemInfo_dispatch_any, &server, &in);
}
