/*
 * libFuzzer target: lib/manifest's decode + validate over arbitrary bytes.
 * Whatever the input, the library must return a code, leave a terminated
 * message, and never read outside the input (ASan) or hit undefined
 * behaviour (UBSan).  On success the order must be a permutation of the
 * services with every provider before its clients.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static bool some_binaries(void *ctx, const char *name, size_t len)
{
    return len > 0 && name[0] != 'x'; /* some binaries are missing */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct manifest m;
    struct manifest_error err;
    int e = manifest_load(&m, data, size, some_binaries, NULL, &err);
    if (e != err.code || !memchr(err.msg, 0, sizeof err.msg))
        abort();
    if (e != MANIFEST_OK)
        return 0;
    uint32_t pos[MANIFEST_MAX_SERVICES];
    bool seen[MANIFEST_MAX_SERVICES] = { false };
    for (uint32_t i = 0; i < m.nservices; i++) {
        if (m.order[i] >= m.nservices || seen[m.order[i]])
            abort();
        seen[m.order[i]] = true;
        pos[m.order[i]] = i;
    }
    for (uint32_t i = 0; i < m.nservices; i++)
        for (uint32_t k = 0; k < m.services[i].ngrants; k++) {
            const struct manifest_grant *g = &m.services[i].grants[k];
            if (g->source == MANIFEST_SOURCE_SERVICE && pos[g->provider] >= pos[i])
                abort();
        }
    return 0;
}
