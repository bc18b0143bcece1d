/*
 * accounts: passkeys.  Each is lib/webauthn's credential record as bytes
 * (wa_credential_encode, version 1: [2..3] id length, [4] key length,
 * [6..9] sign count, little-endian; the id from byte 26, the key after it)
 * with the principal it logs in, when it was made and when last used.
 * At most 4 per account, 16 in all.  Only the session manager holds the
 * AccountStore: it verifies a registration before adding it and a login
 * before marking it used; this service keeps the records.
 *
 * Durable like the accounts: slot N is the store key "pkey:N"; a change is
 * answered only once committed.
 */
#include "accounts.h"

#define PK_MAX 16
#define PK_PER_ACCOUNT 4
#define REC_FIXED 26u
#define REC_MAX (REC_FIXED + 255u + 64u)
#define PK_VERSION 1

struct passkey {
    uint8_t used;
    char principal[24];
    uint16_t rec_len;
    uint8_t rec[REC_MAX];
    uint64_t created_ns, last_used_ns;
};
static struct passkey pks[PK_MAX];

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The record's credential id, if the record is well-formed (lengths exact). */
static bool rec_id(const uint8_t *rec, size_t len, const uint8_t **id, uint16_t *id_len)
{
    if (len < REC_FIXED || len > REC_MAX || rec[0] != 1)
        return false;
    uint16_t il = le16(rec + 2);
    if (il == 0 || il > 255 || REC_FIXED + il + rec[4] != len)
        return false;
    *id = rec + REC_FIXED;
    *id_len = il;
    return true;
}

static struct passkey *by_id(const uint8_t *id, size_t len)
{
    for (uint32_t i = 0; i < PK_MAX; i++) {
        const uint8_t *pid;
        uint16_t pl;
        if (pks[i].used && rec_id(pks[i].rec, pks[i].rec_len, &pid, &pl) && pl == len && !memcmp(pid, id, len))
            return &pks[i];
    }
    return 0;
}

static bool save(uint32_t i, const struct passkey *k)
{
    if (store == ~0u)
        return true;
    char key[16];
    int kl = fmt_snprintf(key, sizeof key, "pkey:%u", i);
    uint8_t val[1 + sizeof *k];
    val[0] = PK_VERSION;
    memcpy(val + 1, k, sizeof *k);
    RT_BUFS(b, 1024, 128);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, 1);
    capos_StoreOp_builder o = capos_StoreOp_list_at(l, 0);
    capos_StoreOp_set_key(o, key, (size_t)kl);
    capos_StoreOp_set_value(o, val, sizeof val);
    capos_Store_commit_Results_reader r;
    int e = capos_Store_commit_send(&call, &r);
    return e == 0 && capos_Store_commit_Results_get_error(r) == capos_StoreError_none;
}

void passkeys_load(void)
{
    for (uint32_t i = 0; i < PK_MAX; i++) {
        char key[16];
        int kl = fmt_snprintf(key, sizeof key, "pkey:%u", i);
        RT_BUFS(g, 128, 1024);
        capnp_client gc = RT_CLIENT(store);
        capnp_call call;
        capos_Store_get_Results_reader gr;
        if (capos_Store_get(&gc, &g, &call, key, (size_t)kl, &gr) || capos_Store_get_Results_get_error(gr))
            continue;
        capnp_data v = capos_Store_get_Results_get_value(gr);
        struct passkey k;
        const uint8_t *id;
        uint16_t il;
        if (v.len != 1 + sizeof k || v.ptr[0] != PK_VERSION)
            continue;
        memcpy(&k, v.ptr + 1, sizeof k);
        k.principal[sizeof k.principal - 1] = 0;
        if (k.used && rec_id(k.rec, k.rec_len, &id, &il))
            pks[i] = k;
    }
}

int do_passkey_add(void *self, capos_AccountStore_passkeyAdd_Params_reader p,
                   capos_AccountStore_passkeyAdd_Results_builder r)
{
    capnp_text who = capos_AccountStore_passkeyAdd_Params_get_principal(p);
    capnp_data rec = capos_AccountStore_passkeyAdd_Params_get_record(p);
    struct account *a = find(who);
    const uint8_t *id;
    uint16_t il;
    uint16_t res = capos_AdminResult_ok;
    uint32_t mine = 0, slot = PK_MAX;
    for (uint32_t i = 0; i < PK_MAX; i++) {
        if (pks[i].used && a && !strcmp(pks[i].principal, a->principal))
            mine++;
        if (!pks[i].used && slot == PK_MAX)
            slot = i;
    }
    if (!a)
        res = capos_AdminResult_notFound;
    else if (!rec_id(rec.ptr, rec.len, &id, &il))
        res = capos_AdminResult_badKey;
    else if (by_id(id, il))
        res = capos_AdminResult_keyExists;
    else if (mine >= PK_PER_ACCOUNT || slot == PK_MAX)
        res = capos_AdminResult_full;
    if (res == capos_AdminResult_ok) {
        struct passkey k = { .used = 1, .rec_len = (uint16_t)rec.len,
                             .created_ns = capos_AccountStore_passkeyAdd_Params_get_createdNs(p) };
        memcpy(k.principal, a->principal, sizeof k.principal);
        memcpy(k.rec, rec.ptr, rec.len);
        if (!save(slot, &k))
            return CAP_ERR_INVOKE_FAILED;                /* not durable: unchanged */
        pks[slot] = k;
    }
    capos_AccountStore_passkeyAdd_Results_set_result(r, audited("passkey-add", res, a ? a->principal : ""));
    return CAPNP_OK;
}

int do_passkey_find(void *self, capos_AccountStore_passkeyFind_Params_reader p,
                    capos_AccountStore_passkeyFind_Results_builder r)
{
    capnp_data id = capos_AccountStore_passkeyFind_Params_get_credentialId(p);
    struct passkey *k = by_id(id.ptr, id.len);
    capos_AccountStore_passkeyFind_Results_set_found(r, k != 0);
    if (k) {
        capos_AccountStore_passkeyFind_Results_set_principal(r, k->principal, strlen(k->principal));
        capos_AccountStore_passkeyFind_Results_set_record(r, k->rec, k->rec_len);
        capos_AccountStore_passkeyFind_Results_set_createdNs(r, k->created_ns);
        capos_AccountStore_passkeyFind_Results_set_lastUsedNs(r, k->last_used_ns);
    }
    return CAPNP_OK;
}

int do_passkey_used(void *self, capos_AccountStore_passkeyUsed_Params_reader p,
                    capos_AccountStore_passkeyUsed_Results_builder r)
{
    capnp_data id = capos_AccountStore_passkeyUsed_Params_get_credentialId(p);
    struct passkey *k = by_id(id.ptr, id.len);
    uint16_t res = capos_AdminResult_noSuchKey;
    if (k) {
        struct passkey t = *k;
        uint32_t c = capos_AccountStore_passkeyUsed_Params_get_signCount(p);
        t.rec[6] = (uint8_t)c, t.rec[7] = (uint8_t)(c >> 8), t.rec[8] = (uint8_t)(c >> 16), t.rec[9] = (uint8_t)(c >> 24);
        t.last_used_ns = capos_AccountStore_passkeyUsed_Params_get_usedNs(p);
        if (!save((uint32_t)(k - pks), &t))
            return CAP_ERR_INVOKE_FAILED;
        *k = t;
        res = capos_AdminResult_ok;
    }
    capos_AccountStore_passkeyUsed_Results_set_result(r, res);
    return CAPNP_OK;
}
