/*
 * manifest: decode and validate the boot manifest (a SystemManifest message,
 * schema/capos.capnp) and compute the order in which init spawns services.
 *
 * init calls manifest_load() on the manifest from the boot package before it
 * spawns anything.  Either the whole graph is sound and `order` lists every
 * service with its providers first, or nothing may be spawned and the error
 * names the manifest line at fault.
 *
 * Freestanding: no allocation, no globals, no libc.  Everything lives in the
 * caller's struct manifest, whose arrays have the fixed bounds below.  Text
 * fields point into the message buffer, which must outlive the struct.
 */
#ifndef CAPOS_MANIFEST_H
#define CAPOS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds: a manifest over any of them is refused (MANIFEST_ERR_TOO_MANY). */
#define MANIFEST_MAX_SERVICES 32
#define MANIFEST_MAX_SESSIONS 8
#define MANIFEST_MAX_GRANTS   16  /* per service */
#define MANIFEST_MAX_EXPORTS  8   /* per service */
#define MANIFEST_MAX_NAME     23  /* bytes of any name; a CapSet name is 24 with its NUL */
#define MANIFEST_MAX_RETRIES  100 /* restart count bound */
#define MANIFEST_DEFAULT_RETRIES 3
#define MANIFEST_MSG_MAX      160 /* bytes of an error message, with its NUL */
#define MANIFEST_MAX_DEVICES  2   /* per service */
#define MANIFEST_MAX_DEVICE_NAME 18 /* NAME-mmio, NAME-dma, NAME-irq fit a CapSet name */
#define MANIFEST_MAX_DMA_PAGES 1024 /* a DMAPool's quota */
#define MANIFEST_DEFAULT_DMA_PAGES 64

/* The kernel caps init can hand out: the one list, in one place.  X(ID, name)
 * where name is what follows "kernel." in the manifest.  Append only: the
 * index is the enum value init maps to its own cap. */
#define MANIFEST_KERNEL_CAPS(X) \
    X(CONSOLE, "console")       \
    X(TIMER, "timer")           \
    X(MEMORY, "memory")         \
    X(SPAWNER, "spawner")       \
    X(POWER, "power")           \
    X(ENDPOINTS, "endpoints")   \
    X(SESSIONS, "sessions")     \
    X(TERMINAL, "terminal")     \
    X(STATS, "stats")

enum manifest_kernel_cap {
#define MANIFEST_KCAP_ENUM(id, name) MANIFEST_KCAP_##id,
    MANIFEST_KERNEL_CAPS(MANIFEST_KCAP_ENUM)
#undef MANIFEST_KCAP_ENUM
    MANIFEST_KCAP_COUNT
};

/* The name of a kernel cap ("console"), or NULL when out of range. */
const char *manifest_kernel_cap_name(unsigned cap);
/* The kernel cap called name[0..len), or -1. */
int manifest_kernel_cap_find(const char *name, size_t len);

/* Stable error codes: the numbers are part of the API, never renumber. */
enum manifest_err {
    MANIFEST_OK = 0,
    MANIFEST_ERR_MALFORMED = 1,        /* the message does not decode */
    MANIFEST_ERR_TOO_MANY = 2,         /* over a MANIFEST_MAX_* bound */
    MANIFEST_ERR_BAD_NAME = 3,         /* empty, too long, bad character, reserved */
    MANIFEST_ERR_DUP_SESSION = 4,
    MANIFEST_ERR_DUP_SERVICE = 5,
    MANIFEST_ERR_DUP_GRANT = 6,        /* two grants of one name in a service */
    MANIFEST_ERR_DUP_EXPORT = 7,       /* two exports of one name in a service */
    MANIFEST_ERR_UNKNOWN_BINARY = 8,   /* not a program of the boot package */
    MANIFEST_ERR_UNKNOWN_SESSION = 9,
    MANIFEST_ERR_UNKNOWN_KERNEL_CAP = 10,
    MANIFEST_ERR_NO_PROVIDER = 11,     /* no service provides SERVICE.EXPORT */
    MANIFEST_ERR_SELF_GRANT = 12,      /* a service granted its own export */
    MANIFEST_ERR_CYCLE = 13,           /* services depend on each other in a ring */
    MANIFEST_ERR_BAD_RESTART = 14,     /* unknown policy, or retries over the bound */
    MANIFEST_ERR_BAD_ARGUMENT = 15,    /* NULL arguments to manifest_load */
    MANIFEST_ERR_DUP_DEVICE = 16,      /* one vendor:device granted twice in the manifest */
    MANIFEST_ERR_BAD_DEVICE = 17,      /* vendor 0xffff, or a DMA quota of 0 or over the bound */
};

/* Short constant name of a code ("cycle"), "unknown" if not one. */
const char *manifest_strerror(int err);

struct manifest_error {
    int code;                  /* enum manifest_err */
    uint32_t line;             /* manifest line at fault, 0 when none */
    char msg[MANIFEST_MSG_MAX]; /* "line 7: service \"echo\": ..." */
};

/* A decoded string: points into the message, NUL-terminated there. */
struct manifest_str {
    const char *str;
    uint32_t len;
};

enum manifest_restart {
    MANIFEST_RESTART_NEVER = 0,
    MANIFEST_RESTART_ON_FAILURE = 1,
    MANIFEST_RESTART_ALWAYS = 2,
};

enum manifest_source {
    MANIFEST_SOURCE_KERNEL = 0,  /* kernel_cap says which */
    MANIFEST_SOURCE_SERVICE = 1, /* provider / export say whose */
    MANIFEST_SOURCE_INIT = 2,    /* "init.X": init serves it; init_cap says which */
};

/* What init itself serves, granted as "init.NAME" (written like a service
 * export, so no service may be called "init").  X(ID, name). */
#define MANIFEST_INIT_CAPS(X) \
    X(SERVICES, "services")

enum manifest_init_cap {
#define MANIFEST_ICAP_ENUM(id, name) MANIFEST_ICAP_##id,
    MANIFEST_INIT_CAPS(MANIFEST_ICAP_ENUM)
#undef MANIFEST_ICAP_ENUM
    MANIFEST_ICAP_COUNT
};

/* The init cap called name[0..len), or -1. */
int manifest_init_cap_find(const char *name, size_t len);

struct manifest_grant {
    struct manifest_str name;     /* name in the service's CapSet */
    uint32_t line;
    uint8_t source;               /* enum manifest_source */
    /* as written: kernel cap name, or service and export names */
    struct manifest_str kernel, service, export_;
    /* resolved by validation */
    uint8_t kernel_cap;           /* enum manifest_kernel_cap */
    uint8_t init_cap;             /* enum manifest_init_cap */
    uint8_t provider;             /* index into services[] */
    uint8_t export_index;         /* index into services[provider].exports[] */
};

struct manifest_export {
    struct manifest_str name;     /* the owner side's name in the CapSet */
    uint64_t interface_id;
    uint32_t line;
};

/* A PCI device granted to the service: NAME-mmio, NAME-dma, NAME-irq. */
struct manifest_device {
    struct manifest_str name;
    uint16_t vendor, device;
    uint32_t dma_pages;
    uint32_t line;
};

struct manifest_session {
    struct manifest_str name, principal, profile;
    uint32_t line;
};

struct manifest_service {
    struct manifest_str name, binary, session_name;
    struct manifest_str args;     /* its CapSet args (empty when none) */
    uint32_t line;
    uint16_t restart;             /* enum manifest_restart (as on the wire until validated) */
    uint32_t retries;
    bool disclose_principal, disclose_profile;
    uint8_t session;              /* index into sessions[], after validation */
    uint32_t ngrants, nexports, ndevices;
    struct manifest_grant grants[MANIFEST_MAX_GRANTS];
    struct manifest_export exports[MANIFEST_MAX_EXPORTS];
    struct manifest_device devices[MANIFEST_MAX_DEVICES];
};

/* The CapSet names of device d's caps: NAME-mmio, NAME-dma, NAME-irq. */
#define MANIFEST_DEVICE_CAPS 3
extern const char *const manifest_device_suffix[MANIFEST_DEVICE_CAPS];

/* About 51 KiB on x86_64: keep it static or on the heap, not on a small
 * stack. */
struct manifest {
    uint32_t nsessions, nservices;
    struct manifest_session sessions[MANIFEST_MAX_SESSIONS];
    struct manifest_service services[MANIFEST_MAX_SERVICES];
    /* after validation: spawn order, indices into services[] */
    uint8_t order[MANIFEST_MAX_SERVICES];
};

/* Is there a program called name[0..len) in the boot package? */
typedef bool (*manifest_has_binary_fn)(void *ctx, const char *name, size_t len);

/* Decode a framed SystemManifest message into m (no semantic checks).
 * buf must stay alive while m is used. */
int manifest_decode(struct manifest *m, const void *buf, size_t len,
                    struct manifest_error *err);

/* Validate a decoded manifest and fill m->order.  has_binary answers for the
 * boot package; it may be NULL to skip the binary check (host tools). */
int manifest_validate(struct manifest *m, manifest_has_binary_fn has_binary,
                      void *ctx, struct manifest_error *err);

/* Both: what init calls.  Returns MANIFEST_OK or the code also left in
 * err->code (err->msg names the line at fault). */
int manifest_load(struct manifest *m, const void *buf, size_t len,
                  manifest_has_binary_fn has_binary, void *ctx,
                  struct manifest_error *err);

/* Equality of a decoded string with name[0..len). */
bool manifest_str_eq(struct manifest_str s, const char *name, size_t len);

#endif
