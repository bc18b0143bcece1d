/*
 * credprobe: the guest side of test-store-credentials. Holds "creds" (the
 * CredentialStore, itself on a Store namespace) and power. Modes:
 *   setup  the store is empty; set up the first credential; it verifies
 *   login  (after a reboot) not empty; the same password verifies, a wrong
 *          one does not
 */
#include "rt/capos.h"

static uint32_t creds;

static int is_empty(void)
{
    RT_BUFS(b, 128, 128);
    capnp_client cl = RT_CLIENT(creds);
    capnp_call call;
    capos_CredentialStore_isEmpty_Results_reader r;
    int e = capos_CredentialStore_isEmpty(&cl, &b, &call, &r);
    return e ? -1 : capos_CredentialStore_isEmpty_Results_get_empty(r);
}

static int setup(const char *who, const char *pw)
{
    RT_BUFS(b, 512, 128);
    capnp_client cl = RT_CLIENT(creds);
    capnp_call call;
    capos_CredentialStore_setup_Results_reader r;
    int e = capos_CredentialStore_setup(&cl, &b, &call, who, strlen(who), pw, strlen(pw), &r);
    return e ? -1 : capos_CredentialStore_setup_Results_get_created(r);
}

static int verify(const char *who, const char *pw)
{
    RT_BUFS(b, 512, 128);
    capnp_client cl = RT_CLIENT(creds);
    capnp_call call;
    capos_CredentialStore_verify_Results_reader r;
    int e = capos_CredentialStore_verify(&cl, &b, &call, who, strlen(who), pw, strlen(pw), &r);
    return e ? -1 : capos_CredentialStore_verify_Results_get_result(r);
}

int main(void)
{
    creds = rt_capset_require("creds");
    const char *m = rt_capset->args;
    if (!strcmp(m, "setup")) {
        printf("CP setup empty=%d\n", is_empty());
        printf("CP setup created=%d\n", setup("admin", "correct horse battery"));
        printf("CP setup again=%d\n", setup("mallory", "other"));
        printf("CP setup verify=%d\n", verify("admin", "correct horse battery"));
    } else if (!strcmp(m, "login")) {
        printf("CP login empty=%d\n", is_empty());
        printf("CP login right=%d wrong=%d unknown=%d\n", verify("admin", "correct horse battery"),
               verify("admin", "wrong horse"), verify("mallory", "other"));
    }
    printf("CP done\n");
    rt_power_off(rt_capset_require("power"), 0);
}
