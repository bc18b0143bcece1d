/*
 * init's service manager: reads the boot manifest through BootPackage,
 * validates the whole graph with lib/manifest before anything starts, makes
 * each service's endpoints and sessions, spawns the services in dependency
 * order with exactly their grants, and supervises them: an exit is logged
 * and, by the service's restart policy, answered with a new instance that
 * gets the same grants (init keeps the owner side of every export, so
 * clients' facets stay valid across a restart).
 */
#include "rt/capos.h"
#include "manifest.h"
#include "services.h"

static struct manifest m;
static uint8_t mbuf[16384] __attribute__((aligned(8)));
static char binaries[64][32];
static uint32_t nbinaries;

struct svc {
    int64_t handle;                    /* ProcessHandle, or < 0 when not running */
    uint32_t owners[MANIFEST_MAX_EXPORTS], facets[MANIFEST_MAX_EXPORTS];
    uint32_t restarts;
    int64_t last_exit;
};
static struct svc svcs[MANIFEST_MAX_SERVICES];
static uint32_t sessions[MANIFEST_MAX_SESSIONS];
/* what init serves itself ("init.X" grants): owner and client sides */
static uint32_t init_owners[MANIFEST_ICAP_COUNT], init_facets[MANIFEST_ICAP_COUNT];
static const uint64_t init_ifaces[MANIFEST_ICAP_COUNT] = { [MANIFEST_ICAP_SERVICES] = capos_ServiceControl_ID };

static bool has_binary(void *ctx, const char *name, size_t len)
{
    for (uint32_t i = 0; i < nbinaries; i++)
        if (strlen(binaries[i]) == len && !memcmp(binaries[i], name, len))
            return true;
    return false;
}

static int read_package(uint32_t bp, size_t *size)
{
    RT_BUFS(b, 128, 4096);
    capnp_client cl = RT_CLIENT(bp);
    capnp_call call;
    capos_BootPackage_manifestSize_Results_reader sr;
    int e = capos_BootPackage_manifestSize(&cl, &b, &call, &sr);
    if (e)
        return rt_error(e);
    uint64_t len = capos_BootPackage_manifestSize_Results_get_size(sr);
    if (len == 0 || len > sizeof mbuf)
        return CAP_ERR_INVALID_ARGUMENT;
    for (uint64_t off = 0; off < len;) {
        capos_BootPackage_readManifest_Results_reader rr;
        if ((e = capos_BootPackage_readManifest(&cl, &b, &call, off, 2048, &rr)))
            return rt_error(e);
        capnp_data d = capos_BootPackage_readManifest_Results_get_data(rr);
        if (d.len == 0 || d.len > len - off)
            return CAP_ERR_INVALID_ARGUMENT;
        memcpy(mbuf + off, d.ptr, d.len);
        off += d.len;
    }
    capos_BootPackage_binaries_Results_reader br;
    if ((e = capos_BootPackage_binaries(&cl, &b, &call, &br)))
        return rt_error(e);
    capnp_list names = capos_BootPackage_binaries_Results_get_names(br);
    for (uint32_t i = 0; i < names.count && nbinaries < 64; i++) {
        capnp_text t = capnp_list_text(names, i);
        if (t.len < sizeof binaries[0]) {
            memcpy(binaries[nbinaries], t.str, t.len);
            binaries[nbinaries][t.len] = 0;
            nbinaries++;
        }
    }
    *size = (size_t)len;
    return 0;
}

static void name_of(struct manifest_str s, char *out, size_t cap)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(out, s.str, n);
    out[n] = 0;
}

/* Claim device d from the kernel: its DeviceMmio, DMAPool and Interrupt
 * land in caps[0..2]. init holds them only until the service is spawned. */
static int claim_device(const struct manifest_device *d, uint32_t caps[MANIFEST_DEVICE_CAPS])
{
    RT_BUFS(b, 128, 256);
    uint32_t dm = rt_capset_require("devices");
    capnp_client cl = RT_CLIENT(dm);
    capnp_call call;
    capos_DeviceManager_claim_Results_reader r;
    int e = capos_DeviceManager_claim(&cl, &b, &call, d->vendor, d->device, d->dma_pages, &r);
    if (e)
        return rt_error(e);
    uint32_t idx[MANIFEST_DEVICE_CAPS] = {
        capos_DeviceManager_claim_Results_get_mmio(r), capos_DeviceManager_claim_Results_get_dma(r),
        capos_DeviceManager_claim_Results_get_irq(r),
    };
    for (int k = 0; k < MANIFEST_DEVICE_CAPS; k++) {
        if (idx[k] >= call.result_ncaps)
            return CAP_ERR_INVOKE_FAILED;
        caps[k] = b.result_caps[idx[k]];
    }
    return 0;
}

#define START_MAX_CAPS (MANIFEST_MAX_GRANTS + MANIFEST_MAX_EXPORTS + MANIFEST_MAX_DEVICES * MANIFEST_DEVICE_CAPS)

static int start(uint32_t i)
{
    uint32_t spawner = rt_capset_require("spawner");
    struct manifest_service *s = &m.services[i];
    char gnames[START_MAX_CAPS][24];
    const char *names[START_MAX_CAPS];
    uint32_t caps[START_MAX_CAPS];
    uint32_t n = 0;
    for (uint32_t g = 0; g < s->ngrants; g++) {
        struct manifest_grant *gr = &s->grants[g];
        name_of(gr->name, gnames[n], sizeof gnames[n]);
        switch (gr->source) {
        case MANIFEST_SOURCE_KERNEL:
            caps[n] = rt_capset_require(manifest_kernel_cap_name(gr->kernel_cap));
            break;
        case MANIFEST_SOURCE_INIT:
            caps[n] = init_facets[gr->init_cap];
            break;
        default:
            caps[n] = svcs[gr->provider].facets[gr->export_index];
            break;
        }
        names[n] = gnames[n];
        n++;
    }
    for (uint32_t x = 0; x < s->nexports; x++) {
        name_of(s->exports[x].name, gnames[n], sizeof gnames[n]);
        caps[n] = svcs[i].owners[x];
        names[n] = gnames[n];
        n++;
    }
    char sname[32];
    name_of(s->name, sname, sizeof sname);
    uint32_t first_dev = n;
    for (uint32_t d = 0; d < s->ndevices; d++) {
        int e = claim_device(&s->devices[d], caps + n);
        if (e < 0) {
            if (e == CAP_ERR_NOT_FOUND)
                printf("init: %s: device %04x:%04x is not present: the service is not started\n", sname,
                       s->devices[d].vendor, s->devices[d].device);
            else
                printf("init: %s: cannot claim device %04x:%04x: error %d\n", sname,
                       s->devices[d].vendor, s->devices[d].device, e);
            for (uint32_t k = first_dev; k < n; k++)
                rt_release(caps[k]);
            svcs[i].handle = e;
            return e;
        }
        for (int k = 0; k < MANIFEST_DEVICE_CAPS; k++, n++) {
            name_of(s->devices[d].name, gnames[n], sizeof gnames[n] - 8);
            size_t len = strlen(gnames[n]), sl = strlen(manifest_device_suffix[k]);
            memcpy(gnames[n] + len, manifest_device_suffix[k], sl + 1);
            names[n] = gnames[n];
        }
    }
    char bin[32];
    name_of(s->binary, bin, sizeof bin);
    char args[CAPSET_ARGS];
    name_of(s->args, args, sizeof args);
    svcs[i].handle = rt_spawn_args(spawner, bin, names, caps, n, sessions[s->session], args);
    /* the service holds its device caps now; init keeps none */
    for (uint32_t k = first_dev; k < n; k++)
        rt_release(caps[k]);
    if (svcs[i].handle < 0)
        printf("init: cannot start %s: error %ld\n", sname, svcs[i].handle);
    return svcs[i].handle < 0 ? (int)svcs[i].handle : 0;
}

int services_boot(void)
{
    size_t size = 0;
    uint32_t bp = rt_capset_require("bootpkg");
    int r = read_package(bp, &size);
    if (r) {
        printf("init: cannot read the boot manifest (error %d)\n", r);
        return -1;
    }
    struct manifest_error err;
    if (manifest_load(&m, mbuf, size, has_binary, 0, &err) != MANIFEST_OK) {
        printf("init: boot manifest rejected: %s\n", err.msg);
        return -2;
    }
    printf("init: boot manifest ok: %u sessions, %u services; start order:", m.nsessions, m.nservices);
    for (uint32_t k = 0; k < m.nservices; k++) {
        char n[32];
        name_of(m.services[m.order[k]].name, n, sizeof n);
        printf(" %s", n);
    }
    printf("\n");

    uint32_t auth = rt_capset_require("sessions"), factory = rt_capset_require("endpoints");
    for (uint32_t k = 0; k < MANIFEST_ICAP_COUNT; k++)
        if ((r = rt_endpoint_create(factory, init_ifaces[k], 0, &init_owners[k], &init_facets[k])) < 0) {
            printf("init: cannot create endpoint: %d\n", r);
            return -4;
        }
    for (uint32_t k = 0; k < m.nsessions; k++) {
        char p[32], f[32];
        name_of(m.sessions[k].principal, p, sizeof p);
        name_of(m.sessions[k].profile, f, sizeof f);
        int64_t sc = rt_session_mint(auth, p, f);
        if (sc < 0) {
            printf("init: cannot mint session %s: %ld\n", p, sc);
            return -3;
        }
        sessions[k] = (uint32_t)sc;
    }
    for (uint32_t k = 0; k < m.nservices; k++) {
        uint32_t i = m.order[k];
        struct manifest_service *s = &m.services[i];
        uint32_t disclose = (s->disclose_principal ? CAP_RECV_F_PRINCIPAL : 0) |
                            (s->disclose_profile ? CAP_RECV_F_PROFILE : 0);
        for (uint32_t x = 0; x < s->nexports; x++)
            if ((r = rt_endpoint_create(factory, s->exports[x].interface_id, disclose,
                                        &svcs[i].owners[x], &svcs[i].facets[x])) < 0) {
                printf("init: cannot create endpoint: %d\n", r);
                return -4;
            }
        /* A machine without a device the manifest names still boots: that
         * service stays stopped (its clients' calls wait on its endpoint). */
        if ((r = start(i)) < 0 && r != CAP_ERR_NOT_FOUND)
            return -5;
    }
    return 0;
}

/* user_data tags of the supervisor's waits: the tag | the service's index;
 * and of the RECV on what init serves: the tag | the init cap */
#define WAIT_TAG 0x5E5E000000000000ull
#define RECV_TAG 0x5E5F000000000000ull
#define TAG_MASK 0xFFFF000000000000ull

/* Submit a ProcessHandle.wait for service i; its completion is the exit. */
static void watch(uint32_t i)
{
    static uint8_t res[MANIFEST_MAX_SERVICES][64] __attribute__((aligned(8)));
    struct cap_sqe w = {
        .opcode = CAP_OP_CALL, .cap_id = (uint32_t)svcs[i].handle, .interface_id = IFACE_PROCESS_HANDLE,
        .method_id = PROCESS_WAIT, .result_addr = (uint64_t)res[i], .result_len = sizeof res[i],
    };
    rt_ring_submit_tagged(&w, WAIT_TAG | i);
}

/* A service exited: log it and apply its restart policy. */
static void exited(const struct cap_cqe *c)
{
    uint32_t i = (uint32_t)(c->user_data & 0xFFFF);
    if (i >= m.nservices)
        return;
    struct svc *v = &svcs[i];
    struct manifest_service *s = &m.services[i];
    char n[32];
    name_of(s->name, n, sizeof n);
    int64_t code = rt_wait((uint32_t)v->handle);     /* already exited: answers at once */
    rt_release((uint32_t)v->handle);
    v->handle = -1;
    v->last_exit = code;
    printf("init: service %s exited with %ld\n", n, code);
    bool again = s->restart == MANIFEST_RESTART_ALWAYS || (s->restart == MANIFEST_RESTART_ON_FAILURE && code != 0);
    if (!again)
        return;
    if (v->restarts >= s->retries) {
        printf("init: service %s: restart limit (%u) reached, leaving it stopped\n", n, s->retries);
        return;
    }
    v->restarts++;
    printf("init: restarting %s (%u of %u)\n", n, v->restarts, s->retries);
    if (start(i) == 0)
        watch(i);
}

/* ---- ServiceControl (granted as "init.services") ---- */

static int find_service(capnp_text name)
{
    for (uint32_t i = 0; i < m.nservices; i++)
        if (manifest_str_eq(m.services[i].name, name.str, name.len))
            return (int)i;
    return -1;
}

static int sc_list(void *self, capos_ServiceControl_list_Params_reader p, capos_ServiceControl_list_Results_builder r)
{
    capnp_lbuilder l = capos_ServiceControl_list_Results_init_services(r, m.nservices);
    for (uint32_t i = 0; i < m.nservices; i++) {
        capos_ServiceStatus_builder b = capos_ServiceStatus_list_at(l, i);
        capos_ServiceStatus_set_name(b, m.services[i].name.str, m.services[i].name.len);
        capos_ServiceStatus_set_running(b, svcs[i].handle >= 0);
        capos_ServiceStatus_set_restarts(b, svcs[i].restarts);
        capos_ServiceStatus_set_retries(b, m.services[i].retries);
        capos_ServiceStatus_set_lastExit(b, svcs[i].last_exit);
    }
    return CAPNP_OK;
}

/* The kill lands as the process's exit: the wait watch() posted completes
 * and exited() applies the restart policy, as for any fault. */
static int sc_kill(void *self, capos_ServiceControl_kill_Params_reader p, capos_ServiceControl_kill_Results_builder r)
{
    int i = find_service(capos_ServiceControl_kill_Params_get_name(p));
    int e = i < 0 ? CAP_ERR_NOT_FOUND : svcs[i].handle < 0 ? CAP_ERR_DISCONNECTED : 0;
    if (!e) {
        char n[32];
        name_of(m.services[i].name, n, sizeof n);
        printf("init: killing %s (asked through init.services)\n", n);
        e = rt_kill((uint32_t)svcs[i].handle);
    }
    capos_ServiceControl_kill_Results_set_error(r, e);
    return CAPNP_OK;
}

static const capos_ServiceControl_server control_srv = { sc_list, sc_kill };
static uint8_t recv_buf[MANIFEST_ICAP_COUNT][sizeof(struct cap_recv_hdr) + 512] __attribute__((aligned(8)));

static void post_recv(uint32_t k)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = init_owners[k], .result_addr = (uint64_t)recv_buf[k],
                         .result_len = sizeof recv_buf[k] };
    rt_ring_submit_tagged(&s, RECV_TAG | k);
}

static void serve(const struct cap_cqe *c)
{
    uint32_t k = (uint32_t)(c->user_data & 0xFFFF);
    if (k >= MANIFEST_ICAP_COUNT || c->result == CAP_ERR_DISCONNECTED)
        return;                         /* (init keeps a facet: never disconnected) */
    struct rt_incoming in = { 0 };
    rt_serve_delivered(init_owners[k], c, capos_ServiceControl_dispatch_any, &control_srv, &in, recv_buf[k], &in);
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);         /* no method takes caps */
    post_recv(k);
}

__attribute__((noreturn)) void services_supervise(void)
{
    for (uint32_t i = 0; i < m.nservices; i++)
        if (svcs[i].handle >= 0)
            watch(i);
    for (uint32_t k = 0; k < MANIFEST_ICAP_COUNT; k++)
        post_recv(k);
    for (;;) {
        struct cap_cqe c;
        if (!rt_ring_next(&c, CAP_TIMEOUT_FOREVER))
            continue;
        switch (c.user_data & TAG_MASK) {
        case WAIT_TAG:
            exited(&c);
            break;
        case RECV_TAG:
            serve(&c);
            break;
        }
    }
}
