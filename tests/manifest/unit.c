/*
 * Unit tests of lib/manifest and of the interface table capnpc-c generates:
 * what run.py's table of manifests cannot see from outside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capos.capnp.h"
#include "manifest.h"

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
        }                                                                  \
    } while (0)

static struct manifest m;

static bool any_binary(void *ctx, const char *name, size_t len) { return true; }

/* The interface table lists every schema interface under its schema name. */
static void test_interface_table(void)
{
    int console = 0, echo = 0;
    for (size_t i = 0; i < capos_INTERFACE_COUNT; i++) {
        const capnp_interface_name *n = &capos_interfaces[i];
        CHECK(n->name && n->name[0]);
        if (strcmp(n->name, "Console") == 0)
            console += n->id == capos_Console_ID;
        if (strcmp(n->name, "Echo") == 0)
            echo += n->id == capos_Echo_ID;
        for (size_t j = 0; j < i; j++)
            CHECK(capos_interfaces[j].id != n->id && strcmp(capos_interfaces[j].name, n->name));
    }
    CHECK(console == 1);
    CHECK(echo == 1);
    CHECK(capos_INTERFACE_COUNT >= 6); /* Console Timer VirtualMemory ProcessSpawner ProcessHandle Echo */
}

static void test_kernel_caps(void)
{
    static const char *const names[] = { "console", "timer", "memory", "spawner",
                                         "power", "endpoints", "sessions", "terminal", "stats" };
    CHECK(MANIFEST_KCAP_COUNT == 9);
    for (unsigned i = 0; i < 9; i++) {
        CHECK(strcmp(manifest_kernel_cap_name(i), names[i]) == 0);
        CHECK(manifest_kernel_cap_find(names[i], strlen(names[i])) == (int)i);
    }
    CHECK(manifest_kernel_cap_name(MANIFEST_KCAP_COUNT) == NULL);
    CHECK(manifest_kernel_cap_find("consol", 6) == -1);
    CHECK(manifest_kernel_cap_find("consoles", 8) == -1);
    CHECK(manifest_kernel_cap_find("consoles", 7) == MANIFEST_KCAP_CONSOLE); /* by length */
    CHECK(manifest_kernel_cap_find("", 0) == -1);
}

static void test_strerror(void)
{
    for (int i = 0; i <= MANIFEST_ERR_BAD_DEVICE; i++) {
        CHECK(strcmp(manifest_strerror(i), "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(manifest_strerror(i), manifest_strerror(j)) != 0);
    }
    CHECK(strcmp(manifest_strerror(-1), "unknown") == 0);
    CHECK(strcmp(manifest_strerror(MANIFEST_ERR_BAD_DEVICE + 1), "unknown") == 0);
    CHECK(MANIFEST_ERR_DUP_DEVICE == 16 && MANIFEST_ERR_BAD_DEVICE == 17); /* stable */
}

/* Two services "a" and "b" with devices: a holds `na` devices named d0,
 * d1, ... with ids (1af4, dev_a + k); b holds one device "nic" with ids
 * (1af4, dev_b) and dma pages `dma_b`; b also holds a kernel grant `gname`. */
static size_t build_devices(uint8_t *buf, size_t cap, uint32_t na, uint16_t dev_a,
                            uint16_t dev_b, uint32_t dma_b, const char *bname, const char *gname)
{
    capnp_builder b;
    capnp_builder_init(&b, buf, cap);
    capos_SystemManifest_builder root = capos_SystemManifest_init_root(&b);
    capnp_lbuilder sl = capos_SystemManifest_init_sessions(root, 1);
    capos_SessionSpec_builder ss = capos_SessionSpec_list_at(sl, 0);
    capos_SessionSpec_set_name(ss, "s", 1);
    capos_SessionSpec_set_principal(ss, "p", 1);
    capos_SessionSpec_set_profile(ss, "q", 1);
    capos_SessionSpec_set_line(ss, 1);
    capnp_lbuilder vl = capos_SystemManifest_init_services(root, 2);
    for (uint32_t i = 0; i < 2; i++) {
        capos_ServiceSpec_builder sv = capos_ServiceSpec_list_at(vl, i);
        capos_ServiceSpec_set_name(sv, i ? "b" : "a", 1);
        capos_ServiceSpec_set_binary(sv, "x", 1);
        capos_ServiceSpec_set_session(sv, "s", 1);
        capos_ServiceSpec_set_line(sv, 10 * (i + 1));
        uint32_t nd = i ? 1 : na;
        capnp_lbuilder dl = capos_ServiceSpec_init_devices(sv, nd);
        for (uint32_t k = 0; k < nd; k++) {
            capos_DeviceSpec_builder d = capos_DeviceSpec_list_at(dl, k);
            char nm[4] = { 'd', (char)('0' + k), 0, 0 };
            const char *dn = i ? bname : nm;
            capos_DeviceSpec_set_name(d, dn, strlen(dn));
            capos_DeviceSpec_set_vendorId(d, 0x1af4);
            capos_DeviceSpec_set_deviceId(d, i ? dev_b : (uint16_t)(dev_a + k));
            capos_DeviceSpec_set_dmaPages(d, i ? dma_b : 8);
            capos_DeviceSpec_set_line(d, 10 * (i + 1) + 1 + k);
        }
        if (i && gname) {
            capnp_lbuilder gl = capos_ServiceSpec_init_grants(sv, 1);
            capos_GrantSpec_builder g = capos_GrantSpec_list_at(gl, 0);
            capos_GrantSpec_set_name(g, gname, strlen(gname));
            capos_GrantSpec_set_line(g, 15);
            capos_GrantSpec_source_set_kernel(capos_GrantSpec_init_source(g), "console", 7);
        }
    }
    size_t len = 0;
    return capnp_builder_finish(&b, &len) == CAPNP_OK ? len : 0;
}

/* The device grant: decoded, and every rule with its stable code. */
static void test_devices(void)
{
    uint8_t buf[4096];
    struct manifest_error err;
    size_t len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 16, "nic", "log");
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_OK);
    CHECK(m.services[0].ndevices == 1 && m.services[1].ndevices == 1);
    CHECK(m.services[0].devices[0].vendor == 0x1af4 && m.services[0].devices[0].device == 0x1041);
    CHECK(m.services[1].devices[0].dma_pages == 16 && m.services[1].devices[0].line == 21);
    CHECK(manifest_str_eq(m.services[1].devices[0].name, "nic", 3));
    CHECK(strcmp(manifest_device_suffix[0], "-mmio") == 0);

    /* the same device granted to two services */
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1041, 16, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_DUP_DEVICE);
    CHECK(err.line == 21);
    CHECK(strcmp(err.msg, "line 21: service \"b\": device 1af4:1041 already granted to \"a\" (line 11)") == 0);
    /* ... or twice to one service */
    len = build_devices(buf, sizeof buf, 2, 0x1041, 0x1042, 16, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_DUP_DEVICE);
    CHECK(err.line == 21);
    /* two different devices in one service are fine; three are too many */
    len = build_devices(buf, sizeof buf, 2, 0x1041, 0x1044, 16, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_OK);
    len = build_devices(buf, sizeof buf, 3, 0x1041, 0x1050, 16, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_TOO_MANY);
    /* quota bounds */
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 0, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_BAD_DEVICE);
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, MANIFEST_MAX_DMA_PAGES + 1, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_BAD_DEVICE);
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, MANIFEST_MAX_DMA_PAGES, "nic", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_OK);
    /* names: at most 18 bytes (NAME-mmio fits a CapSet name), no clash */
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 4, "abcdefghijklmnopqr", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_OK);
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 4, "abcdefghijklmnopqrs", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_BAD_NAME);
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 4, "n.c", NULL);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_BAD_NAME);
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 4, "nic", "nic-irq");
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_ERR_DUP_GRANT);
    len = build_devices(buf, sizeof buf, 1, 0x1041, 0x1044, 4, "nic", "nic-ir");
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_OK);
}

/* Build with the generated builders (not mkmanifest): a provider listed
 * after its client, one of each grant kind. */
static size_t build_two(uint8_t *buf, size_t cap)
{
    capnp_builder b;
    capnp_builder_init(&b, buf, cap);
    capos_SystemManifest_builder root = capos_SystemManifest_init_root(&b);
    capnp_lbuilder sl = capos_SystemManifest_init_sessions(root, 2);
    const char *sn[2] = { "a", "b" };
    for (uint32_t i = 0; i < 2; i++) {
        capos_SessionSpec_builder s = capos_SessionSpec_list_at(sl, i);
        capos_SessionSpec_set_name(s, sn[i], 1);
        capos_SessionSpec_set_principal(s, "p", 1);
        capos_SessionSpec_set_profile(s, "q", 1);
        capos_SessionSpec_set_line(s, 1 + i);
    }
    capnp_lbuilder vl = capos_SystemManifest_init_services(root, 2);
    capos_ServiceSpec_builder client = capos_ServiceSpec_list_at(vl, 0);
    capos_ServiceSpec_set_name(client, "client", 6);
    capos_ServiceSpec_set_binary(client, "cl.elf", 6);
    capos_ServiceSpec_set_session(client, "b", 1);
    capos_ServiceSpec_set_restart(client, capos_RestartPolicy_onFailure);
    capos_ServiceSpec_set_retries(client, 9);
    capos_ServiceSpec_set_discloseProfile(client, true);
    capos_ServiceSpec_set_line(client, 10);
    capnp_lbuilder gl = capos_ServiceSpec_init_grants(client, 2);
    capos_GrantSpec_builder g0 = capos_GrantSpec_list_at(gl, 0);
    capos_GrantSpec_set_name(g0, "pw", 2);
    capos_GrantSpec_set_line(g0, 11);
    capos_GrantSpec_source_set_kernel(capos_GrantSpec_init_source(g0), "power", 5);
    capos_GrantSpec_builder g1 = capos_GrantSpec_list_at(gl, 1);
    capos_GrantSpec_set_name(g1, "e", 1);
    capos_GrantSpec_set_line(g1, 12);
    capos_ExportRef_builder ref = capos_GrantSpec_source_init_service(capos_GrantSpec_init_source(g1));
    capos_ExportRef_set_service(ref, "server", 6);
    capos_ExportRef_set_export(ref, "two", 3);

    capos_ServiceSpec_builder server = capos_ServiceSpec_list_at(vl, 1);
    capos_ServiceSpec_set_name(server, "server", 6);
    capos_ServiceSpec_set_binary(server, "srv", 3);
    capos_ServiceSpec_set_session(server, "a", 1);
    capos_ServiceSpec_set_line(server, 20);
    capnp_lbuilder xl = capos_ServiceSpec_init_exports(server, 2);
    const char *xn[2] = { "one", "two" };
    for (uint32_t i = 0; i < 2; i++) {
        capos_ExportSpec_builder x = capos_ExportSpec_list_at(xl, i);
        capos_ExportSpec_set_name(x, xn[i], 3);
        capos_ExportSpec_set_interfaceId(x, capos_Echo_ID + i);
        capos_ExportSpec_set_line(x, 21 + i);
    }
    size_t len = 0;
    return capnp_builder_finish(&b, &len) == CAPNP_OK ? len : 0;
}

/* Every field reaches struct manifest, and every reference is resolved. */
static void test_decode_resolve(void)
{
    uint8_t buf[2048];
    size_t len = build_two(buf, sizeof buf);
    struct manifest_error err;
    CHECK(len > 0);
    CHECK(manifest_load(&m, buf, len, any_binary, NULL, &err) == MANIFEST_OK);
    CHECK(err.code == MANIFEST_OK && err.msg[0] == 0);
    CHECK(m.nsessions == 2 && m.nservices == 2);
    const struct manifest_service *c = &m.services[0], *s = &m.services[1];
    CHECK(manifest_str_eq(c->binary, "cl.elf", 6));
    CHECK(c->session == 1 && s->session == 0);
    CHECK(c->restart == MANIFEST_RESTART_ON_FAILURE && c->retries == 9);
    CHECK(!c->disclose_principal && c->disclose_profile);
    CHECK(s->restart == MANIFEST_RESTART_NEVER && s->retries == 0);
    CHECK(c->ngrants == 2 && c->nexports == 0 && s->ngrants == 0 && s->nexports == 2);
    CHECK(c->grants[0].source == MANIFEST_SOURCE_KERNEL && c->grants[0].kernel_cap == MANIFEST_KCAP_POWER);
    CHECK(c->grants[0].line == 11);
    CHECK(c->grants[1].source == MANIFEST_SOURCE_SERVICE && c->grants[1].provider == 1 &&
          c->grants[1].export_index == 1);
    CHECK(s->exports[1].interface_id == capos_Echo_ID + 1 && s->exports[1].line == 22);
    CHECK(m.order[0] == 1 && m.order[1] == 0); /* provider first */
    CHECK(m.sessions[1].line == 2 && c->line == 10);

    /* every shorter prefix of the message is refused as malformed */
    int all = 1;
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        all &= manifest_load(&m, cut, n, any_binary, NULL, &err) == MANIFEST_ERR_MALFORMED;
        free(cut);
    }
    CHECK(all);
}

static void test_bad_arguments(void)
{
    struct manifest_error err;
    uint8_t buf[2048];
    size_t len = build_two(buf, sizeof buf);
    CHECK(manifest_load(NULL, buf, len, NULL, NULL, &err) == MANIFEST_ERR_BAD_ARGUMENT);
    CHECK(manifest_load(&m, NULL, 8, NULL, NULL, &err) == MANIFEST_ERR_BAD_ARGUMENT);
    CHECK(manifest_load(&m, buf, len, NULL, NULL, NULL) == MANIFEST_OK); /* err optional */
    /* a hand-filled struct claiming more than its arrays hold */
    m.nservices = MANIFEST_MAX_SERVICES + 1;
    CHECK(manifest_validate(&m, NULL, NULL, &err) == MANIFEST_ERR_TOO_MANY);
    m.nservices = 1;
    m.services[0].ngrants = MANIFEST_MAX_GRANTS + 1;
    CHECK(manifest_validate(&m, NULL, NULL, &err) == MANIFEST_ERR_TOO_MANY);
}

/* A cycle through every service, with the longest names: the message is
 * cut to its buffer, terminated, and still names the line. */
static void test_long_cycle_message(void)
{
    static uint8_t buf[1 << 16];
    capnp_builder b;
    capnp_builder_init(&b, buf, sizeof buf);
    capos_SystemManifest_builder root = capos_SystemManifest_init_root(&b);
    capos_SessionSpec_builder s = capos_SessionSpec_list_at(capos_SystemManifest_init_sessions(root, 1), 0);
    capos_SessionSpec_set_name(s, "s", 1);
    capos_SessionSpec_set_principal(s, "p", 1);
    capos_SessionSpec_set_profile(s, "q", 1);
    capnp_lbuilder vl = capos_SystemManifest_init_services(root, MANIFEST_MAX_SERVICES);
    char names[MANIFEST_MAX_SERVICES][MANIFEST_MAX_NAME + 1];
    for (int i = 0; i < MANIFEST_MAX_SERVICES; i++)
        snprintf(names[i], sizeof names[i], "service-%015d", i);
    for (int i = 0; i < MANIFEST_MAX_SERVICES; i++) {
        capos_ServiceSpec_builder v = capos_ServiceSpec_list_at(vl, (uint32_t)i);
        capos_ServiceSpec_set_name(v, names[i], MANIFEST_MAX_NAME);
        capos_ServiceSpec_set_binary(v, "b", 1);
        capos_ServiceSpec_set_session(v, "s", 1);
        capos_ServiceSpec_set_line(v, 100 + 3 * i);
        capos_ExportSpec_builder x = capos_ExportSpec_list_at(capos_ServiceSpec_init_exports(v, 1), 0);
        capos_ExportSpec_set_name(x, "x", 1);
        capos_GrantSpec_builder g = capos_GrantSpec_list_at(capos_ServiceSpec_init_grants(v, 1), 0);
        capos_GrantSpec_set_name(g, "g", 1);
        capos_GrantSpec_set_line(g, 101 + 3 * i);
        capos_ExportRef_builder r = capos_GrantSpec_source_init_service(capos_GrantSpec_init_source(g));
        const char *next = names[(i + 1) % MANIFEST_MAX_SERVICES];
        capos_ExportRef_set_service(r, next, strlen(next));
        capos_ExportRef_set_export(r, "x", 1);
    }
    size_t len = 0;
    CHECK(capnp_builder_finish(&b, &len) == CAPNP_OK);
    struct manifest_error err;
    memset(err.msg, 'Z', sizeof err.msg);
    CHECK(manifest_load(&m, buf, len, NULL, NULL, &err) == MANIFEST_ERR_CYCLE);
    CHECK(err.line == 101);
    CHECK(memchr(err.msg, 0, sizeof err.msg) != NULL);
    CHECK(strncmp(err.msg, "line 101: service \"service-000000000000000\": dependency cycle: "
                  "service-000000000000000 -> service-000000000000001 -> ", 115) == 0);
}

/* A name that never passed the name check (a kernel cap's) reaches the
 * message with control bytes replaced and cut at 32 bytes. */
static void test_shown_names(void)
{
    static const char *const caps[2] = {
        "\x1b[2J\x07", "a-kernel-cap-name-much-longer-than-32-bytes" };
    static const char *const want[2] = {
        "line 3: service \"s\": grant \"g\": unknown kernel cap \"kernel.?[2J?\"",
        "line 3: service \"s\": grant \"g\": unknown kernel cap "
        "\"kernel.a-kernel-cap-name-much-longer-th...\"" };
    for (int i = 0; i < 2; i++) {
        uint8_t buf[1024];
        capnp_builder b;
        capnp_builder_init(&b, buf, sizeof buf);
        capos_SystemManifest_builder root = capos_SystemManifest_init_root(&b);
        capos_SessionSpec_builder ss = capos_SessionSpec_list_at(capos_SystemManifest_init_sessions(root, 1), 0);
        capos_SessionSpec_set_name(ss, "x", 1);
        capos_SessionSpec_set_principal(ss, "p", 1);
        capos_SessionSpec_set_profile(ss, "q", 1);
        capos_ServiceSpec_builder v = capos_ServiceSpec_list_at(capos_SystemManifest_init_services(root, 1), 0);
        capos_ServiceSpec_set_name(v, "s", 1);
        capos_ServiceSpec_set_binary(v, "b", 1);
        capos_ServiceSpec_set_session(v, "x", 1);
        capos_GrantSpec_builder g = capos_GrantSpec_list_at(capos_ServiceSpec_init_grants(v, 1), 0);
        capos_GrantSpec_set_name(g, "g", 1);
        capos_GrantSpec_set_line(g, 3);
        capos_GrantSpec_source_set_kernel(capos_GrantSpec_init_source(g), caps[i], strlen(caps[i]));
        size_t len = 0;
        CHECK(capnp_builder_finish(&b, &len) == CAPNP_OK);
        struct manifest_error err;
        CHECK(manifest_load(&m, buf, len, NULL, NULL, &err) == MANIFEST_ERR_UNKNOWN_KERNEL_CAP);
        CHECK(strcmp(err.msg, want[i]) == 0);
        if (strcmp(err.msg, want[i]) != 0)
            printf("  got %s\n", err.msg);
    }
}

int main(void)
{
    test_interface_table();
    test_kernel_caps();
    test_strerror();
    test_decode_resolve();
    test_devices();
    test_bad_arguments();
    test_long_cycle_message();
    test_shown_names();
    printf("manifest-unit: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
