/*
 * libFuzzer target: the kernel's boot-package parser and BootPackage object
 * (kernel/cap/bootpkg.c), built for the host. The input is the package,
 * copied into an exactly sized buffer (a read past it is an ASan error).
 * Checked: every entry found lies inside the package; BootPackage's
 * manifestSize agrees with the parser; reading the manifest in chunks
 * through the object gives back exactly its bytes; binaries() lists at
 * most the package's entries; and every result is a valid message.
 */
#include <stdlib.h>
#include <string.h>
#include "cap/objects.h"
#include "capos/bootpkg.h"
#include "capos.capnp.h"

/* One call through the object, as the ring would make it: params built,
 * dispatched, the result checked to be a message. Returns the error. */
static uint8_t result[CAP_MAX_RESULT] __attribute__((aligned(8)));
static capnp_msg res;

static int call(uint16_t method, const void *params, size_t plen)
{
    struct call_ctx c = { .obj = &bootpkg_obj };
    c.sc = (capnp_server_call){ .interface_id = capos_BootPackage_ID, .method_id = method, .params = params,
                                .params_len = plen, .result = result, .result_cap = sizeof result };
    int e = bootpkg_obj.type->call(&bootpkg_obj, &c);
    if (e == CAPNP_OK && (capnp_msg_init(&res, result, c.sc.result_len) || capnp_msg_validate(&res)))
        abort();
    if (e == CAPNP_OK)
        capnp_msg_init(&res, result, c.sc.result_len);
    return e;
}

static uint8_t pbuf[256] __attribute__((aligned(8)));

static int read_chunk(uint64_t off, uint32_t max, capnp_data *out)
{
    capnp_builder b;
    size_t len;
    capnp_builder_init(&b, pbuf, sizeof pbuf);
    capos_BootPackage_readManifest_Params_builder p = capos_BootPackage_readManifest_Params_init_root(&b);
    capos_BootPackage_readManifest_Params_set_offset(p, off);
    capos_BootPackage_readManifest_Params_set_maxBytes(p, max);
    if (capnp_builder_finish(&b, &len))
        abort();
    int e = call(capos_BootPackage_METHOD_readManifest, pbuf, len);
    if (e == CAPNP_OK)
        *out = capos_BootPackage_readManifest_Results_get_data(capos_BootPackage_readManifest_Results_read_root(&res));
    return e;
}

static uint64_t empty_params(void)
{
    capnp_builder b;
    size_t len;
    capnp_builder_init(&b, pbuf, sizeof pbuf);
    capnp_builder_root(&b, 0, 0);
    if (capnp_builder_finish(&b, &len))
        abort();
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the kernel gets the package page-aligned; malloc's alignment is enough for its fields */
    uint8_t *pkg = malloc(size ? size : 1);
    memcpy(pkg, data, size);

    static const char *const names[] = { "init", "manifest", "", "capos-shell" };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = 0;
        const uint8_t *p = bootpkg_find(pkg, size, names[i], &n);
        if (p && (p < pkg || p > pkg + size || n > (size_t)(pkg + size - p)))
            abort();
        if (p && n)
            (void)*(volatile const uint8_t *)(p + n - 1);
    }

    size_t mlen = 0;
    const uint8_t *m = bootpkg_find(pkg, size, "manifest", &mlen);
    if (!m)
        mlen = 0;
    bootpkg_init(pkg, size);
    size_t plen = empty_params();
    if (call(capos_BootPackage_METHOD_manifestSize, pbuf, plen) != CAPNP_OK ||
        capos_BootPackage_manifestSize_Results_get_size(capos_BootPackage_manifestSize_Results_read_root(&res)) != mlen)
        abort();

    /* the whole manifest in chunks, each byte as the parser found it */
    uint32_t max = size ? data[0] * 16u + 1 : 2048;
    for (uint64_t off = 0; off < mlen;) {
        capnp_data d;
        if (read_chunk(off, max, &d) != CAPNP_OK || d.len == 0 || d.len > mlen - off || memcmp(d.ptr, m + off, d.len))
            abort();
        off += d.len;
    }
    capnp_data d;
    if (read_chunk(mlen, max, &d) != CAPNP_OK || d.len)
        abort();
    if (read_chunk(mlen + 1, max, &d) != CAP_ERR_INVALID_ARGUMENT || read_chunk(UINT64_MAX, 1, &d) != CAP_ERR_INVALID_ARGUMENT)
        abort();

    plen = empty_params();
    if (call(capos_BootPackage_METHOD_binaries, pbuf, plen) == CAPNP_OK) {
        capnp_list l = capos_BootPackage_binaries_Results_get_names(capos_BootPackage_binaries_Results_read_root(&res));
        const struct bootpkg_hdr *h = (const void *)pkg;
        if (l.count && (size < sizeof *h || l.count > h->count))
            abort();
        for (uint32_t i = 0; i < l.count; i++)
            if (capnp_list_text(l, i).len > BOOTPKG_NAME)      /* a name without its NUL: cut at the field */
                abort();
    }
    bootpkg_init(0, 0);
    free(pkg);
    return 0;
}
