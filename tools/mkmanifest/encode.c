/* The parsed manifest to a SystemManifest message, through the builders
 * generated from schema/capos.capnp.  Everything is written as parsed: the
 * semantic checks belong to lib/manifest, run by init (and by the tests). */
#include <string.h>

#include "mkmanifest.h"

static void encode_service(capos_ServiceSpec_builder b, const struct mk_service *s)
{
    capos_ServiceSpec_set_name(b, s->name, strlen(s->name));
    capos_ServiceSpec_set_binary(b, s->binary, strlen(s->binary));
    capos_ServiceSpec_set_session(b, s->session, strlen(s->session));
    capos_ServiceSpec_set_restart(b, s->restart);
    capos_ServiceSpec_set_retries(b, s->retries);
    if (s->args)
        capos_ServiceSpec_set_args(b, s->args, strlen(s->args));
    capos_ServiceSpec_set_disclosePrincipal(b, s->disclose_principal);
    capos_ServiceSpec_set_discloseProfile(b, s->disclose_profile);
    capos_ServiceSpec_set_line(b, s->line);

    capnp_lbuilder gl = capos_ServiceSpec_init_grants(b, (uint32_t)s->ngrants);
    for (size_t i = 0; i < s->ngrants; i++) {
        const struct mk_grant *g = &s->grants[i];
        capos_GrantSpec_builder gb = capos_GrantSpec_list_at(gl, (uint32_t)i);
        capos_GrantSpec_set_name(gb, g->name, strlen(g->name));
        capos_GrantSpec_set_line(gb, g->line);
        capos_GrantSpec_source_builder src = capos_GrantSpec_init_source(gb);
        if (g->kernel) {
            capos_GrantSpec_source_set_kernel(src, g->cap, strlen(g->cap));
        } else {
            capos_ExportRef_builder ref = capos_GrantSpec_source_init_service(src);
            capos_ExportRef_set_service(ref, g->service, strlen(g->service));
            capos_ExportRef_set_export(ref, g->cap, strlen(g->cap));
        }
    }
    capnp_lbuilder xl = capos_ServiceSpec_init_exports(b, (uint32_t)s->nexports);
    for (size_t i = 0; i < s->nexports; i++) {
        const struct mk_export *x = &s->exports[i];
        capos_ExportSpec_builder xb = capos_ExportSpec_list_at(xl, (uint32_t)i);
        capos_ExportSpec_set_name(xb, x->name, strlen(x->name));
        capos_ExportSpec_set_interfaceId(xb, x->interface_id);
        capos_ExportSpec_set_line(xb, x->line);
    }
    if (s->ndevices) {
        capnp_lbuilder dl = capos_ServiceSpec_init_devices(b, (uint32_t)s->ndevices);
        for (size_t i = 0; i < s->ndevices; i++) {
            const struct mk_device *d = &s->devices[i];
            capos_DeviceSpec_builder db = capos_DeviceSpec_list_at(dl, (uint32_t)i);
            capos_DeviceSpec_set_name(db, d->name, strlen(d->name));
            capos_DeviceSpec_set_vendorId(db, d->vendor);
            capos_DeviceSpec_set_deviceId(db, d->device);
            capos_DeviceSpec_set_dmaPages(db, d->dma_pages);
            capos_DeviceSpec_set_line(db, d->line);
        }
    }
}

size_t mk_encode(const struct mk_manifest *m, void *buf, size_t cap)
{
    capnp_builder b;
    if (capnp_builder_init(&b, buf, cap) != CAPNP_OK)
        return 0;
    capos_SystemManifest_builder root = capos_SystemManifest_init_root(&b);
    capnp_lbuilder sl = capos_SystemManifest_init_sessions(root, (uint32_t)m->nsessions);
    for (size_t i = 0; i < m->nsessions; i++) {
        const struct mk_session *s = &m->sessions[i];
        capos_SessionSpec_builder sb = capos_SessionSpec_list_at(sl, (uint32_t)i);
        capos_SessionSpec_set_name(sb, s->name, strlen(s->name));
        capos_SessionSpec_set_principal(sb, s->principal, strlen(s->principal));
        capos_SessionSpec_set_profile(sb, s->profile, strlen(s->profile));
        capos_SessionSpec_set_line(sb, s->line);
    }
    capnp_lbuilder vl = capos_SystemManifest_init_services(root, (uint32_t)m->nservices);
    for (size_t i = 0; i < m->nservices; i++)
        encode_service(capos_ServiceSpec_list_at(vl, (uint32_t)i), &m->services[i]);
    size_t len = 0;
    if (capnp_builder_finish(&b, &len) != CAPNP_OK)
        return 0;
    return len;
}
