/*
 * accounts: the AccountStore service, RAM-backed, seeded from its manifest
 * args: space-separated PRINCIPAL:STATUS:PROFILE[,PROFILE...] entries, e.g.
 *   args admin:active:operator,guest bob:locked:operator
 * STATUS is active, disabled, locked or recovery. An entry
 * key:PRINCIPAL:ssh-ed25519:BASE64 authorizes an Ed25519 key for an account
 * listed before it: the first two fields of the line ssh-keygen writes
 * (`ssh-ed25519 AAAAC3Nza... comment`), joined by ':' since args split on
 * blanks. key:PRINCIPAL:BASE64 of the 32 raw key bytes works too.
 */
#include "rt/capos.h"
#include <sodium.h>

#define MAX 16
struct account {
    char principal[24];
    uint16_t status;
    char profiles[4][16];
    uint32_t nprofiles;
    uint8_t keys[2][32];
    uint32_t nkeys;
};
static struct account accts[MAX];
static uint32_t naccts;

/* "ssh-ed25519:BASE64" (the SSH wire blob: string "ssh-ed25519", string
 * key) or BASE64 of the 32 raw bytes; false if it is neither. */
static bool parse_key(const char *v, uint8_t key[32])
{
    uint8_t blob[64];
    size_t n = 0;
    bool ssh = !strncmp(v, "ssh-ed25519:", 12);
    if (ssh)
        v += 12;
    if (sodium_base642bin(blob, sizeof blob, v, strlen(v), 0, &n, 0, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    static const uint8_t prefix[19] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };
    if (ssh && n == 51 && !memcmp(blob, prefix, sizeof prefix)) {
        memcpy(key, blob + 19, 32);
        return true;
    }
    if (!ssh && n == 32) {
        memcpy(key, blob, 32);
        return true;
    }
    return false;
}

static void seed(const char *args)
{
    char buf[CAPSET_ARGS];
    strlcpy(buf, args, sizeof buf);
    for (char *e = buf; *e && naccts < MAX;) {
        char *end = strchr(e, ' ');
        if (end)
            *end = 0;
        char *st = strchr(e, ':'), *pf = st ? strchr(st + 1, ':') : 0;
        if (st && pf && !strncmp(e, "key:", 4)) {
            *pf++ = 0;
            uint8_t key[32];
            if (parse_key(pf, key)) {
                for (uint32_t i = 0; i < naccts; i++) {
                    struct account *a = &accts[i];
                    if (!strcmp(a->principal, st + 1) && a->nkeys < 2)
                        memcpy(a->keys[a->nkeys++], key, 32);
                }
            }
        } else if (st && pf) {
            *st++ = 0;
            *pf++ = 0;
            struct account *a = &accts[naccts];
            strlcpy(a->principal, e, sizeof a->principal);
            a->status = !strcmp(st, "active") ? capos_AccountStatus_active
                      : !strcmp(st, "locked") ? capos_AccountStatus_locked
                      : !strcmp(st, "recovery") ? capos_AccountStatus_recoveryOnly
                                                : capos_AccountStatus_disabled;   /* unknown words fail closed */
            for (char *p = pf; p && *p && a->nprofiles < 4;) {
                char *comma = strchr(p, ',');
                if (comma)
                    *comma = 0;
                strlcpy(a->profiles[a->nprofiles++], p, sizeof a->profiles[0]);
                p = comma ? comma + 1 : 0;
            }
            naccts++;
        }
        if (!end)
            break;
        e = end + 1;
    }
}

static int do_lookup(void *self, capos_AccountStore_lookup_Params_reader p, capos_AccountStore_lookup_Results_builder r)
{
    capnp_text who = capos_AccountStore_lookup_Params_get_principal(p);
    for (uint32_t i = 0; i < naccts; i++) {
        struct account *a = &accts[i];
        if (strlen(a->principal) != who.len || memcmp(a->principal, who.str, who.len))
            continue;
        capos_AccountStore_lookup_Results_set_found(r, true);
        capos_AccountStore_lookup_Results_set_status(r, a->status);
        capnp_lbuilder l = capos_AccountStore_lookup_Results_init_profiles(r, a->nprofiles);
        for (uint32_t k = 0; k < a->nprofiles; k++)
            capnp_lset_text(l, k, a->profiles[k], strlen(a->profiles[k]));
        capnp_lbuilder kl = capos_AccountStore_lookup_Results_init_keys(r, a->nkeys);
        for (uint32_t k = 0; k < a->nkeys; k++)
            capnp_lset_data(kl, k, a->keys[k], 32);
        return CAPNP_OK;
    }
    capos_AccountStore_lookup_Results_set_found(r, false);
    return CAPNP_OK;
}

static const capos_AccountStore_server server = { .lookup = do_lookup };

int main(void)
{
    uint32_t owner = rt_capset_require("accounts");
    seed(rt_capset->args);
    struct rt_incoming in;
    return rt_serve_forever(owner, capos_AccountStore_dispatch_any, &server, &in);
}
