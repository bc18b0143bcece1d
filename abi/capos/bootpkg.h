/* The boot package: the programs the kernel can start, packed by tools/mkpkg
 * into the one boot module. */
#ifndef CAPOS_BOOTPKG_H
#define CAPOS_BOOTPKG_H
#include <stdint.h>

#define BOOTPKG_MAGIC "CAPOSPKG"
#define BOOTPKG_NAME  32

struct bootpkg_hdr {
    char     magic[8];
    uint32_t count;
    uint32_t _pad;
};
struct bootpkg_entry {
    char     name[BOOTPKG_NAME];   /* NUL-terminated */
    uint64_t offset;               /* from the start of the package */
    uint64_t size;
};

/* ProcessSpawner.spawn params (until the schema codec lands):
 *   struct spawn_params, then ngrants x struct spawn_grant_desc, then the
 *   binary name (name_len bytes, no NUL). Result: no payload, one result cap
 *   (the child's ProcessHandle). */
struct spawn_params {
    uint32_t name_len;
    uint32_t ngrants;
};
struct spawn_grant_desc {
    char     name[24];             /* name in the child's CapSet, NUL-terminated */
    uint32_t cap_id;               /* a cap of the caller's, copied to the child */
    uint32_t _pad;
};
#endif
