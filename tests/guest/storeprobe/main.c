/*
 * storeprobe: the guest side of test-store-qemu. Holds two Store
 * namespaces, "cred" (the store's "credentials") and "acct" ("accounts"),
 * and power. Modes (its args):
 *   fill     one multi-key commit in each namespace; isolation and bounds
 *   check    reads back what fill wrote (after a reboot)
 *   stream   commits 1, 2, 3... printing each once acknowledged, until
 *            killed or refused
 *   verify   after a kill: the last commit and the ten slots agree
 *   grow     commits new keys of 1000 bytes until refused
 *   growcheck  every key grow had acknowledged is there
 * Facts are printed; tests/storage/test_store_qemu.py judges them.
 */
#include "rt/capos.h"

static uint32_t cred, acct;

static int get(uint32_t ns, const char *key, uint32_t klen, uint8_t *out, uint32_t *len)
{
    RT_BUFS(b, 256, 2048);
    capnp_client cl = RT_CLIENT(ns);
    capnp_call call;
    capos_Store_get_Results_reader r;
    int e = capos_Store_get(&cl, &b, &call, key, klen, &r);
    if (e)
        return 100 + rt_error(e);
    capnp_data d = capos_Store_get_Results_get_value(r);
    if (out) {
        memcpy(out, d.ptr, d.len);
        *len = d.len;
    }
    return capos_Store_get_Results_get_error(r);
}

struct op { const char *key; uint32_t klen; const void *val; uint32_t vlen; };

static int commit(uint32_t ns, const struct op *ops, uint32_t n)
{
    RT_BUFS(b, 4096, 256);
    capnp_client cl = RT_CLIENT(ns);
    capnp_call call;
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, n);
    for (uint32_t i = 0; i < n; i++) {
        capos_StoreOp_builder o = capos_StoreOp_list_at(l, i);
        capos_StoreOp_set_key(o, ops[i].key, ops[i].klen);
        capos_StoreOp_set_value(o, ops[i].val, ops[i].vlen);
    }
    capos_Store_commit_Results_reader r;
    int e = capos_Store_commit_send(&call, &r);
    return e ? 100 + rt_error(e) : capos_Store_commit_Results_get_error(r);
}

#define S(x) x, (uint32_t)(sizeof x - 1)

static bool is(uint32_t ns, const char *key, uint32_t klen, const char *want)
{
    uint8_t v[1100];
    uint32_t n = 0;
    return get(ns, key, klen, v, &n) == 0 && n == strlen(want) && !memcmp(v, want, n);
}

static void fill(void)
{
    const struct op c[] = { { S("password:admin"), S("argon2id-hash-of-the-password") }, { S("secret"), S("s3cret") } };
    const struct op a[] = { { S("account:admin"), S("active operator") }, { S("sshkey:admin"), S("ssh-ed25519 AAAAC3Nz test") } };
    printf("SP fill cred=%d acct=%d\n", commit(cred, c, 2), commit(acct, a, 2));
    /* isolation: the accounts namespace does not reach the credentials' keys */
    printf("SP isolation acct-get-secret=%d cred-get-account=%d\n", get(acct, S("secret"), 0, 0),
           get(cred, S("account:admin"), 0, 0));
    RT_BUFS(b, 128, 2048);
    capnp_client cl = RT_CLIENT(acct);
    capnp_call call;
    capos_Store_list_Results_reader lr;
    if (capos_Store_list(&cl, &b, &call, 0, &lr) == 0) {
        capnp_list keys = capos_Store_list_Results_get_keys(lr);
        printf("SP list acct n=%u", keys.count);
        for (uint32_t i = 0; i < keys.count; i++) {
            capnp_data d = capnp_list_data(keys, i);
            printf(" %.*s", (int)d.len, (const char *)d.ptr);
        }
        printf("\n");
    }
    /* bounds */
    static char big[1100];
    memset(big, 'v', sizeof big);
    struct op k65 = { big, 65, "v", 1 }, v1025 = { "k", 1, big, 1025 }, empty = { "", 0, "v", 1 };
    printf("SP bounds key65=%d value1025=%d empty=%d\n", commit(cred, &k65, 1), commit(cred, &v1025, 1),
           commit(cred, &empty, 1));
    struct op v1024 = { "big", 3, big, 1024 };
    printf("SP bounds value1024=%d\n", commit(cred, &v1024, 1));
}

static void check(void)
{
    int e = get(cred, S("secret"), 0, 0);
    printf("SP check get-error=%d\n", e);
    if (e)
        return;
    printf("SP check cred=%d acct=%d\n",
           is(cred, S("password:admin"), "argon2id-hash-of-the-password") && is(cred, S("secret"), "s3cret"),
           is(acct, S("account:admin"), "active operator") && is(acct, S("sshkey:admin"), "ssh-ed25519 AAAAC3Nz test"));
    printf("SP check isolation acct-get-secret=%d\n", get(acct, S("secret"), 0, 0));
}

static uint32_t slot_len(uint64_t i) { return 8 + (uint32_t)(i * 37 % 1000); }

static void stream(void)
{
    static uint8_t v[1100];
    for (uint64_t i = 1;; i++) {
        char sk[8] = { 's', 'l', 'o', 't', '-', (char)('0' + i % 10), 0 };
        memcpy(v, &i, 8);
        memset(v + 8, (int)(i & 0xFF), slot_len(i) - 8);
        struct op ops[2] = { { "last", 4, &i, 8 }, { sk, 6, v, slot_len(i) } };
        int e = commit(cred, ops, 2);
        if (e) {
            printf("SP stream refused at %lu error=%d\n", i, e);
            return;
        }
        printf("SP acked %lu\n", i);
    }
}

static void verify(void)
{
    uint64_t last = 0;
    uint32_t n = 0;
    int e = get(cred, "last", 4, (uint8_t *)&last, &n);
    if (e == 1)
        last = 0;                        /* nothing committed */
    else if (e || n != 8) {
        printf("SP verify error=%d\n", e);
        return;
    }
    bool ok = true;
    static uint8_t v[1100];
    for (uint64_t j = 0; j < 10; j++) {
        uint64_t want = 0;
        for (uint64_t i = 1; i <= last; i++)
            if (i % 10 == j)
                want = i;
        char sk[8] = { 's', 'l', 'o', 't', '-', (char)('0' + j), 0 };
        e = get(cred, sk, 6, v, &n);
        if (!want) {
            ok = ok && e == 1;
            continue;
        }
        uint64_t got;
        memcpy(&got, v, 8);
        ok = ok && e == 0 && got == want && n == slot_len(want);
        for (uint32_t b = 8; ok && b < n; b++)
            ok = v[b] == (uint8_t)(want & 0xFF);
    }
    printf("SP verify last=%lu consistent=%d\n", last, ok);
}

static void grow(void)
{
    static uint8_t v[1000];
    for (uint32_t i = 1;; i++) {
        char k[12];
        fmt_snprintf(k, sizeof k, "g%u", i);
        memset(v, (int)i, sizeof v);
        struct op o = { k, (uint32_t)strlen(k), v, sizeof v };
        int e = commit(cred, &o, 1);
        if (e) {
            printf("SP grow refused at %u error=%d\n", i, e);
            return;
        }
    }
}

static void growcheck(void)
{
    static uint8_t v[1100];
    uint32_t n = 0, len;
    bool ok = true;
    for (uint32_t i = 1;; i++) {
        char k[12];
        fmt_snprintf(k, sizeof k, "g%u", i);
        int e = get(cred, k, (uint32_t)strlen(k), v, &len);
        if (e == 1)
            break;
        ok = ok && e == 0 && len == 1000 && v[0] == (uint8_t)i && v[999] == (uint8_t)i;
        n++;
    }
    printf("SP growcheck keys=%u intact=%d\n", n, ok);
}

int main(void)
{
    cred = rt_capset_require("cred");
    acct = rt_capset_require("acct");
    const char *m = rt_capset->args;
    if (!strcmp(m, "fill"))
        fill();
    else if (!strcmp(m, "check"))
        check();
    else if (!strcmp(m, "stream"))
        stream();
    else if (!strcmp(m, "verify"))
        verify();
    else if (!strcmp(m, "grow"))
        grow();
    else if (!strcmp(m, "growcheck"))
        growcheck();
    printf("SP done\n");
    rt_power_off(rt_capset_require("power"), 0);
}
