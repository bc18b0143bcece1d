/*
 * BootPackage: init's read-only view of the boot package.
 *   manifestSize() -> size                 bytes of the "manifest" entry (0: none)
 *   readManifest(offset, maxBytes) -> data a bounded chunk of it
 *   binaries() -> names                    every entry's name
 */
#include "objects.h"
#include "capos/bootpkg.h"
#include "c/string.h"

static const uint8_t *pkg;
static size_t pkg_size;

void bootpkg_init(const void *p, size_t size)
{
    pkg = p;
    pkg_size = size;
}

static const uint8_t *manifest(size_t *len)
{
    const uint8_t *m = pkg ? bootpkg_find(pkg, pkg_size, "manifest", len) : 0;
    if (!m)
        *len = 0;
    return m;
}

static int bp_size(void *self, capos_BootPackage_manifestSize_Params_reader p, capos_BootPackage_manifestSize_Results_builder r)
{
    size_t len;
    manifest(&len);
    capos_BootPackage_manifestSize_Results_set_size(r, len);
    return CAPNP_OK;
}

static int bp_read(void *self, capos_BootPackage_readManifest_Params_reader p, capos_BootPackage_readManifest_Results_builder r)
{
    size_t len;
    const uint8_t *m = manifest(&len);
    uint64_t off = capos_BootPackage_readManifest_Params_get_offset(p);
    uint32_t max = capos_BootPackage_readManifest_Params_get_maxBytes(p);
    if (max > 2048)
        max = 2048;                          /* a chunk fits any result buffer the ring allows */
    if (off > len)
        return CAP_ERR_INVALID_ARGUMENT;
    size_t n = len - off < max ? len - off : max;
    capos_BootPackage_readManifest_Results_set_data(r, m + off, n);
    return CAPNP_OK;
}

static int bp_binaries(void *self, capos_BootPackage_binaries_Params_reader p, capos_BootPackage_binaries_Results_builder r)
{
    const struct bootpkg_hdr *h = (const void *)pkg;
    uint32_t n = h ? h->count : 0;
    if (n > 64)
        n = 64;
    const struct bootpkg_entry *e = (const void *)(h + 1);
    capnp_lbuilder l = capos_BootPackage_binaries_Results_init_names(r, n);
    for (uint32_t i = 0; i < n; i++)
        capnp_lset_text(l, i, e[i].name, strnlen(e[i].name, BOOTPKG_NAME));
    return CAPNP_OK;
}

static const capos_BootPackage_server bp_server = {
    .manifestSize = bp_size, .readManifest = bp_read, .binaries = bp_binaries,
};
static int bp_call(struct kobj *o, struct call_ctx *c) { return capos_BootPackage_dispatch(&bp_server, c, &c->sc); }
static const struct kobj_type bp_type = { "BootPackage", capos_BootPackage_ID, bp_call, 0 };
struct kobj bootpkg_obj = KOBJ_STATIC(bp_type, capos_BootPackage_ID);
