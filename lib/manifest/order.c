/*
 * The spawn order: providers before their clients, and among services that
 * are ready at the same time, the one listed first (so the order is stable
 * and reads like the manifest).  When nothing is ready while some services
 * remain, they wait on each other: we walk their unmet dependencies until a
 * service repeats, which yields one cycle to name.
 */
#include "fmt.h"
#include "internal.h"

/* The first grant of service i from a provider not yet spawned, or -1. */
static int unmet(const struct manifest *m, uint32_t i, const bool *done)
{
    const struct manifest_service *s = &m->services[i];
    for (uint32_t k = 0; k < s->ngrants; k++)
        if (s->grants[k].source == MANIFEST_SOURCE_SERVICE && !done[s->grants[k].provider])
            return (int)k;
    return -1;
}

static int name_cycle(const struct manifest *m, const bool *done, struct manifest_error *err)
{
    int8_t pos[MANIFEST_MAX_SERVICES];
    uint8_t path[MANIFEST_MAX_SERVICES + 1];
    uint32_t len = 0, cur = 0;
    for (uint32_t i = 0; i < MANIFEST_MAX_SERVICES; i++)
        pos[i] = -1;
    while (cur < m->nservices && done[cur])
        cur++;
    /* Every service left has an unmet provider that is also left, so the
     * walk stays among them and must repeat within nservices steps. */
    while (pos[cur] < 0 && len < MANIFEST_MAX_SERVICES) {
        pos[cur] = (int8_t)len;
        path[len++] = (uint8_t)cur;
        int k = unmet(m, cur, done);
        if (k < 0)
            break; /* cannot happen: cur was not ready */
        cur = m->services[cur].grants[k].provider;
    }
    uint32_t first = pos[cur] >= 0 ? (uint32_t)pos[cur] : 0;

    /* Name it from its earliest-listed service, at the grant leading on. */
    uint32_t start = first;
    for (uint32_t i = first; i < len; i++)
        if (path[i] < path[start])
            start = i;
    uint32_t n = len - first;
    char chain[MANIFEST_MSG_MAX];
    size_t used = 0;
    for (uint32_t step = 0; step <= n && used < sizeof chain; step++) {
        const struct manifest_service *s = &m->services[path[first + (start - first + step) % n]];
        int w = fmt_snprintf(chain + used, sizeof chain - used, "%s%.*s",
                             step ? " -> " : "", (int)s->name.len, s->name.str);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    const struct manifest_service *head = &m->services[path[start]];
    int k = unmet(m, path[start], done);
    uint32_t line = k >= 0 ? head->grants[k].line : head->line;
    return manifest_fail(err, MANIFEST_ERR_CYCLE, line, "service \"%.*s\": dependency cycle: %s",
                         (int)head->name.len, head->name.str, chain);
}

int manifest_order(struct manifest *m, struct manifest_error *err)
{
    bool done[MANIFEST_MAX_SERVICES];
    for (uint32_t i = 0; i < MANIFEST_MAX_SERVICES; i++)
        done[i] = false;
    for (uint32_t n = 0; n < m->nservices; n++) {
        uint32_t i = 0;
        while (i < m->nservices && (done[i] || unmet(m, i, done) >= 0))
            i++;
        if (i == m->nservices)
            return name_cycle(m, done, err);
        done[i] = true;
        m->order[n] = (uint8_t)i;
    }
    return MANIFEST_OK;
}
