/*
 * svcctl: the guest side of test-net-fault. A line-driven program on the
 * serial terminal holding only init's ServiceControl (granted as
 * "init.services"), KernelStats, the terminal and a console: the host types
 * a command, reads the one answer line it prints, and judges.
 *
 *   stats        STATS maps=M dma=D irq=I procs=P objects=O caps=C pending=Q
 *   list         SVC NAME running=R restarts=N/MAX last=CODE   (one per service)
 *   kill NAME    KILL NAME error=E
 *   authority    AUTHORITY NAME pid=P held=N: IFACE...        (one per process)
 * after every answer: "OK"
 */
#include "rt/capos.h"

static uint32_t ctl, stats, term;

static void do_stats(void)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_get_Results_reader r;
    if (capos_KernelStats_get(&cl, &b, &call, &r)) {
        printf("STATS failed\n");
        return;
    }
    printf("STATS maps=%lu dma=%lu irq=%lu procs=%u objects=%lu caps=%lu pending=%lu\n",
           capos_KernelStats_get_Results_get_deviceMaps(r), capos_KernelStats_get_Results_get_dmaPages(r),
           capos_KernelStats_get_Results_get_irqRoutes(r), capos_KernelStats_get_Results_get_processes(r),
           capos_KernelStats_get_Results_get_objects(r), capos_KernelStats_get_Results_get_capSlots(r),
           capos_KernelStats_get_Results_get_pendingCalls(r));
}

static void do_list(void)
{
    RT_BUFS(b, 64, 4096);
    capnp_client cl = RT_CLIENT(ctl);
    capnp_call call;
    capos_ServiceControl_list_Results_reader r;
    if (capos_ServiceControl_list(&cl, &b, &call, &r)) {
        printf("SVC failed\n");
        return;
    }
    capnp_list l = capos_ServiceControl_list_Results_get_services(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ServiceStatus_reader s = capos_ServiceStatus_list_get(l, i);
        capnp_text n = capos_ServiceStatus_get_name(s);
        printf("SVC %.*s running=%d restarts=%u/%u last=%ld\n", (int)n.len, n.str, capos_ServiceStatus_get_running(s),
               capos_ServiceStatus_get_restarts(s), capos_ServiceStatus_get_retries(s),
               capos_ServiceStatus_get_lastExit(s));
    }
}

static void do_kill(const char *name)
{
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(ctl);
    capnp_call call;
    capos_ServiceControl_kill_Results_reader r;
    int e = capos_ServiceControl_kill(&cl, &b, &call, name, strlen(name), &r);
    printf("KILL %s error=%d\n", name, e ? rt_error(e) : capos_ServiceControl_kill_Results_get_error(r));
}

static void do_authority(void)
{
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r)) {
        printf("AUTHORITY failed\n");
        return;
    }
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text n = capos_ProcessCaps_get_name(p);
        capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
        char line[512];
        int len = fmt_snprintf(line, sizeof line, "AUTHORITY %.*s pid=%u held=%u:", (int)n.len, n.str,
                               capos_ProcessCaps_get_pid(p), capos_ProcessCaps_get_held(p));
        for (uint32_t k = 0; k < ifs.count && len < (int)sizeof line - 40; k++) {
            uint64_t id = capnp_list_u64(ifs, k);
            const char *in = "?";
            for (uint32_t j = 0; j < capos_INTERFACE_COUNT; j++)
                if (capos_interfaces[j].id == id)
                    in = capos_interfaces[j].name;
            len += fmt_snprintf(line + len, sizeof line - (size_t)len, " %s", in);
        }
        printf("%s\n", line);
    }
}

int main(void)
{
    ctl = rt_capset_require("control");
    stats = rt_capset_require("stats");
    term = rt_capset_require("terminal");
    printf("SVCCTL ready\n");
    for (;;) {
        char line[128];
        int ev = 0;
        if (rt_term_read(term, false, line, sizeof line, &ev) < 0)
            return 1;
        if (ev != capos_TerminalEvent_line)
            continue;
        if (!strcmp(line, "stats"))
            do_stats();
        else if (!strcmp(line, "list"))
            do_list();
        else if (!strncmp(line, "kill ", 5))
            do_kill(line + 5);
        else if (!strcmp(line, "authority"))
            do_authority();
        else
            printf("UNKNOWN %s\n", line);
        printf("OK\n");
    }
}
