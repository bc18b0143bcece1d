/*
 * The test bootstrap the capnp-rpc tests serve (unit tests, the fuzzer and
 * the loopback dev server): a RemoteAdmission that logs "admin" in with the
 * password "secret" or an Ed25519 key, answering a RemoteCapSet of three
 * caps: "session" (UserSession: info, logout), "system-info" (SystemInfo,
 * fixed values) and "echo" (Echo).  The same shape the guest gateway
 * serves, with its authorities replaced by constants.
 */
#ifndef TESTSRV_H
#define TESTSRV_H

#include "crpc.h"

#define TSRV_QUESTIONS 16
#define TSRV_ANSWERS 32
#define TSRV_IMPORTS 16
#define TSRV_EXPORTS 16
#define TSRV_OUT 32768
#define TSRV_SCRATCH 32768

struct tsrv {
    crpc_conn rpc;
    struct crpc_question q[TSRV_QUESTIONS];
    struct crpc_answer a[TSRV_ANSWERS];
    struct crpc_import im[TSRV_IMPORTS];
    struct crpc_export ex[TSRV_EXPORTS];
    uint8_t out[TSRV_OUT];
    uint8_t scratch[TSRV_SCRATCH];
    crpc_object admission, capset, session, echo, sysinfo;
    const uint8_t (*keys)[32]; /* the authorized Ed25519 public keys */
    int nkeys;
    uint8_t nonce[32];
    bool nonce_set;
    const char *auth;      /* "password" / "publicKey" once logged in */
    int dropped;           /* dropped hooks seen */
    /* crypto supplied by the test program */
    void (*random)(uint8_t *buf, size_t n);
    int (*verify)(const uint8_t *sig, const uint8_t *msg, size_t len, const uint8_t *pk);
};

/* RemoteCapSet.get of a name not in the set: exception failed "unknown-cap" */
#define TSRV_ERR_UNKNOWN_CAP 256

#define TSRV_KEY_DOMAIN "capos-remote-key-v1"

void tsrv_init(struct tsrv *t, const crpc_limits *lim);

#endif
