/* accounts: what main.c (the accounts, AccountAdmin) and passkeys.c (the
 * passkey records) share. */
#ifndef ACCOUNTS_H
#define ACCOUNTS_H

#include "rt/capos.h"
#include <sodium.h>

#define MAX 16
struct account {
    char principal[24];
    uint16_t status;
    char profiles[4][16];
    uint32_t nprofiles;
    uint8_t keys[4][32];
    uint32_t nkeys;
};

extern uint32_t store;          /* a Store namespace, ~0u: RAM only */
void audit_rec(const char *event, const char *reason, const char *principal);
uint16_t audited(const char *event, uint16_t res, const char *principal);
struct account *find(capnp_text who);

void passkeys_load(void);
int do_passkey_add(void *self, capos_AccountStore_passkeyAdd_Params_reader p,
                   capos_AccountStore_passkeyAdd_Results_builder r);
int do_passkey_find(void *self, capos_AccountStore_passkeyFind_Params_reader p,
                    capos_AccountStore_passkeyFind_Results_builder r);
int do_passkey_used(void *self, capos_AccountStore_passkeyUsed_Params_reader p,
                    capos_AccountStore_passkeyUsed_Results_builder r);

#endif
