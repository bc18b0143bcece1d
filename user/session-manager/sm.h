/* session-manager: what main.c (the sessions, password and SSH logins)
 * and passkeys.c (the WebAuthn admission) share. */
#ifndef SESSION_MANAGER_H
#define SESSION_MANAGER_H

#include "rt/capos.h"
#include <sodium.h>

#define SLOTS 32
#define RECV_BUF 4608                   /* one call's params (a passkey registration's are the largest) */

struct sess {
    bool used;
    uint32_t gen;
    char principal[24], profile[16], method[12];
    uint64_t created, expires, idle;
    uint32_t ctx, shell;                /* our copy of its context; the watched shell's handle (~0u: none) */
};
extern struct sess slots[SLOTS];
extern uint32_t accounts;
extern struct rt_incoming in;

void audit_rec(const char *event, const char *reason, uint64_t session, const char *principal);
uint64_t badge_of(uint32_t s);
void text(capnp_text t, char *out, size_t cap);
const char *account_reason(bool found, capos_AccountStore_lookup_Results_reader lr, const char *profile, bool ssh);
uint16_t admit(const char *reason, const char *who, const char *profile, const char *method, uint32_t *facet,
               uint32_t *ctx);
void hand_out(capnp_sbuilder sb, uint32_t facet, uint32_t ctx, uint32_t *fi, uint32_t *ci);
int us_slot(void);
bool has_password(const struct sess *x);

/* passkeys.c */
int do_pk_challenge(void *self, capos_SessionManager_passkeyChallenge_Params_reader p,
                    capos_SessionManager_passkeyChallenge_Results_builder r);
int do_pk_login(void *self, capos_SessionManager_passkeyLogin_Params_reader p,
                capos_SessionManager_passkeyLogin_Results_builder r);
int do_pk_reg_challenge(void *self, capos_UserSession_passkeyChallenge_Params_reader p,
                        capos_UserSession_passkeyChallenge_Results_builder r);
int do_pk_register(void *self, capos_UserSession_passkeyRegister_Params_reader p,
                   capos_UserSession_passkeyRegister_Results_builder r);

#endif
