/*
 * Internal to lib/capnp-rpc: the wire layout of the rpc.capnp structs this
 * library reads and writes (byte offsets in the data section, pointer
 * indexes; from `capnp compile -ocapnp rpc.capnp`), and what the files
 * share.
 */
#ifndef CRPC_INTERNAL_H
#define CRPC_INTERNAL_H

#include "crpc.h"

/* Message: 1 data word, 1 pointer; union tag u16 at 0, member in ptr 0. */
enum {
    MSG_UNIMPLEMENTED = 0, MSG_ABORT = 1, MSG_CALL = 2, MSG_RETURN = 3,
    MSG_FINISH = 4, MSG_RESOLVE = 5, MSG_RELEASE = 6, MSG_OBSOLETE_SAVE = 7,
    MSG_BOOTSTRAP = 8, MSG_OBSOLETE_DELETE = 9, MSG_PROVIDE = 10,
    MSG_ACCEPT = 11, MSG_JOIN = 12, MSG_DISEMBARGO = 13,
};
#define MSG_DW 1
#define MSG_PW 1

/* Bootstrap: questionId u32 @0. */
#define BOOT_DW 1
#define BOOT_PW 1
/* Call: questionId u32 @0, methodId u16 @4, sendResultsTo tag u16 @6,
 * interfaceId u64 @8; target ptr 0, params ptr 1. */
#define CALL_DW 3
#define CALL_PW 3
#define CALL_QID 0
#define CALL_METHOD 4
#define CALL_SEND_TO 6
#define CALL_IFACE 8
enum { SEND_TO_CALLER = 0 };
/* Return: answerId u32 @0, releaseParamCaps bit 32 (default true), tag u16
 * @6; results / exception in ptr 0. */
#define RET_DW 2
#define RET_PW 1
#define RET_AID 0
#define RET_RELEASE_PARAMS_BIT 32
#define RET_TAG 6
enum { RET_RESULTS = 0, RET_EXCEPTION = 1, RET_CANCELED = 2 };
/* Finish: questionId u32 @0, releaseResultCaps bit 32 (default true). */
#define FIN_DW 1
#define FIN_PW 0
#define FIN_RELEASE_BIT 32
/* Release: id u32 @0, referenceCount u32 @4. */
#define REL_DW 1
#define REL_PW 0
/* MessageTarget: importedCap u32 @0, tag u16 @4, promisedAnswer ptr 0. */
#define TGT_DW 1
#define TGT_PW 1
#define TGT_TAG 4
enum { TGT_IMPORTED = 0, TGT_PROMISED = 1 };
/* Payload: content ptr 0, capTable ptr 1. */
#define PAY_DW 0
#define PAY_PW 2
/* CapDescriptor: tag u16 @0, attachedFd u8 @2 (default 255), id u32 @4,
 * receiverAnswer ptr 0. */
#define CD_DW 1
#define CD_PW 1
#define CD_ID 4
enum { CD_NONE = 0, CD_SENDER_HOSTED = 1, CD_SENDER_PROMISE = 2,
       CD_RECEIVER_HOSTED = 3, CD_RECEIVER_ANSWER = 4, CD_THIRD_PARTY = 5 };
/* PromisedAnswer: questionId u32 @0, transform ptr 0 (List(Op)). */
#define PA_DW 1
#define PA_PW 1
/* Op: tag u16 @0, getPointerField u16 @2. */
#define OP_DW 1
#define OP_PW 0
enum { OP_NOOP = 0, OP_GET_POINTER_FIELD = 1 };
/* Exception: reason ptr 0, type u16 @4. */
#define EXC_DW 1
#define EXC_PW 2
#define EXC_TYPE 4

/* Table entry states. */
enum { Q_FREE = 0, Q_PENDING = 1, Q_CANCELED = 2, Q_RETURNED = 3 };
enum { A_FREE = 0, A_RESULTS = 1, A_EXCEPTION = 2 };

/* Export ids: slot in the low bits, the slot's generation above, so an id
 * released earlier (stale) is told from one never issued (forged). */
#define EXPORT_SLOT_BITS 12
#define EXPORT_SLOT_MASK ((1u << EXPORT_SLOT_BITS) - 1)
#define EXPORT_MAX_GEN ((CRPC_H_EXPORT >> EXPORT_SLOT_BITS) - 1)
enum { EID_LIVE, EID_STALE, EID_FORGED };

/* conn.c */
int crpc_eid_class(const crpc_conn *c, uint32_t eid);
struct crpc_export *crpc_export_slot(crpc_conn *c, uint32_t eid);
void crpc_export_sweep(crpc_conn *c);
int crpc_import_add(crpc_conn *c, uint32_t id, uint32_t *handle);
void crpc_fail(crpc_conn *c, int reason); /* abort for a protocol error */
struct crpc_answer *crpc_answer_find(crpc_conn *c, uint32_t qid);
void crpc_answer_free(crpc_conn *c, struct crpc_answer *a, bool release_caps);

/* encode.c: each queues one message; false when the output is full (the
 * connection is then closed with output-full) */
bool crpc_out_begin(crpc_conn *c, capnp_builder *b, bool reserve);
bool crpc_out_commit(crpc_conn *c, capnp_builder *b);
capnp_sbuilder crpc_msg_root(capnp_builder *b, uint16_t which, uint16_t dw,
                             uint16_t pw);
void crpc_set_exception(capnp_sbuilder e, int type, const char *reason);
bool crpc_send_abort(crpc_conn *c, int type, const char *reason);
bool crpc_send_return_exception(crpc_conn *c, uint32_t aid, int type,
                                const char *reason);
bool crpc_send_unimplemented(crpc_conn *c, capnp_struct root);
bool crpc_send_finish(crpc_conn *c, uint32_t qid, bool release_results);
bool crpc_send_release(crpc_conn *c, uint32_t id, uint32_t count);
/* Write a capTable of handles (ncaps entries) into payload pointer 1;
 * exports sent count one more remote reference. */
void crpc_put_cap_table(crpc_conn *c, capnp_sbuilder payload,
                        const uint32_t *caps, uint32_t ncaps);
void crpc_unput_cap_table(crpc_conn *c, const uint32_t *caps, uint32_t ncaps);
int crpc_reason_type(int reason);

/* server.c */
void crpc_on_bootstrap(crpc_conn *c, capnp_struct b);
void crpc_on_call(crpc_conn *c, capnp_struct call);
void crpc_on_finish(crpc_conn *c, capnp_struct f);
void crpc_on_release(crpc_conn *c, capnp_struct r);

/* client.c */
void crpc_on_return(crpc_conn *c, capnp_struct r, crpc_event *ev);
void crpc_on_unimplemented(crpc_conn *c, capnp_struct m, crpc_event *ev);

static inline uint16_t crpc_strlen16(const char *s)
{
    uint16_t n = 0;
    while (s[n] && n < 0xffff)
        n++;
    return n;
}

#endif
