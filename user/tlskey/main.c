/*
 * tlskey: the TLS server key's custodian. Holds the ECDSA P-256 key of the
 * web shell's certificate and serves TlsServerKey on its export "key": the
 * certificate chain (public), and ECDSA signatures over the hashes of TLS
 * 1.2 ServerKeyExchange messages (SHA-256, -384 or -512, DER encoded,
 * deterministic per RFC 6979). The private key never leaves this process:
 * the gateway that terminates TLS holds only this cap (user/hostkey is the
 * SSH door's equivalent).
 *
 * The key and certificate are the DEVELOPMENT ones `make all` writes to
 * build/tls-dev (self-signed for localhost and 127.0.0.1), embedded here
 * at build time: NOT FOR PRODUCTION (the private half is in the build
 * tree); the boot log and certificateChain say so.
 *
 * Grants: console (its boot line), key (the owner side of the export). No
 * args.
 */
#include <bearssl/bearssl.h>

#include "rt/capos.h"

/* embedded at build time (user/module.mk: build/tlskey/assets.S) */
extern const uint8_t tlskey_cert_der[], tlskey_cert_der_end[];
extern const uint8_t tlskey_key_der[], tlskey_key_der_end[];

static uint8_t scalar[32];
static br_ec_private_key sk = { BR_EC_secp256r1, scalar, sizeof scalar };
static uint64_t signatures;

/* The P-256 scalar out of the embedded key (PKCS#8 or SEC 1 DER); the
 * decoder's copy is wiped. */
static int load_key(void)
{
    static br_skey_decoder_context dc;
    br_skey_decoder_init(&dc);
    br_skey_decoder_push(&dc, tlskey_key_der, (size_t)(tlskey_key_der_end - tlskey_key_der));
    const br_ec_private_key *ek = br_skey_decoder_get_ec(&dc);
    int ok = !br_skey_decoder_last_error(&dc) && ek && ek->curve == BR_EC_secp256r1 && ek->xlen == sizeof scalar;
    if (ok)
        memcpy(scalar, ek->x, sizeof scalar);
    memset(&dc, 0, sizeof dc);
    __asm__ volatile("" ::"r"(&dc) : "memory");       /* the wipe is not optimised away */
    return ok ? 0 : -1;
}

static int do_chain(void *self, capos_TlsServerKey_certificateChain_Params_reader p,
                    capos_TlsServerKey_certificateChain_Results_builder r)
{
    capnp_lbuilder l = capos_TlsServerKey_certificateChain_Results_init_chain(r, 1);
    capnp_lset_data(l, 0, tlskey_cert_der, (size_t)(tlskey_cert_der_end - tlskey_cert_der));
    capos_TlsServerKey_certificateChain_Results_set_development(r, true);
    return CAPNP_OK;
}

/* The hash function a TlsHash names, or NULL. */
static const br_hash_class *hash_of(uint16_t h)
{
    switch (h) {
    case capos_TlsHash_sha256:
        return &br_sha256_vtable;
    case capos_TlsHash_sha384:
        return &br_sha384_vtable;
    case capos_TlsHash_sha512:
        return &br_sha512_vtable;
    default:
        return 0;
    }
}

static int do_sign(void *self, capos_TlsServerKey_sign_Params_reader p, capos_TlsServerKey_sign_Results_builder r)
{
    const br_hash_class *hc = hash_of(capos_TlsServerKey_sign_Params_get_hash(p));
    capnp_data d = capos_TlsServerKey_sign_Params_get_digest(p);
    if (!hc || d.len != (hc->desc >> BR_HASHDESC_OUT_OFF & BR_HASHDESC_OUT_MASK))
        return CAP_ERR_INVALID_ARGUMENT;        /* a digest of the named hash, nothing else */
    uint8_t sig[72];
    size_t n = br_ecdsa_i31_sign_asn1(br_ec_get_default(), hc, d.ptr, &sk, sig);
    if (!n)
        return CAP_ERR_INVALID_ARGUMENT;
    capos_TlsServerKey_sign_Results_set_signature(r, sig, n);
    signatures++;
    return CAPNP_OK;
}

static const capos_TlsServerKey_server server = { .certificateChain = do_chain, .sign = do_sign };

int main(void)
{
    uint32_t owner = rt_capset_require("key");
    if (load_key()) {
        printf("tlskey: the embedded key does not decode\n");
        return 2;
    }
    printf("tlskey: serving the DEVELOPMENT certificate's key (ECDSA P-256, NOT FOR PRODUCTION), sign only\n");
    struct rt_incoming in;
    return rt_serve_forever(owner, capos_TlsServerKey_dispatch_any, &server, &in);
}
