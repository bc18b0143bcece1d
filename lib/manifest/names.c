/*
 * The constant tables of lib/manifest: the kernel caps init can grant and
 * the names of the error codes.  Both are read-only data, never state.
 */
#include "manifest.h"

static const char *const kernel_caps[MANIFEST_KCAP_COUNT] = {
#define MANIFEST_KCAP_NAME(id, name) [MANIFEST_KCAP_##id] = name,
    MANIFEST_KERNEL_CAPS(MANIFEST_KCAP_NAME)
#undef MANIFEST_KCAP_NAME
};

static const char *const init_caps[MANIFEST_ICAP_COUNT] = {
#define MANIFEST_ICAP_NAME(id, name) [MANIFEST_ICAP_##id] = name,
    MANIFEST_INIT_CAPS(MANIFEST_ICAP_NAME)
#undef MANIFEST_ICAP_NAME
};

const char *const manifest_device_suffix[MANIFEST_DEVICE_CAPS] = { "-mmio", "-dma", "-irq" };

const char *manifest_kernel_cap_name(unsigned cap)
{
    return cap < MANIFEST_KCAP_COUNT ? kernel_caps[cap] : NULL;
}

bool manifest_str_eq(struct manifest_str s, const char *name, size_t len)
{
    if (s.len != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s.str[i] != name[i])
            return false;
    return true;
}

static int find_in(const char *const *table, unsigned count, const char *name, size_t len)
{
    for (unsigned i = 0; i < count; i++) {
        const char *k = table[i];
        size_t n = 0;
        while (k[n])
            n++;
        struct manifest_str s = { k, (uint32_t)n };
        if (manifest_str_eq(s, name, len))
            return (int)i;
    }
    return -1;
}

int manifest_kernel_cap_find(const char *name, size_t len)
{
    return find_in(kernel_caps, MANIFEST_KCAP_COUNT, name, len);
}

int manifest_init_cap_find(const char *name, size_t len)
{
    return find_in(init_caps, MANIFEST_ICAP_COUNT, name, len);
}

static const char *const errors[] = {
    [MANIFEST_OK] = "ok",
    [MANIFEST_ERR_MALFORMED] = "malformed",
    [MANIFEST_ERR_TOO_MANY] = "too many",
    [MANIFEST_ERR_BAD_NAME] = "bad name",
    [MANIFEST_ERR_DUP_SESSION] = "duplicate session",
    [MANIFEST_ERR_DUP_SERVICE] = "duplicate service",
    [MANIFEST_ERR_DUP_GRANT] = "duplicate grant",
    [MANIFEST_ERR_DUP_EXPORT] = "duplicate export",
    [MANIFEST_ERR_UNKNOWN_BINARY] = "unknown binary",
    [MANIFEST_ERR_UNKNOWN_SESSION] = "unknown session",
    [MANIFEST_ERR_UNKNOWN_KERNEL_CAP] = "unknown kernel cap",
    [MANIFEST_ERR_NO_PROVIDER] = "no provider",
    [MANIFEST_ERR_SELF_GRANT] = "self grant",
    [MANIFEST_ERR_CYCLE] = "cycle",
    [MANIFEST_ERR_BAD_RESTART] = "bad restart",
    [MANIFEST_ERR_BAD_ARGUMENT] = "bad argument",
    [MANIFEST_ERR_DUP_DEVICE] = "duplicate device",
    [MANIFEST_ERR_BAD_DEVICE] = "bad device",
};

const char *manifest_strerror(int err)
{
    if (err < 0 || (size_t)err >= sizeof errors / sizeof errors[0] || !errors[err])
        return "unknown";
    return errors[err];
}
