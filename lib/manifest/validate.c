/*
 * Validation of a decoded manifest: every name well formed and unique where
 * it must be, every reference resolved (binary, session, kernel cap,
 * SERVICE.EXPORT), restart policies in range, and no dependency cycle.
 *
 * The checks run in passes so that each can rely on the ones before:
 *   1. every name is well formed and service names are unique (so a lookup
 *      by name finds exactly one service);
 *   2. service by service, in manifest order: binary, session, restart,
 *      exports, grants (resolved to kernel caps, init caps or provider exports),
 *      devices (well formed, their cap names clash with nothing, and no
 *      vendor:device is granted twice anywhere in the manifest);
 *   3. the spawn order (order.c), which finds cycles.
 * The first error stops validation; it names the line at fault.
 */
#include "internal.h"


static bool name_char(char c, bool dot)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || (dot && c == '.');
}

/* 1 to MANIFEST_MAX_NAME bytes of [A-Za-z0-9_-] (and '.' where dot: a
 * binary name; never in a service or export name, where '.' separates). */
static bool name_ok(struct manifest_str s, bool dot)
{
    if (s.len == 0 || s.len > MANIFEST_MAX_NAME)
        return false;
    for (uint32_t i = 0; i < s.len; i++)
        if (!name_char(s.str[i], dot))
            return false;
    return true;
}

static int bad_name(struct manifest_error *err, uint32_t line, const char *what,
                    struct manifest_str s)
{
    return manifest_fail(err, MANIFEST_ERR_BAD_NAME, line,
                         "bad %s name \"%s\" (1 to %d of A-Z a-z 0-9 _ -)", what,
                         manifest_show(s).s, MANIFEST_MAX_NAME);
}

static bool str_eq(struct manifest_str a, struct manifest_str b)
{
    return manifest_str_eq(a, b.str, b.len);
}

#define P(s) (int)(s).len, (s).str /* a checked name for "%.*s" */

/* Pass 1: the names themselves, and unique sessions and services. */
static int check_names(struct manifest *m, struct manifest_error *err)
{
    for (uint32_t i = 0; i < m->nsessions; i++) {
        struct manifest_session *s = &m->sessions[i];
        if (!name_ok(s->name, false))
            return bad_name(err, s->line, "session", s->name);
        if (!name_ok(s->principal, false))
            return bad_name(err, s->line, "principal", s->principal);
        if (!name_ok(s->profile, false))
            return bad_name(err, s->line, "profile", s->profile);
        for (uint32_t j = 0; j < i; j++)
            if (str_eq(m->sessions[j].name, s->name))
                return manifest_fail(err, MANIFEST_ERR_DUP_SESSION, s->line,
                                     "session \"%.*s\": duplicate (first at line %u)",
                                     P(s->name), m->sessions[j].line);
    }
    for (uint32_t i = 0; i < m->nservices; i++) {
        struct manifest_service *s = &m->services[i];
        if (!name_ok(s->name, false))
            return bad_name(err, s->line, "service", s->name);
        /* "kernel.X" names a kernel cap in a grant, so no service is "kernel" */
        if (manifest_str_eq(s->name, "kernel", 6))
            return manifest_fail(err, MANIFEST_ERR_BAD_NAME, s->line,
                                 "service \"kernel\": the name is reserved for kernel caps");
        /* and "init.X" names what init serves */
        if (manifest_str_eq(s->name, "init", 4))
            return manifest_fail(err, MANIFEST_ERR_BAD_NAME, s->line,
                                 "service \"init\": the name is reserved for init's own caps");
        if (!name_ok(s->binary, true))
            return bad_name(err, s->line, "binary", s->binary);
        for (uint32_t j = 0; j < i; j++)
            if (str_eq(m->services[j].name, s->name))
                return manifest_fail(err, MANIFEST_ERR_DUP_SERVICE, s->line,
                                     "service \"%.*s\": duplicate (first at line %u)",
                                     P(s->name), m->services[j].line);
        for (uint32_t k = 0; k < s->nexports; k++)
            if (!name_ok(s->exports[k].name, false))
                return bad_name(err, s->exports[k].line, "export", s->exports[k].name);
        for (uint32_t k = 0; k < s->ngrants; k++)
            if (!name_ok(s->grants[k].name, false))
                return bad_name(err, s->grants[k].line, "grant", s->grants[k].name);
    }
    return MANIFEST_OK;
}

static int check_exports(struct manifest_service *s, struct manifest_error *err)
{
    for (uint32_t k = 0; k < s->nexports; k++) {
        struct manifest_export *x = &s->exports[k];
        for (uint32_t j = 0; j < k; j++)
            if (str_eq(s->exports[j].name, x->name))
                return manifest_fail(err, MANIFEST_ERR_DUP_EXPORT, x->line,
                                     "service \"%.*s\": export \"%.*s\": duplicate (first at line %u)",
                                     P(s->name), P(x->name), s->exports[j].line);
    }
    return MANIFEST_OK;
}

static int resolve_service_grant(struct manifest *m, uint32_t self,
                                 struct manifest_grant *g, struct manifest_error *err)
{
    struct manifest_service *s = &m->services[self];
    if (manifest_str_eq(g->service, "init", 4)) {
        int ic = manifest_init_cap_find(g->export_.str, g->export_.len);
        if (ic < 0)
            return manifest_fail(err, MANIFEST_ERR_NO_PROVIDER, g->line,
                                 "service \"%.*s\": grant \"%.*s\": init serves no \"init.%s\"",
                                 P(s->name), P(g->name), manifest_show(g->export_).s);
        g->source = MANIFEST_SOURCE_INIT;
        g->init_cap = (uint8_t)ic;
        return MANIFEST_OK;
    }
    for (uint32_t p = 0; p < m->nservices; p++) {
        struct manifest_service *prov = &m->services[p];
        if (!str_eq(prov->name, g->service))
            continue;
        if (p == self)
            return manifest_fail(err, MANIFEST_ERR_SELF_GRANT, g->line,
                                 "service \"%.*s\": grant \"%.*s\": a service cannot be "
                                 "a client of its own export \"%.*s.%s\"",
                                 P(s->name), P(g->name), P(g->service),
                                 manifest_show(g->export_).s);
        for (uint32_t x = 0; x < prov->nexports; x++)
            if (str_eq(prov->exports[x].name, g->export_)) {
                g->provider = (uint8_t)p;
                g->export_index = (uint8_t)x;
                return MANIFEST_OK;
            }
        break;
    }
    return manifest_fail(err, MANIFEST_ERR_NO_PROVIDER, g->line,
                         "service \"%.*s\": grant \"%.*s\": no service provides \"%s.%s\"",
                         P(s->name), P(g->name), manifest_show(g->service).s,
                         manifest_show(g->export_).s);
}

static int check_grants(struct manifest *m, uint32_t self, struct manifest_error *err)
{
    struct manifest_service *s = &m->services[self];
    for (uint32_t k = 0; k < s->ngrants; k++) {
        struct manifest_grant *g = &s->grants[k];
        for (uint32_t j = 0; j < k; j++)
            if (str_eq(s->grants[j].name, g->name))
                return manifest_fail(err, MANIFEST_ERR_DUP_GRANT, g->line,
                                     "service \"%.*s\": grant \"%.*s\": duplicate (first at line %u)",
                                     P(s->name), P(g->name), s->grants[j].line);
        /* the owner side of an export sits in the same CapSet */
        for (uint32_t x = 0; x < s->nexports; x++)
            if (str_eq(s->exports[x].name, g->name))
                return manifest_fail(err, MANIFEST_ERR_DUP_GRANT, g->line,
                                     "service \"%.*s\": grant \"%.*s\": the name of an export "
                                     "(line %u)", P(s->name), P(g->name), s->exports[x].line);
        if (g->source == MANIFEST_SOURCE_KERNEL) {
            int kc = manifest_kernel_cap_find(g->kernel.str, g->kernel.len);
            if (kc < 0)
                return manifest_fail(err, MANIFEST_ERR_UNKNOWN_KERNEL_CAP, g->line,
                                     "service \"%.*s\": grant \"%.*s\": unknown kernel cap "
                                     "\"kernel.%s\"", P(s->name), P(g->name),
                                     manifest_show(g->kernel).s);
            g->kernel_cap = (uint8_t)kc;
        } else {
            int e = resolve_service_grant(m, self, g, err);
            if (e != MANIFEST_OK)
                return e;
        }
    }
    return MANIFEST_OK;
}

/* Does `name` equal device name d + suffix (one of its CapSet names)? */
static bool is_device_cap_name(struct manifest_str name, const struct manifest_device *d)
{
    for (unsigned k = 0; k < MANIFEST_DEVICE_CAPS; k++) {
        const char *suf = manifest_device_suffix[k];
        uint32_t sl = 0;
        while (suf[sl])
            sl++;
        if (name.len == d->name.len + sl && manifest_str_eq(d->name, name.str, d->name.len) &&
            manifest_str_eq((struct manifest_str){ name.str + d->name.len, sl }, suf, sl))
            return true;
    }
    return false;
}

static int check_devices(struct manifest *m, uint32_t self, struct manifest_error *err)
{
    struct manifest_service *s = &m->services[self];
    for (uint32_t k = 0; k < s->ndevices; k++) {
        struct manifest_device *d = &s->devices[k];
        if (!name_ok(d->name, false) || d->name.len > MANIFEST_MAX_DEVICE_NAME)
            return manifest_fail(err, MANIFEST_ERR_BAD_NAME, d->line,
                                 "bad device name \"%s\" (1 to %d of A-Z a-z 0-9 _ -)",
                                 manifest_show(d->name).s, MANIFEST_MAX_DEVICE_NAME);
        if (d->vendor == 0xffff)
            return manifest_fail(err, MANIFEST_ERR_BAD_DEVICE, d->line,
                                 "service \"%.*s\": device \"%.*s\": vendor ffff is no device",
                                 P(s->name), P(d->name));
        if (d->dma_pages == 0 || d->dma_pages > MANIFEST_MAX_DMA_PAGES)
            return manifest_fail(err, MANIFEST_ERR_BAD_DEVICE, d->line,
                                 "service \"%.*s\": device \"%.*s\": %u DMA pages (1 to %d)",
                                 P(s->name), P(d->name), d->dma_pages, MANIFEST_MAX_DMA_PAGES);
        for (uint32_t j = 0; j < k; j++)
            if (str_eq(s->devices[j].name, d->name))
                return manifest_fail(err, MANIFEST_ERR_DUP_GRANT, d->line,
                                     "service \"%.*s\": device \"%.*s\": duplicate name (first at line %u)",
                                     P(s->name), P(d->name), s->devices[j].line);
        for (uint32_t g = 0; g < s->ngrants; g++)
            if (is_device_cap_name(s->grants[g].name, d))
                return manifest_fail(err, MANIFEST_ERR_DUP_GRANT, d->line,
                                     "service \"%.*s\": device \"%.*s\": its caps clash with grant \"%.*s\" (line %u)",
                                     P(s->name), P(d->name), P(s->grants[g].name), s->grants[g].line);
        for (uint32_t x = 0; x < s->nexports; x++)
            if (is_device_cap_name(s->exports[x].name, d))
                return manifest_fail(err, MANIFEST_ERR_DUP_GRANT, d->line,
                                     "service \"%.*s\": device \"%.*s\": its caps clash with export \"%.*s\" (line %u)",
                                     P(s->name), P(d->name), P(s->exports[x].name), s->exports[x].line);
        /* one device, one driver: every earlier device of the manifest */
        for (uint32_t i = 0; i <= self; i++) {
            struct manifest_service *o = &m->services[i];
            for (uint32_t j = 0; j < (i == self ? k : o->ndevices); j++)
                if (o->devices[j].vendor == d->vendor && o->devices[j].device == d->device)
                    return manifest_fail(err, MANIFEST_ERR_DUP_DEVICE, d->line,
                                         "service \"%.*s\": device %04x:%04x already granted "
                                         "to \"%.*s\" (line %u)", P(s->name), d->vendor,
                                         d->device, P(o->name), o->devices[j].line);
        }
    }
    return MANIFEST_OK;
}

/* Pass 2, one service. */
static int check_service(struct manifest *m, uint32_t i, manifest_has_binary_fn has_binary,
                         void *ctx, struct manifest_error *err)
{
    struct manifest_service *s = &m->services[i];
    if (has_binary && !has_binary(ctx, s->binary.str, s->binary.len))
        return manifest_fail(err, MANIFEST_ERR_UNKNOWN_BINARY, s->line,
                             "service \"%.*s\": unknown binary \"%.*s\"",
                             P(s->name), P(s->binary));
    uint32_t sess = 0;
    while (sess < m->nsessions && !str_eq(m->sessions[sess].name, s->session_name))
        sess++;
    if (sess == m->nsessions)
        return manifest_fail(err, MANIFEST_ERR_UNKNOWN_SESSION, s->line,
                             "service \"%.*s\": unknown session \"%s\"", P(s->name),
                             manifest_show(s->session_name).s);
    s->session = (uint8_t)sess;
    if (s->restart > MANIFEST_RESTART_ALWAYS)
        return manifest_fail(err, MANIFEST_ERR_BAD_RESTART, s->line,
                             "service \"%.*s\": unknown restart policy %u",
                             P(s->name), s->restart);
    if (s->retries > MANIFEST_MAX_RETRIES)
        return manifest_fail(err, MANIFEST_ERR_BAD_RESTART, s->line,
                             "service \"%.*s\": %u retries (at most %d)",
                             P(s->name), s->retries, MANIFEST_MAX_RETRIES);
    int e = check_exports(s, err);
    if (e == MANIFEST_OK)
        e = check_grants(m, i, err);
    if (e == MANIFEST_OK)
        e = check_devices(m, i, err);
    return e;
}

int manifest_validate(struct manifest *m, manifest_has_binary_fn has_binary,
                      void *ctx, struct manifest_error *err)
{
    if (!m)
        return manifest_fail(err, MANIFEST_ERR_BAD_ARGUMENT, 0, "no manifest");
    /* a hand-filled struct could claim more than its arrays hold */
    if (m->nsessions > MANIFEST_MAX_SESSIONS || m->nservices > MANIFEST_MAX_SERVICES)
        return manifest_fail(err, MANIFEST_ERR_TOO_MANY, 0, "too many entries");
    for (uint32_t i = 0; i < m->nservices; i++)
        if (m->services[i].ngrants > MANIFEST_MAX_GRANTS ||
            m->services[i].nexports > MANIFEST_MAX_EXPORTS ||
            m->services[i].ndevices > MANIFEST_MAX_DEVICES)
            return manifest_fail(err, MANIFEST_ERR_TOO_MANY, m->services[i].line,
                                 "too many entries");
    int e = check_names(m, err);
    for (uint32_t i = 0; e == MANIFEST_OK && i < m->nservices; i++)
        e = check_service(m, i, has_binary, ctx, err);
    if (e == MANIFEST_OK)
        e = manifest_order(m, err);
    return e;
}

int manifest_load(struct manifest *m, const void *buf, size_t len,
                  manifest_has_binary_fn has_binary, void *ctx,
                  struct manifest_error *err)
{
    int e = manifest_decode(m, buf, len, err);
    if (e == MANIFEST_OK)
        e = manifest_validate(m, has_binary, ctx, err);
    return e;
}
