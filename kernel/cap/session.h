#ifndef CAP_SESSION_H
#define CAP_SESSION_H
#include "kobj.h"

/* A session context: fixed for a process at spawn, never changed after. */
struct session {
    struct kobj obj;              /* SessionContext */
    uint64_t id;
    uint64_t epoch;
    bool live;
    char principal[32];
    char profile[32];
    uint64_t ref_scope;           /* the last caller reference derived, cached */
    uint64_t ref[2];
};

extern struct kobj session_authority_obj;          /* SessionAuthority */
bool session_init(void);                           /* boot key from entropy; false: none */
struct session *session_boot(void);                /* the "system" session init runs in */
struct session *session_from(struct kobj *o);      /* 0 if o is not a SessionContext */
/* 128-bit opaque caller reference: SipHash under the boot key of
 * (endpoint scope, session id). Stable, unforgeable, different per scope. */
void session_caller_ref(struct session *s, uint64_t scope, uint64_t out[2]);
uint64_t session_random_u64(void);
#endif
