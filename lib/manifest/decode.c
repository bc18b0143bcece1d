/*
 * Decoding: the SystemManifest message into struct manifest, through the
 * readers generated from schema/capos.capnp.  Only what the wire says is
 * checked here (framing, pointers, bounds of our arrays); what the entries
 * mean is validate.c's job.
 */
#include "capnp.h"
#include "capos.capnp.h"
#include "internal.h"

/* Deep enough for root -> services -> service -> grants -> grant -> ref. */
#define DECODE_NESTING 16

static struct manifest_str str_of(capnp_text t)
{
    struct manifest_str s = { t.str ? t.str : "", t.str ? t.len : 0 };
    return s;
}

static void decode_session(struct manifest_session *s, capos_SessionSpec_reader r)
{
    s->name = str_of(capos_SessionSpec_get_name(r));
    s->principal = str_of(capos_SessionSpec_get_principal(r));
    s->profile = str_of(capos_SessionSpec_get_profile(r));
    s->line = capos_SessionSpec_get_line(r);
}

static int decode_grant(struct manifest_grant *g, capos_GrantSpec_reader r,
                        const struct manifest_service *svc,
                        struct manifest_error *err)
{
    g->name = str_of(capos_GrantSpec_get_name(r));
    g->line = capos_GrantSpec_get_line(r);
    capos_GrantSpec_source_reader src = capos_GrantSpec_get_source(r);
    uint16_t which = capos_GrantSpec_source_which(src);
    struct manifest_str none = { "", 0 };
    g->kernel = g->service = g->export_ = none;
    if (which == capos_GrantSpec_source_which_kernel) {
        g->source = MANIFEST_SOURCE_KERNEL;
        g->kernel = str_of(capos_GrantSpec_source_get_kernel(src));
    } else if (which == capos_GrantSpec_source_which_service) {
        g->source = MANIFEST_SOURCE_SERVICE;
        capos_ExportRef_reader ref = capos_GrantSpec_source_get_service(src);
        g->service = str_of(capos_ExportRef_get_service(ref));
        g->export_ = str_of(capos_ExportRef_get_export(ref));
    } else {
        /* a source kind from a newer schema: this init cannot grant it */
        return manifest_fail(err, MANIFEST_ERR_MALFORMED, g->line,
                             "service \"%s\": grant \"%s\": unknown source kind %u",
                             manifest_show(svc->name).s, manifest_show(g->name).s, which);
    }
    return MANIFEST_OK;
}

static int decode_service(struct manifest_service *s, capos_ServiceSpec_reader r,
                          struct manifest_error *err)
{
    s->name = str_of(capos_ServiceSpec_get_name(r));
    s->binary = str_of(capos_ServiceSpec_get_binary(r));
    s->session_name = str_of(capos_ServiceSpec_get_session(r));
    s->args = str_of(capos_ServiceSpec_get_args(r));
    s->line = capos_ServiceSpec_get_line(r);
    s->restart = capos_ServiceSpec_get_restart(r);
    s->retries = capos_ServiceSpec_get_retries(r);
    s->disclose_principal = capos_ServiceSpec_get_disclosePrincipal(r);
    s->disclose_profile = capos_ServiceSpec_get_discloseProfile(r);
    s->session = 0;
    s->ngrants = s->nexports = s->ndevices = 0;

    capnp_list gl = capos_ServiceSpec_get_grants(r);
    if (gl.count > MANIFEST_MAX_GRANTS) {
        capos_GrantSpec_reader over = capos_GrantSpec_list_get(gl, MANIFEST_MAX_GRANTS);
        return manifest_fail(err, MANIFEST_ERR_TOO_MANY, capos_GrantSpec_get_line(over),
                             "service \"%s\": too many grants (at most %d)",
                             manifest_show(s->name).s, MANIFEST_MAX_GRANTS);
    }
    for (uint32_t i = 0; i < gl.count; i++) {
        int e = decode_grant(&s->grants[i], capos_GrantSpec_list_get(gl, i), s, err);
        if (e != MANIFEST_OK)
            return e;
        s->ngrants = i + 1;
    }

    capnp_list xl = capos_ServiceSpec_get_exports(r);
    if (xl.count > MANIFEST_MAX_EXPORTS) {
        capos_ExportSpec_reader over = capos_ExportSpec_list_get(xl, MANIFEST_MAX_EXPORTS);
        return manifest_fail(err, MANIFEST_ERR_TOO_MANY, capos_ExportSpec_get_line(over),
                             "service \"%s\": too many exports (at most %d)",
                             manifest_show(s->name).s, MANIFEST_MAX_EXPORTS);
    }
    for (uint32_t i = 0; i < xl.count; i++) {
        capos_ExportSpec_reader x = capos_ExportSpec_list_get(xl, i);
        s->exports[i].name = str_of(capos_ExportSpec_get_name(x));
        s->exports[i].interface_id = capos_ExportSpec_get_interfaceId(x);
        s->exports[i].line = capos_ExportSpec_get_line(x);
        s->nexports = i + 1;
    }

    capnp_list dl = capos_ServiceSpec_get_devices(r);
    if (dl.count > MANIFEST_MAX_DEVICES) {
        capos_DeviceSpec_reader over = capos_DeviceSpec_list_get(dl, MANIFEST_MAX_DEVICES);
        return manifest_fail(err, MANIFEST_ERR_TOO_MANY, capos_DeviceSpec_get_line(over),
                             "service \"%s\": too many devices (at most %d)",
                             manifest_show(s->name).s, MANIFEST_MAX_DEVICES);
    }
    for (uint32_t i = 0; i < dl.count; i++) {
        capos_DeviceSpec_reader d = capos_DeviceSpec_list_get(dl, i);
        s->devices[i].name = str_of(capos_DeviceSpec_get_name(d));
        s->devices[i].vendor = capos_DeviceSpec_get_vendorId(d);
        s->devices[i].device = capos_DeviceSpec_get_deviceId(d);
        s->devices[i].dma_pages = capos_DeviceSpec_get_dmaPages(d);
        s->devices[i].line = capos_DeviceSpec_get_line(d);
        s->ndevices = i + 1;
    }
    return MANIFEST_OK;
}

static int decode_all(struct manifest *m, capnp_msg *msg, struct manifest_error *err)
{
    capos_SystemManifest_reader root = capos_SystemManifest_read_root(msg);

    capnp_list sl = capos_SystemManifest_get_sessions(root);
    if (sl.count > MANIFEST_MAX_SESSIONS) {
        capos_SessionSpec_reader over = capos_SessionSpec_list_get(sl, MANIFEST_MAX_SESSIONS);
        return manifest_fail(err, MANIFEST_ERR_TOO_MANY, capos_SessionSpec_get_line(over),
                             "too many sessions (at most %d)", MANIFEST_MAX_SESSIONS);
    }
    for (uint32_t i = 0; i < sl.count; i++) {
        decode_session(&m->sessions[i], capos_SessionSpec_list_get(sl, i));
        m->nsessions = i + 1;
    }

    capnp_list vl = capos_SystemManifest_get_services(root);
    if (vl.count > MANIFEST_MAX_SERVICES) {
        capos_ServiceSpec_reader over = capos_ServiceSpec_list_get(vl, MANIFEST_MAX_SERVICES);
        return manifest_fail(err, MANIFEST_ERR_TOO_MANY, capos_ServiceSpec_get_line(over),
                             "too many services (at most %d)", MANIFEST_MAX_SERVICES);
    }
    for (uint32_t i = 0; i < vl.count; i++) {
        int e = decode_service(&m->services[i], capos_ServiceSpec_list_get(vl, i), err);
        if (e != MANIFEST_OK)
            return e;
        m->nservices = i + 1;
    }
    return MANIFEST_OK;
}

int manifest_decode(struct manifest *m, const void *buf, size_t len,
                    struct manifest_error *err)
{
    if (!m || (!buf && len))
        return manifest_fail(err, MANIFEST_ERR_BAD_ARGUMENT, 0, "no manifest");
    m->nsessions = m->nservices = 0;
    if (err) {
        err->code = MANIFEST_OK;
        err->line = 0;
        err->msg[0] = 0;
    }

    capnp_msg msg;
    int e = capnp_msg_init(&msg, buf, len);
    if (e == CAPNP_OK) {
        /* A word of traversal per byte is far more than an honest manifest
         * needs, and still bounds what a hostile one can make us read. */
        capnp_msg_set_limits(&msg, (uint64_t)len, DECODE_NESTING);
        e = capnp_msg_validate(&msg);
    }
    if (e == CAPNP_OK) {
        int me = decode_all(m, &msg, err);
        /* a wire error found while reading outranks what it caused */
        if (msg.err == CAPNP_OK && me != MANIFEST_OK)
            return me;
        e = msg.err;
    }
    if (e != CAPNP_OK) {
        m->nsessions = m->nservices = 0;
        return manifest_fail(err, MANIFEST_ERR_MALFORMED, 0,
                             "malformed manifest: %s", capnp_strerror(e));
    }
    return MANIFEST_OK;
}
