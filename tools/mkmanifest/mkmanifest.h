/* mkmanifest: the boot manifest's text, parsed, before it is encoded. */
#ifndef MKMANIFEST_H
#define MKMANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capos.capnp.h"

struct mk_grant {
    char *name;
    bool kernel;          /* kernel.CAP, else SERVICE.EXPORT */
    char *service, *cap;  /* service is "kernel" for a kernel cap */
    unsigned line;
};

struct mk_export {
    char *name;
    uint64_t interface_id;
    unsigned line;
};

struct mk_device {
    char *name;
    uint16_t vendor, device;
    uint32_t dma_pages;
    unsigned line;
};

struct mk_session {
    char *name, *principal, *profile;
    unsigned line;
};

struct mk_service {
    char *name, *binary, *session;
    char *args;           /* or NULL */
    uint16_t restart;     /* enum capos_RestartPolicy */
    uint32_t retries;
    bool disclose_principal, disclose_profile;
    struct mk_grant *grants;
    size_t ngrants;
    struct mk_export *exports;
    size_t nexports;
    struct mk_device *devices;
    size_t ndevices;
    unsigned line;
};

struct mk_manifest {
    struct mk_session *sessions;
    size_t nsessions;
    struct mk_service *services;
    size_t nservices;
};

/* Parse text (NUL-terminated) into m.  On a syntax error prints
 * "file:line: message" to stderr and returns -1. */
int mk_parse(struct mk_manifest *m, const char *file, const char *text,
             const capnp_interface_name *ifaces, size_t nifaces);

/* Encode m as a framed SystemManifest message into buf; returns its length,
 * or 0 when it does not fit. */
size_t mk_encode(const struct mk_manifest *m, void *buf, size_t cap);

#endif
