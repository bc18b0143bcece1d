/*
 * accounts: the AccountStore service, RAM-backed, seeded from its manifest
 * args: space-separated PRINCIPAL:STATUS:PROFILE[,PROFILE...] entries, e.g.
 *   args admin:active:operator,guest bob:locked:operator
 * STATUS is active, disabled, locked or recovery. An entry
 * key:PRINCIPAL:ssh-ed25519:BASE64 authorizes an Ed25519 key for an account
 * listed before it: the first two fields of the line ssh-keygen writes
 * (`ssh-ed25519 AAAAC3Nza... comment`), joined by ':' since args split on
 * blanks. key:PRINCIPAL:BASE64 of the 32 raw key bytes works too.
 *
 * Its second export, "admin" (AccountAdmin), is how operators change the
 * accounts: add one with its profiles, disable or enable it, add or remove
 * an authorized key as ssh-keygen writes it. Every change and every
 * refusal goes to the audit log (grant "audit"); the account's principal
 * is named for a change only.
 *
 * With a "store" cap (a Store namespace of user/store) the accounts are
 * durable: each is the key "acct:<principal>", loaded at start (the args
 * seed a store that holds no account yet, in one commit); a change is
 * answered only once committed, and a commit that fails fails the call and
 * changes nothing. Without one, RAM only.
 *
 * Passkeys (WebAuthn credential records, for the session manager's passkey
 * logins): passkeys.c.
 */
#include "accounts.h"
#include "keys.h"
static struct account accts[MAX];
static uint32_t naccts;

/* ---- the store ---- */

#define REC_VERSION 1
uint32_t store = ~0u;              /* also passkeys.c's */

/* Add account a's record to the ops of a commit being built. */
static void rec_op(capnp_lbuilder l, uint32_t i, const struct account *a)
{
    char key[32] = "acct:";
    size_t plen = strlen(a->principal);
    memcpy(key + 5, a->principal, plen);
    uint8_t val[1 + sizeof *a];
    val[0] = REC_VERSION;
    memcpy(val + 1, a, sizeof *a);
    capos_StoreOp_builder o = capos_StoreOp_list_at(l, i);
    capos_StoreOp_set_key(o, key, 5 + plen);
    capos_StoreOp_set_value(o, val, sizeof val);
}

/* Commit the records of accounts[0..n) in one commit (true without a store). */
static bool save(const struct account *const *list, uint32_t n)
{
    if (store == ~0u || n == 0)
        return true;
    RT_BUFS(b, 4096, 128);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, n);
    for (uint32_t i = 0; i < n; i++)
        rec_op(l, i, list[i]);
    capos_Store_commit_Results_reader r;
    int e = capos_Store_commit_send(&call, &r);
    return e == 0 && capos_Store_commit_Results_get_error(r) == capos_StoreError_none;
}

static bool save_one(const struct account *a) { return save(&a, 1); }

/* Load every account the store holds; false if the store does not answer. */
static bool load(void)
{
    uint32_t cursor = 0;
    do {
        RT_BUFS(b, 128, 4096);
        capnp_client cl = RT_CLIENT(store);
        capnp_call call;
        capos_Store_list_Results_reader lr;
        if (capos_Store_list(&cl, &b, &call, cursor, &lr))
            return false;
        capnp_list keys = capos_Store_list_Results_get_keys(lr);
        cursor = capos_Store_list_Results_get_cursor(lr);
        for (uint32_t i = 0; i < keys.count && naccts < MAX; i++) {
            capnp_data k = capnp_list_data(keys, i);
            if (k.len <= 5 || memcmp(k.ptr, "acct:", 5))
                continue;
            RT_BUFS(g, 128, 1024);
            capnp_client gc = RT_CLIENT(store);
            capnp_call gcall;               /* the list's call still backs `keys` */
            capos_Store_get_Results_reader gr;
            if (capos_Store_get(&gc, &g, &gcall, k.ptr, k.len, &gr) || capos_Store_get_Results_get_error(gr))
                continue;
            capnp_data v = capos_Store_get_Results_get_value(gr);
            struct account a;
            if (v.len != 1 + sizeof a || v.ptr[0] != REC_VERSION)
                continue;
            memcpy(&a, v.ptr + 1, sizeof a);
            a.principal[sizeof a.principal - 1] = 0;
            if (a.nprofiles > 4 || a.nkeys > 4 || strlen(a.principal) != k.len - 5)
                continue;
            for (uint32_t q = 0; q < 4; q++)
                a.profiles[q][sizeof a.profiles[q] - 1] = 0;
            accts[naccts++] = a;
        }
    } while (cursor);
    return true;
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
            if (key_parse(pf, key)) {
                for (uint32_t i = 0; i < naccts; i++) {
                    struct account *a = &accts[i];
                    if (!strcmp(a->principal, st + 1) && a->nkeys < 4)
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

/* ---- AccountAdmin ---- */

static uint32_t audit = ~0u;

void audit_rec(const char *event, const char *reason, const char *principal)
{
    if (audit == ~0u)
        return;
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_recordNamed_Results_reader r;
    capos_AuditLog_recordNamed(&cl, &b, &call, event, strlen(event), reason, strlen(reason), 0, principal,
                               strlen(principal), &r);
}

static const char *const result_codes[] = { "ok", "exists", "not-found", "bad-name", "bad-profile", "bad-key", "full",
                                            "key-exists", "no-such-key" };

/* Audit a change (named) or a refusal (its reason, nobody named). */
uint16_t audited(const char *event, uint16_t res, const char *principal)
{
    if (res == capos_AdminResult_ok) {
        audit_rec(event, "ok", principal);
    } else {
        char ev[48];
        fmt_snprintf(ev, sizeof ev, "%s-denied", event);
        audit_rec(ev, result_codes[res], "");
    }
    return res;
}

static bool name_ok(capnp_text t)
{
    if (t.len == 0 || t.len >= sizeof accts[0].principal)
        return false;
    for (uint32_t i = 0; i < t.len; i++) {
        char c = t.str[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool profile_ok(capnp_text t)
{
    if (t.len == 0 || t.len >= sizeof accts[0].profiles[0])
        return false;
    for (uint32_t i = 0; i < t.len; i++)
        if (!((t.str[i] >= 'a' && t.str[i] <= 'z') || (t.str[i] >= '0' && t.str[i] <= '9') || t.str[i] == '-'))
            return false;
    return true;
}

struct account *find(capnp_text who)
{
    for (uint32_t i = 0; i < naccts; i++)
        if (strlen(accts[i].principal) == who.len && !memcmp(accts[i].principal, who.str, who.len))
            return &accts[i];
    return 0;
}

static bool parse_line(capnp_text t, uint8_t key[32])
{
    return key_parse_line(t.str, t.len, key);
}

static int do_list(void *self, capos_AccountAdmin_list_Params_reader p, capos_AccountAdmin_list_Results_builder r)
{
    capnp_lbuilder l = capos_AccountAdmin_list_Results_init_accounts(r, naccts);
    for (uint32_t i = 0; i < naccts; i++) {
        struct account *a = &accts[i];
        capos_AccountInfo_builder b = capos_AccountInfo_list_at(l, i);
        capos_AccountInfo_set_principal(b, a->principal, strlen(a->principal));
        capos_AccountInfo_set_status(b, a->status);
        capnp_lbuilder pl = capos_AccountInfo_init_profiles(b, a->nprofiles);
        for (uint32_t k = 0; k < a->nprofiles; k++)
            capnp_lset_text(pl, k, a->profiles[k], strlen(a->profiles[k]));
        capnp_lbuilder kl = capos_AccountInfo_init_keys(b, a->nkeys);
        for (uint32_t k = 0; k < a->nkeys; k++) {
            char line[128];
            key_line(a->keys[k], line, sizeof line);
            capnp_lset_text(kl, k, line, strlen(line));
        }
    }
    return CAPNP_OK;
}

static int do_add(void *self, capos_AccountAdmin_add_Params_reader p, capos_AccountAdmin_add_Results_builder r)
{
    capnp_text who = capos_AccountAdmin_add_Params_get_principal(p);
    capnp_list pl = capos_AccountAdmin_add_Params_get_profiles(p);
    uint16_t res = capos_AdminResult_ok;
    if (!name_ok(who))
        res = capos_AdminResult_badName;
    else if (find(who))
        res = capos_AdminResult_exists;
    else if (pl.count == 0 || pl.count > 4)
        res = capos_AdminResult_badProfile;
    for (uint32_t i = 0; res == capos_AdminResult_ok && i < pl.count; i++)
        if (!profile_ok(capnp_list_text(pl, i)))
            res = capos_AdminResult_badProfile;
    if (res == capos_AdminResult_ok && naccts == MAX)
        res = capos_AdminResult_full;
    char name[24] = "";
    if (res == capos_AdminResult_ok) {
        struct account *a = &accts[naccts];
        memset(a, 0, sizeof *a);
        memcpy(a->principal, who.str, who.len);
        a->status = capos_AccountStatus_active;
        for (uint32_t i = 0; i < pl.count; i++) {
            capnp_text t = capnp_list_text(pl, i);
            memcpy(a->profiles[a->nprofiles++], t.str, t.len);
        }
        if (!save_one(a)) {
            memset(a, 0, sizeof *a);
            return CAP_ERR_INVOKE_FAILED;                  /* not durable: no account */
        }
        naccts++;
        strlcpy(name, a->principal, sizeof name);
    }
    capos_AccountAdmin_add_Results_set_result(r, audited("account-add", res, name));
    return CAPNP_OK;
}

static int do_set_status(void *self, capos_AccountAdmin_setStatus_Params_reader p,
                         capos_AccountAdmin_setStatus_Results_builder r)
{
    struct account *a = find(capos_AccountAdmin_setStatus_Params_get_principal(p));
    uint16_t st = capos_AccountAdmin_setStatus_Params_get_status(p);
    uint16_t res = !a ? capos_AdminResult_notFound : st > capos_AccountStatus_recoveryOnly ? capos_AdminResult_badName
                                                                                       : capos_AdminResult_ok;
    static const char *const events[] = { "account-enable", "account-disable", "account-lock", "account-recovery-only" };
    if (res == capos_AdminResult_ok) {
        struct account t = *a;
        t.status = st;
        if (!save_one(&t))
            return CAP_ERR_INVOKE_FAILED;                  /* not durable: unchanged */
        *a = t;
    }
    capos_AccountAdmin_setStatus_Results_set_result(
        r, audited(st <= capos_AccountStatus_recoveryOnly ? events[st] : "account-status", res, a ? a->principal : ""));
    return CAPNP_OK;
}

static int do_add_key(void *self, capos_AccountAdmin_addKey_Params_reader p, capos_AccountAdmin_addKey_Results_builder r)
{
    struct account *a = find(capos_AccountAdmin_addKey_Params_get_principal(p));
    uint8_t key[32];
    uint16_t res = capos_AdminResult_ok;
    if (!a)
        res = capos_AdminResult_notFound;
    else if (!parse_line(capos_AccountAdmin_addKey_Params_get_key(p), key))
        res = capos_AdminResult_badKey;
    for (uint32_t k = 0; res == capos_AdminResult_ok && k < a->nkeys; k++)
        if (!memcmp(a->keys[k], key, 32))
            res = capos_AdminResult_keyExists;
    if (res == capos_AdminResult_ok && a->nkeys == 4)
        res = capos_AdminResult_full;
    if (res == capos_AdminResult_ok) {
        struct account t = *a;
        memcpy(t.keys[t.nkeys++], key, 32);
        if (!save_one(&t))
            return CAP_ERR_INVOKE_FAILED;                  /* not durable: unchanged */
        *a = t;
    }
    capos_AccountAdmin_addKey_Results_set_result(r, audited("key-add", res, a ? a->principal : ""));
    return CAPNP_OK;
}

static int do_remove_key(void *self, capos_AccountAdmin_removeKey_Params_reader p,
                         capos_AccountAdmin_removeKey_Results_builder r)
{
    struct account *a = find(capos_AccountAdmin_removeKey_Params_get_principal(p));
    uint8_t key[32];
    uint16_t res = capos_AdminResult_noSuchKey;
    if (!a)
        res = capos_AdminResult_notFound;
    else if (!parse_line(capos_AccountAdmin_removeKey_Params_get_key(p), key))
        res = capos_AdminResult_badKey;
    else
        for (uint32_t k = 0; k < a->nkeys; k++)
            if (!memcmp(a->keys[k], key, 32)) {
                struct account t = *a;
                memmove(t.keys[k], t.keys[k + 1], (t.nkeys - k - 1) * 32);
                memset(t.keys[t.nkeys - 1], 0, 32);
                t.nkeys--;
                if (!save_one(&t))
                    return CAP_ERR_INVOKE_FAILED;          /* not durable: unchanged */
                *a = t;
                res = capos_AdminResult_ok;
                break;
            }
    capos_AccountAdmin_removeKey_Results_set_result(r, audited("key-remove", res, a ? a->principal : ""));
    return CAPNP_OK;
}

static const capos_AccountAdmin_server admin_server = { .list = do_list, .add = do_add, .setStatus = do_set_status,
                                                        .addKey = do_add_key, .removeKey = do_remove_key };

static const capos_AccountStore_server server = { .lookup = do_lookup, .passkeyAdd = do_passkey_add,
                                                  .passkeyFind = do_passkey_find, .passkeyUsed = do_passkey_used };

#define TAG_STORE 0x5AC0000000000001ull
#define TAG_ADMIN 0x5AC0000000000002ull

int main(void)
{
    uint32_t owner = rt_capset_require("accounts");
    int64_t admin = rt_capset_lookup("admin"), au = rt_capset_lookup("audit");
    if (au >= 0)
        audit = (uint32_t)au;
    int64_t sc = rt_capset_find("store", capos_Store_ID);
    if (sc >= 0) {
        store = (uint32_t)sc;
        if (!load())
            printf("accounts: the store does not answer\n");
    }
    if (store != ~0u)
        passkeys_load();
    if (naccts == 0) {
        seed(rt_capset->args);
        const struct account *all[MAX];
        for (uint32_t i = 0; i < naccts; i++)
            all[i] = &accts[i];
        for (uint32_t i = 0; i < naccts; i += 8)            /* what one call's params hold */
            if (!save(all + i, naccts - i < 8 ? naccts - i : 8))
                printf("accounts: cannot keep the seeded accounts\n");
    } else {
        printf("accounts: %u accounts loaded from the store\n", naccts);
    }
    struct rt_incoming in;
    if (admin < 0)                                 /* no admin export: the store alone */
        return rt_serve_forever(owner, capos_AccountStore_dispatch_any, &server, &in);
    static uint8_t sbuf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
    static uint8_t abuf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
    struct cap_sqe rs = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)sbuf, .result_len = sizeof sbuf };
    struct cap_sqe ra = { .opcode = CAP_OP_RECV, .cap_id = (uint32_t)admin, .result_addr = (uint64_t)abuf,
                          .result_len = sizeof abuf };
    rt_ring_submit_tagged(&rs, TAG_STORE);
    rt_ring_submit_tagged(&ra, TAG_ADMIN);
    for (;;) {
        struct cap_cqe c;
        while (!rt_ring_next(&c, CAP_TIMEOUT_FOREVER))
            ;
        if (c.user_data == TAG_STORE) {
            if (c.result == CAP_ERR_DISCONNECTED)
                return 0;
            in.ncaps = 0;
            rt_serve_delivered(owner, &c, capos_AccountStore_dispatch_any, &server, &in, sbuf, &in);
            for (uint32_t i = 0; i < in.ncaps; i++)
                rt_release(in.caps[i]);
            rt_ring_submit_tagged(&rs, TAG_STORE);
        } else if (c.user_data == TAG_ADMIN) {
            if (c.result == CAP_ERR_DISCONNECTED)
                return 0;
            in.ncaps = 0;
            rt_serve_delivered((uint32_t)admin, &c, capos_AccountAdmin_dispatch_any, &admin_server, &in, abuf, &in);
            for (uint32_t i = 0; i < in.ncaps; i++)
                rt_release(in.caps[i]);
            rt_ring_submit_tagged(&ra, TAG_ADMIN);
        }
    }
}
