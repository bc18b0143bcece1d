/*
 * The boot package (abi/capos/bootpkg.h): the one parser of its table, and
 * BootPackage, init's read-only view of it.
 *   manifestSize() -> size                 bytes of the "manifest" entry (0: none)
 *   readManifest(offset, maxBytes) -> data a bounded chunk of it
 *   binaries() -> names                    every entry's name
 */
#include "objects.h"
#include "capos/bootpkg.h"
#include "c/string.h"

static const uint8_t *pkg;
static size_t pkg_size;

/* The entries of a package whose header and table lie inside its bytes;
 * 0 when it is not one (bad magic, a table past the end). */
static uint32_t bootpkg_count(const void *p, size_t size)
{
    const struct bootpkg_hdr *h = p;
    if (!p || size < sizeof *h || memcmp(h->magic, BOOTPKG_MAGIC, 8))
        return 0;
    if (h->count > (size - sizeof *h) / sizeof(struct bootpkg_entry))
        return 0;
    return h->count;
}

/* The bytes of the entry `name` (NUL-terminated inside its field, and
 * inside the package), or 0. */
const void *bootpkg_find(const void *p, size_t size, const char *name, size_t *elf_size)
{
    uint32_t n = bootpkg_count(p, size);
    const struct bootpkg_entry *e = (const void *)((const struct bootpkg_hdr *)p + 1);
    for (uint32_t i = 0; i < n; i++) {
        if (strncmp(e[i].name, name, BOOTPKG_NAME) || e[i].name[BOOTPKG_NAME - 1])
            continue;
        if (e[i].offset > size || e[i].size > size - e[i].offset)
            return 0;
        *elf_size = e[i].size;
        return (const uint8_t *)p + e[i].offset;
    }
    return 0;
}

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
    if (n)                                   /* no manifest: m is null and nothing is read */
        capos_BootPackage_readManifest_Results_set_data(r, m + off, n);
    return CAPNP_OK;
}

static int bp_binaries(void *self, capos_BootPackage_binaries_Params_reader p, capos_BootPackage_binaries_Results_builder r)
{
    uint32_t n = bootpkg_count(pkg, pkg_size);     /* the table read is inside the package */
    if (n > 64)
        n = 64;
    const struct bootpkg_entry *e = (const void *)((const struct bootpkg_hdr *)pkg + 1);
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
