/*
 * sshauth-client: exercises SessionManager.sshPublicKey as the SSH gateway
 * will, with deterministic Ed25519 keys (seeds 0..31 and 1..32): one
 * authorized for admin in tests/sessions/sessions.manifest, one unknown.
 */
#include "rt/capos.h"
#include <sodium.h>

static uint32_t manager;

static int try(const char *label, const char *who, const unsigned char *pk, const unsigned char *sk, bool tamper,
               const char *profile)
{
    static const unsigned char sid[32] = "capOS ssh session identifier..";
    unsigned char sig[64];
    crypto_sign_detached(sig, 0, sid, sizeof sid, sk);
    if (tamper)
        sig[5] ^= 0x40;
    RT_BUFS(b, 512, 512);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_sshPublicKey_Results_reader r;
    int e = rt_error(capos_SessionManager_sshPublicKey(&cl, &b, &call, who, strlen(who), pk, 32, sid, sizeof sid, sig,
                                                       64, profile, strlen(profile), &r));
    int res = e ? e : capos_SessionManager_sshPublicKey_Results_get_result(r);
    printf("SSHAUTH %s result=%d caps=%u\n", label, res, call.result_ncaps);
    if (!e && res == capos_LoginResult_ok && call.result_ncaps == 2) {
        RT_BUFS(b2, 64, 512);
        capnp_client ul = RT_CLIENT(b.result_caps[capos_SessionManager_sshPublicKey_Results_get_session(r)]);
        capos_UserSession_info_Results_reader ir;
        if (!capos_UserSession_info(&ul, &b2, &call, &ir)) {
            capnp_text m = capos_UserSession_info_Results_get_authMethod(ir);
            capnp_text p = capos_UserSession_info_Results_get_principal(ir);
            printf("SSHAUTH %s session principal=%.*s method=%.*s\n", label, (int)p.len, p.str, (int)m.len, m.str);
        }
    }
    return res;
}

int main(void)
{
    manager = rt_capset_require("manager");
    if (sodium_init() < 0)
        return 2;
    unsigned char seed[32], pk[32], sk[64], pk2[32], sk2[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)i;
    crypto_sign_seed_keypair(pk, sk, seed);
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(i + 1);
    crypto_sign_seed_keypair(pk2, sk2, seed);
    try("good", "admin", pk, sk, false, "operator");
    try("unknown-key", "admin", pk2, sk2, false, "operator");
    try("bad-signature", "admin", pk, sk, true, "operator");
    try("locked", "bob", pk, sk, false, "operator");
    try("profile", "admin", pk, sk, false, "root");
    try("missing", "zed", pk, sk, false, "operator");
    return 0;
}
