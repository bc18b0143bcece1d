/*
 * lib/capnp-rpc unit tests (ASan/UBSan): our client against the test
 * server in memory, then hand-built hostile frames against the server
 * alone.  Every test ends by checking the leak counter: a closed
 * connection holds nothing and every export it had was dropped.
 */
#include <stdio.h>
#include <stdlib.h>

#include "capos.capnp.h"
#include "pair.h"
#include "testutil.h" /* tests/capnp: EXPECT and the counters */


static void fake_random(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7 + 1);
}

/* The fake signature: the message's first 32 bytes xor the key, twice. */
static int fake_verify(const uint8_t *sig, const uint8_t *msg, size_t len, const uint8_t *pk)
{
    for (int i = 0; i < 64; i++)
        if (sig[i] != (uint8_t)(msg[i % 32] ^ pk[i % 32]))
            return -1;
    return 0;
}

static const uint8_t test_key[1][32] = { { 1, 2, 3, 4, 5, 6, 7, 8, 9 } };

static struct pair *pair_new(void)
{
    struct pair *p = calloc(1, sizeof *p);
    client_init(&p->c);
    tsrv_init(&p->s, 0);
    p->s.random = fake_random;
    p->s.verify = fake_verify;
    p->s.keys = test_key;
    p->s.nkeys = 1;
    return p;
}

static void reset(struct pair *p)
{
    p->nev = 0;
    p->rx_len = 0;
}

static const crpc_event *event_for(struct pair *p, uint32_t q)
{
    for (uint32_t i = 0; i < p->nev; i++)
        if (p->ev[i].question == q && p->ev[i].kind != CRPC_EV_CLOSED)
            return &p->ev[i];
    return 0;
}

static bool text_is(capnp_text t, const char *s)
{
    return t.len == strlen(s) && memcmp(t.str, s, t.len) == 0;
}

static bool exception_is(struct pair *p, uint32_t q, int type, const char *reason)
{
    const crpc_event *e = event_for(p, q);
    return e && e->kind == CRPC_EV_EXCEPTION && e->type == type && text_is(e->reason, reason);
}

/* --------------------------------------------------------------- client calls */

static uint32_t call_login(struct pair *p, crpc_target t, const char *pw)
{
    crpc_call call;
    uint32_t q = 0;
    capos_RemoteAdmission_login_Params_builder b = {
        crpc_call_begin(&p->c.rpc, &call, t, capos_RemoteAdmission_ID, capos_RemoteAdmission_METHOD_login,
                        capos_RemoteAdmission_login_Params_DATA_WORDS, capos_RemoteAdmission_login_Params_PTR_WORDS) };
    capos_RemoteAdmission_login_Params_set_principal(b, "admin", 5);
    capos_RemoteAdmission_login_Params_set_password(b, pw, strlen(pw));
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_OK);
    return q;
}

static uint32_t call_get(struct pair *p, crpc_target t, const char *name)
{
    crpc_call call;
    uint32_t q = 0;
    capos_RemoteCapSet_get_Params_builder b = {
        crpc_call_begin(&p->c.rpc, &call, t, capos_RemoteCapSet_ID, capos_RemoteCapSet_METHOD_get,
                        capos_RemoteCapSet_get_Params_DATA_WORDS, capos_RemoteCapSet_get_Params_PTR_WORDS) };
    capos_RemoteCapSet_get_Params_set_name(b, name, strlen(name));
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_OK);
    return q;
}

static uint32_t call_echo(struct pair *p, crpc_target t, uint64_t iface, uint16_t method, const char *s)
{
    crpc_call call;
    uint32_t q = 0;
    capos_Echo_echo_Params_builder b = {
        crpc_call_begin(&p->c.rpc, &call, t, iface, method, capos_Echo_echo_Params_DATA_WORDS,
                        capos_Echo_echo_Params_PTR_WORDS) };
    capos_Echo_echo_Params_set_data(b, s, strlen(s));
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_OK);
    return q;
}

static uint32_t call_empty(struct pair *p, crpc_target t, uint64_t iface, uint16_t method)
{
    crpc_call call;
    uint32_t q = 0;
    crpc_call_begin(&p->c.rpc, &call, t, iface, method, 0, 0);
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_OK);
    return q;
}

static bool echo_is(struct pair *p, uint32_t q, const char *s)
{
    const crpc_event *e = event_for(p, q);
    if (!e || e->kind != CRPC_EV_RETURN)
        return false;
    capos_Echo_echo_Results_reader r = { crpc_content(e) };
    capnp_data d = capos_Echo_echo_Results_get_data(r);
    return d.len == strlen(s) && memcmp(d.ptr, s, d.len) == 0;
}

/* Bootstrap, login, get("echo") and echo, all pipelined before any answer
 * (the order the C++ client sends them in).  Leaves the four questions
 * returned but not finished; *echo_h gets the echo cap's import handle. */
static uint32_t q_boot, q_login, q_get, q_echo;

static void login_pipelined(struct pair *p, const char *what)
{
    reset(p);
    EXPECT(crpc_bootstrap(&p->c.rpc, &q_boot) == CRPC_OK);
    q_login = call_login(p, crpc_target_answer(q_boot, 0, 0), "secret");
    uint16_t capset_field = 0;
    q_get = call_get(p, crpc_target_answer(q_login, 1, &capset_field), what);
    uint16_t cap_field = 0;
    q_echo = call_echo(p, crpc_target_answer(q_get, 1, &cap_field), capos_Echo_ID, 0, "hello");
    pump(p);
}

static void finish_all(struct pair *p)
{
    for (uint32_t i = 0; i < 16; i++)
        if (p->c.q[i].state != 0)
            crpc_finish(&p->c.rpc, i);
    pump(p);
}

static void close_both(struct pair *p)
{
    crpc_close(&p->c.rpc);
    crpc_close(&p->s.rpc);
    EXPECT(crpc_live(&p->c.rpc) == 0);
    EXPECT(crpc_live(&p->s.rpc) == 0);
}

static void test_pipelined_login(void)
{
    struct pair *p = pair_new();
    login_pipelined(p, "echo");
    EXPECT(p->nev == 4);
    const crpc_event *b = event_for(p, q_boot), *l = event_for(p, q_login), *g = event_for(p, q_get);
    EXPECT(b && b->kind == CRPC_EV_RETURN && b->ncaps == 1);
    EXPECT(l && l->kind == CRPC_EV_RETURN && l->ncaps == 1);
    EXPECT(g && g->kind == CRPC_EV_RETURN && g->ncaps == 1);
    EXPECT(echo_is(p, q_echo, "hello"));
    if (l) {
        capos_RemoteAdmission_login_Results_reader r = { crpc_content(l) };
        EXPECT(capos_RemoteAdmission_login_Results_get_result(r) == capos_LoginResult_ok);
    }
    if (b)
        EXPECT(crpc_content_cap(b) == b->caps[0]);
    EXPECT(p->s.rpc.calls == 3);
    /* the server holds: admission, capset, echo; answers until Finish */
    uint32_t boot_h = b ? b->caps[0] : 0, capset_h = l ? l->caps[0] : 0, echo_h = g ? g->caps[0] : 0;
    EXPECT(crpc_live(&p->s.rpc) == 3 + 4);
    finish_all(p);
    EXPECT(crpc_live(&p->s.rpc) == 3);
    EXPECT(crpc_live(&p->c.rpc) == 3); /* three imports */

    /* a call on the import, after the pipeline */
    reset(p);
    uint32_t q = call_echo(p, crpc_target_import(echo_h), capos_Echo_ID, 0, "again");
    pump(p);
    EXPECT(echo_is(p, q, "again"));
    crpc_finish(&p->c.rpc, q);

    /* release: the server drops the export; the client cannot use it */
    EXPECT(crpc_release(&p->c.rpc, echo_h) == CRPC_OK);
    pump(p);
    EXPECT(p->s.dropped == 1);
    EXPECT(crpc_live(&p->s.rpc) == 2);
    crpc_call call;
    crpc_call_begin(&p->c.rpc, &call, crpc_target_import(echo_h), capos_Echo_ID, 0, 0, 0);
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_ERR_HANDLE);
    EXPECT(crpc_release(&p->c.rpc, echo_h) == CRPC_ERR_HANDLE);
    crpc_release(&p->c.rpc, capset_h);
    crpc_release(&p->c.rpc, boot_h);
    pump(p);
    EXPECT(crpc_live(&p->s.rpc) == 0);
    EXPECT(crpc_live(&p->c.rpc) == 0);
    EXPECT(p->s.dropped == 3);
    EXPECT(p->s.rpc.state == CRPC_OPEN && p->c.rpc.state == CRPC_OPEN);
    close_both(p);
    free(p);
}

static void test_list_and_info(void)
{
    struct pair *p = pair_new();
    login_pipelined(p, "system-info");
    /* the echo call pipelined on a SystemInfo: wrong interface */
    EXPECT(exception_is(p, q_echo, CRPC_EXC_UNIMPLEMENTED, "unknown-interface"));
    reset(p);
    uint16_t f0 = 0;
    uint32_t ql = call_empty(p, crpc_target_answer(q_login, 1, &f0), capos_RemoteCapSet_ID,
                             capos_RemoteCapSet_METHOD_list);
    uint32_t qs = call_empty(p, crpc_target_answer(q_get, 1, &f0), capos_SystemInfo_ID, 0);
    pump(p);
    const crpc_event *e = event_for(p, ql);
    EXPECT(e && e->kind == CRPC_EV_RETURN);
    if (e) {
        capos_RemoteCapSet_list_Results_reader r = { crpc_content(e) };
        capnp_list l = capos_RemoteCapSet_list_Results_get_entries(r);
        EXPECT(l.count == 3);
        capos_RemoteCapEntry_reader x = capos_RemoteCapEntry_list_get(l, 1);
        EXPECT(text_is(capos_RemoteCapEntry_get_name(x), "system-info"));
        EXPECT(capos_RemoteCapEntry_get_interfaceId(x) == capos_SystemInfo_ID);
    }
    e = event_for(p, qs);
    EXPECT(e && e->kind == CRPC_EV_RETURN);
    if (e) {
        capos_SystemInfo_get_Results_reader r = { crpc_content(e) };
        EXPECT(capos_SystemInfo_get_Results_get_processes(r) == 7);
        EXPECT(text_is(capos_SystemInfo_get_Results_get_kernelVersion(r), "capOS test"));
    }
    close_both(p);
    EXPECT(p->s.dropped == 3);
    free(p);
}

static void test_denials(void)
{
    struct pair *p = pair_new();
    login_pipelined(p, "session");
    /* echo pipelined on the session: wrong interface */
    EXPECT(exception_is(p, q_echo, CRPC_EXC_UNIMPLEMENTED, "unknown-interface"));
    reset(p);
    uint16_t f0 = 0;
    crpc_target sess = crpc_target_answer(q_get, 1, &f0);
    uint32_t q1 = call_empty(p, sess, capos_UserSession_ID, 9);  /* unknown method */
    uint32_t q2 = call_empty(p, sess, capos_UserSession_ID, capos_UserSession_METHOD_watch);
    uint32_t q3 = call_empty(p, sess, capos_UserSession_ID, capos_UserSession_METHOD_info);
    /* a call pipelined on a failed answer fails the same way */
    uint32_t q4 = call_empty(p, crpc_target_answer(q1, 0, 0), capos_Echo_ID, 0);
    /* a path that names no cap */
    uint16_t f5 = 5;
    uint32_t q5 = call_empty(p, crpc_target_answer(q_login, 1, &f5), capos_Echo_ID, 0);
    /* get of a name that is not in the set fails unknown-cap */
    uint16_t capset_field = 0;
    uint32_t q6 = call_get(p, crpc_target_answer(q_login, 1, &capset_field), "nothing");
    uint32_t q7 = call_empty(p, crpc_target_answer(q6, 1, &f0), capos_Echo_ID, 0);
    /* a wrong password: no cap */
    uint32_t q8 = call_login(p, crpc_target_answer(q_boot, 0, 0), "wrong");
    pump(p);
    EXPECT(exception_is(p, q1, CRPC_EXC_UNIMPLEMENTED, "unknown-method"));
    EXPECT(exception_is(p, q2, CRPC_EXC_UNIMPLEMENTED, "unimplemented"));
    const crpc_event *e = event_for(p, q3);
    EXPECT(e && e->kind == CRPC_EV_RETURN);
    if (e) {
        capos_UserSession_info_Results_reader r = { crpc_content(e) };
        EXPECT(text_is(capos_UserSession_info_Results_get_authMethod(r), "password"));
    }
    EXPECT(exception_is(p, q4, CRPC_EXC_UNIMPLEMENTED, "unknown-method"));
    EXPECT(exception_is(p, q5, CRPC_EXC_FAILED, "not-a-cap"));
    EXPECT(exception_is(p, q6, CRPC_EXC_FAILED, "unknown-cap"));
    EXPECT(exception_is(p, q7, CRPC_EXC_FAILED, "unknown-cap"));
    e = event_for(p, q8);
    EXPECT(e && e->kind == CRPC_EV_RETURN && e->ncaps == 0);
    if (e) {
        capos_RemoteAdmission_login_Results_reader r = { crpc_content(e) };
        EXPECT(capos_RemoteAdmission_login_Results_get_result(r) == capos_LoginResult_denied);
    }
    EXPECT(p->s.rpc.state == CRPC_OPEN);
    close_both(p);
    free(p);
}

static void test_logout_revokes(void)
{
    struct pair *p = pair_new();
    login_pipelined(p, "echo");
    const crpc_event *g = event_for(p, q_get);
    uint32_t echo_h = g ? g->caps[0] : 0;
    reset(p);
    uint16_t capset_field = 0, f0 = 0;
    uint32_t qs = call_get(p, crpc_target_answer(q_login, 1, &capset_field), "session");
    uint32_t qo = call_empty(p, crpc_target_answer(qs, 1, &f0), capos_UserSession_ID,
                             capos_UserSession_METHOD_logout);
    pump(p);
    EXPECT(event_for(p, qo) && event_for(p, qo)->kind == CRPC_EV_RETURN);
    EXPECT(p->s.rpc.revoked);
    EXPECT(p->s.dropped == 4); /* admission, capset, echo, session */
    reset(p);
    uint32_t q1 = call_echo(p, crpc_target_import(echo_h), capos_Echo_ID, 0, "x");
    uint32_t q2 = call_get(p, crpc_target_answer(q_login, 1, &capset_field), "echo");
    uint32_t q3;
    EXPECT(crpc_bootstrap(&p->c.rpc, &q3) == CRPC_OK);
    pump(p);
    EXPECT(exception_is(p, q1, CRPC_EXC_DISCONNECTED, "disconnected"));
    EXPECT(exception_is(p, q2, CRPC_EXC_DISCONNECTED, "disconnected"));
    EXPECT(exception_is(p, q3, CRPC_EXC_DISCONNECTED, "disconnected"));
    /* the client's releases of what it held are ignored, not protocol errors */
    for (uint32_t i = 0; i < 16; i++)
        while (p->c.im[i].used)
            crpc_release(&p->c.rpc, i);
    finish_all(p);
    EXPECT(p->s.rpc.state == CRPC_OPEN);
    EXPECT(crpc_live(&p->s.rpc) == 0);
    EXPECT(crpc_live(&p->c.rpc) == 0);
    close_both(p);
    free(p);
}

static void test_key_login(void)
{
    struct pair *p = pair_new();
    reset(p);
    uint32_t qb, qc;
    EXPECT(crpc_bootstrap(&p->c.rpc, &qb) == CRPC_OK);
    qc = call_empty(p, crpc_target_answer(qb, 0, 0), capos_RemoteAdmission_ID,
                    capos_RemoteAdmission_METHOD_challenge);
    pump(p);
    const crpc_event *e = event_for(p, qc);
    EXPECT(e && e->kind == CRPC_EV_RETURN);
    uint8_t msg[64], sig[64];
    memcpy(msg, TSRV_KEY_DOMAIN, 19);
    if (e) {
        capos_RemoteAdmission_challenge_Results_reader r = { crpc_content(e) };
        capnp_data n = capos_RemoteAdmission_challenge_Results_get_nonce(r);
        EXPECT(n.len == 32);
        memcpy(msg + 19, n.ptr, 32);
    }
    for (int i = 0; i < 64; i++)
        sig[i] = (uint8_t)(msg[i % 32] ^ test_key[0][i % 32]);
    for (int round = 0; round < 2; round++) { /* the second reuses the nonce: denied */
        reset(p);
        crpc_call call;
        uint32_t q;
        capos_RemoteAdmission_keyLogin_Params_builder b = {
            crpc_call_begin(&p->c.rpc, &call, crpc_target_answer(qb, 0, 0), capos_RemoteAdmission_ID,
                            capos_RemoteAdmission_METHOD_keyLogin, capos_RemoteAdmission_keyLogin_Params_DATA_WORDS,
                            capos_RemoteAdmission_keyLogin_Params_PTR_WORDS) };
        capos_RemoteAdmission_keyLogin_Params_set_principal(b, "admin", 5);
        capos_RemoteAdmission_keyLogin_Params_set_publicKey(b, test_key[0], 32);
        capos_RemoteAdmission_keyLogin_Params_set_signature(b, sig, 64);
        EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_OK);
        pump(p);
        e = event_for(p, q);
        EXPECT(e && e->kind == CRPC_EV_RETURN);
        if (e) {
            capos_RemoteAdmission_keyLogin_Results_reader r = { crpc_content(e) };
            EXPECT(capos_RemoteAdmission_keyLogin_Results_get_result(r) ==
                   (round == 0 ? capos_LoginResult_ok : capos_LoginResult_denied));
            EXPECT(e->ncaps == (round == 0 ? 1u : 0u));
        }
    }
    EXPECT(strcmp(p->s.auth, "publicKey") == 0);
    close_both(p);
    free(p);
}

/* A Finish before the Return (cancel): the callee drops what the Return
 * gave, the caller imports nothing. */
static void test_cancel(void)
{
    struct pair *p = pair_new();
    reset(p);
    uint32_t qb;
    EXPECT(crpc_bootstrap(&p->c.rpc, &qb) == CRPC_OK);
    uint32_t ql = call_login(p, crpc_target_answer(qb, 0, 0), "secret");
    EXPECT(crpc_finish(&p->c.rpc, ql) == CRPC_OK);
    EXPECT(crpc_finish(&p->c.rpc, ql) == CRPC_ERR_HANDLE);
    pump(p);
    EXPECT(event_for(p, ql) == 0);
    EXPECT(crpc_live(&p->c.rpc) == 2); /* bootstrap question + admission import */
    EXPECT(crpc_live(&p->s.rpc) == 2); /* its answer + the admission export */
    crpc_finish(&p->c.rpc, qb);
    crpc_release(&p->c.rpc, event_for(p, qb)->caps[0]);
    pump(p);
    EXPECT(crpc_live(&p->c.rpc) == 0 && crpc_live(&p->s.rpc) == 0);
    EXPECT(p->s.dropped == 2);
    close_both(p);
    free(p);
}

/* ----------------------------------------------------------- hostile frames */

/* A frame builder: the Message root and its body struct. */
struct frame {
    uint8_t buf[2048];
    capnp_builder b;
    capnp_sbuilder body;
    size_t len;
};

static capnp_sbuilder frame_begin(struct frame *f, uint16_t which, uint16_t dw, uint16_t pw)
{
    capnp_builder_init(&f->b, f->buf, sizeof f->buf);
    capnp_sbuilder m = capnp_builder_root(&f->b, 1, 1);
    capnp_set_u16(m, 0, which);
    f->body = capnp_init_struct(m, 0, dw, pw);
    return f->body;
}

static void frame_end(struct frame *f)
{
    EXPECT(capnp_builder_finish(&f->b, &f->len) == CAPNP_OK);
}

/* Call{qid, target importedCap id | promisedAnswer}, empty params. */
static void frame_call(struct frame *f, uint32_t qid, bool promised, uint32_t id, uint64_t iface,
                       uint16_t method)
{
    capnp_sbuilder c = frame_begin(f, 2, 3, 3);
    capnp_set_u32(c, 0, qid);
    capnp_set_u16(c, 4, method);
    capnp_set_u64(c, 8, iface);
    capnp_sbuilder t = capnp_init_struct(c, 0, 1, 1);
    if (promised) {
        capnp_set_u16(t, 4, 1);
        capnp_set_u32(capnp_init_struct(t, 0, 1, 1), 0, id);
    } else {
        capnp_set_u32(t, 0, id);
    }
    capnp_sbuilder pl = capnp_init_struct(c, 1, 0, 2);
    capnp_init_struct(pl, 0, 0, 0);
}

/* The server's last Abort reason, if its output holds one. */
static bool server_aborted(struct tsrv *s, const char *reason)
{
    size_t n, off = 0;
    const uint8_t *o = crpc_output(&s->rpc, &n);
    bool found = false;
    while (off < n) {
        crpc_limits lim;
        crpc_default_limits(&lim);
        size_t fl;
        int r;
        if (crpc_frame(&lim, o + off, n - off, &fl, &r) != CRPC_OK)
            break;
        capnp_msg m;
        capnp_msg_init(&m, o + off, fl);
        capnp_struct root = capnp_msg_root(&m);
        if (capnp_get_u16(root, 0) == 1) {
            capnp_struct x = capnp_get_struct(root, 0);
            found = text_is(capnp_get_text(x, 0), reason);
        }
        off += fl;
    }
    return found && s->rpc.state == CRPC_CLOSED && crpc_live(&s->rpc) == 0;
}

/* Has the server queued an Unimplemented echoing message kind `which`? */
static bool server_unimplemented(struct tsrv *s, uint16_t which)
{
    size_t n;
    const uint8_t *o = crpc_output(&s->rpc, &n);
    capnp_msg m;
    if (capnp_msg_init(&m, o, n) != CAPNP_OK)
        return false;
    capnp_struct root = capnp_msg_root(&m);
    return capnp_get_u16(root, 0) == 0 && capnp_get_u16(capnp_get_struct(root, 0), 0) == which;
}

static struct tsrv *server_new(void)
{
    struct tsrv *s = calloc(1, sizeof *s);
    tsrv_init(s, 0);
    s->random = fake_random;
    s->verify = fake_verify;
    return s;
}

static int server_feed(struct tsrv *s, const void *buf, size_t len)
{
    return feed(&s->rpc, buf, len, 0, 0, 0, 0, 0);
}

/* Bootstrap question 0 answered: export id 1<<12 (slot 0, generation 1). */
#define ADMISSION_EID (1u << 12)

static struct tsrv *server_bootstrapped(void)
{
    struct tsrv *s = server_new();
    struct frame f;
    capnp_set_u32(frame_begin(&f, 8, 1, 1), 0, 0);
    frame_end(&f);
    EXPECT(server_feed(s, f.buf, f.len) == CRPC_OK);
    size_t n;
    crpc_output(&s->rpc, &n);
    crpc_output_done(&s->rpc, n);
    return s;
}

static void expect_abort(struct tsrv *s, const void *buf, size_t len, const char *reason, int line)
{
    int rc = server_feed(s, buf, len);
    bool ok = rc == CRPC_ERR_CLOSED && server_aborted(s, reason);
    if (!ok)
        fprintf(stderr, "unit.c:%d: abort %s: rc %d state %d reason %s\n", line, reason, rc,
                s->rpc.state, crpc_reason_name(s->rpc.reason));
    EXPECT(ok);
    EXPECT(s->dropped == (int)(s->rpc.mem.nexports ? s->dropped : 0));
    EXPECT(crpc_live(&s->rpc) == 0);
    free(s);
}
#define EXPECT_ABORT(s, b, n, r) expect_abort(s, b, n, r, __LINE__)

static void test_hostile(void)
{
    struct frame f;
    /* framing */
    static const uint8_t many_segs[] = { 200, 0, 0, 0, 1, 0, 0, 0 };
    EXPECT_ABORT(server_new(), many_segs, sizeof many_segs, "bad-frame");
    static const uint8_t neg_segs[] = { 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0 };
    EXPECT_ABORT(server_new(), neg_segs, sizeof neg_segs, "bad-frame");
    static const uint8_t huge[] = { 0, 0, 0, 0, 0, 0, 0, 1 };
    EXPECT_ABORT(server_new(), huge, sizeof huge, "too-large");
    static const uint8_t empty_seg[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    EXPECT_ABORT(server_new(), empty_seg, sizeof empty_seg, "bad-frame");
    /* a root pointer out of its segment */
    static const uint8_t oob[] = { 0, 0, 0, 0, 1, 0, 0, 0, 0x40, 0, 0, 0, 1, 0, 1, 0 };
    EXPECT_ABORT(server_new(), oob, sizeof oob, "malformed");
    /* half a frame: nothing yet */
    {
        struct tsrv *s = server_new();
        size_t used;
        crpc_event ev;
        EXPECT(crpc_input(&s->rpc, oob, 12, &used, &ev) == CRPC_MORE && used == 0);
        EXPECT(crpc_input(&s->rpc, oob, 3, &used, &ev) == CRPC_MORE);
        free(s);
    }
    /* a known kind without its body */
    capnp_builder_init(&f.b, f.buf, sizeof f.buf);
    capnp_set_u16(capnp_builder_root(&f.b, 1, 1), 0, 2);
    frame_end(&f);
    EXPECT_ABORT(server_new(), f.buf, f.len, "malformed");
    /* forged export id; id 0 (generation 0) never exists */
    frame_call(&f, 5, false, ADMISSION_EID + 3, capos_RemoteAdmission_ID, 0);
    frame_end(&f);
    EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-export");
    frame_call(&f, 5, false, 0, capos_RemoteAdmission_ID, 0);
    frame_end(&f);
    EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-export");
    frame_call(&f, 5, false, ADMISSION_EID + (1u << 12), capos_RemoteAdmission_ID, 0);
    frame_end(&f);
    EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-export");
    /* question id reused before its Finish (0 is the bootstrap's) */
    frame_call(&f, 0, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
    frame_end(&f);
    EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "question-reused");
    /* a pipelined call on an answer that does not exist */
    frame_call(&f, 5, true, 77, capos_RemoteAdmission_ID, 1);
    frame_end(&f);
    EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-answer");
    /* a Finish for no answer */
    capnp_set_u32(frame_begin(&f, 4, 1, 0), 0, 9);
    frame_end(&f);
    EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-answer");
    /* Release of more than was sent; of an id never issued */
    {
        capnp_sbuilder r = frame_begin(&f, 6, 1, 0);
        capnp_set_u32(r, 0, ADMISSION_EID);
        capnp_set_u32(r, 4, 2);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "release-count");
        r = frame_begin(&f, 6, 1, 0);
        capnp_set_u32(r, 0, 99);
        capnp_set_u32(r, 4, 1);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-export");
    }
    /* a Return for a question the server never asked */
    capnp_set_u32(frame_begin(&f, 3, 2, 1), 0, 3);
    frame_end(&f);
    EXPECT_ABORT(server_new(), f.buf, f.len, "unknown-question");
    /* an unknown target kind */
    {
        capnp_sbuilder c = frame_begin(&f, 2, 3, 3);
        capnp_set_u32(c, 0, 4);
        capnp_sbuilder t = capnp_init_struct(c, 0, 1, 1);
        capnp_set_u16(t, 4, 7);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "bad-target");
    }
    /* an unknown transform op */
    {
        capnp_sbuilder c = frame_begin(&f, 2, 3, 3);
        capnp_set_u32(c, 0, 4);
        capnp_sbuilder t = capnp_init_struct(c, 0, 1, 1);
        capnp_set_u16(t, 4, 1);
        capnp_sbuilder pa = capnp_init_struct(t, 0, 1, 1);
        capnp_lbuilder ops = capnp_init_struct_list(pa, 0, 1, 1, 0);
        capnp_set_u16(capnp_lget_struct(ops, 0), 0, 9);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "bad-transform");
    }
    /* a cap descriptor of an unknown kind; too many descriptors */
    {
        frame_call(&f, 4, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
        capnp_sbuilder pl = capnp_init_struct(f.body, 1, 0, 2);
        capnp_lbuilder l = capnp_init_struct_list(pl, 1, 1, 1, 1);
        capnp_set_u16(capnp_lget_struct(l, 0), 0, 5);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "bad-cap-descriptor");
        frame_call(&f, 4, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
        pl = capnp_init_struct(f.body, 1, 0, 2);
        capnp_init_struct_list(pl, 1, CRPC_MAX_CAPS + 1, 1, 1);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "bad-cap-descriptor");
        /* receiverHosted naming a forged export */
        frame_call(&f, 4, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
        pl = capnp_init_struct(f.body, 1, 0, 2);
        l = capnp_init_struct_list(pl, 1, 1, 1, 1);
        capnp_set_u16(capnp_lget_struct(l, 0), 0, 3);
        capnp_set_u32(capnp_lget_struct(l, 0), 4, 12345);
        frame_end(&f);
        EXPECT_ABORT(server_bootstrapped(), f.buf, f.len, "unknown-export");
    }
    /* too many questions in flight (no Finish): the table has 32 */
    {
        struct tsrv *s = server_bootstrapped();
        for (uint32_t q = 1; q < TSRV_ANSWERS; q++) {
            frame_call(&f, q, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
            frame_end(&f);
            EXPECT(server_feed(s, f.buf, f.len) == CRPC_OK);
            size_t n;
            crpc_output(&s->rpc, &n);
            crpc_output_done(&s->rpc, n);
        }
        frame_call(&f, 999, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
        frame_end(&f);
        EXPECT_ABORT(s, f.buf, f.len, "too-many-questions");
    }
    /* the peer's Abort closes, with its reason */
    {
        struct tsrv *s = server_bootstrapped();
        capnp_sbuilder x = frame_begin(&f, 1, 1, 2);
        capnp_set_text(x, 0, "bye", 3);
        frame_end(&f);
        size_t used;
        crpc_event ev;
        EXPECT(crpc_input(&s->rpc, f.buf, f.len, &used, &ev) == CRPC_ERR_CLOSED);
        EXPECT(ev.kind == CRPC_EV_CLOSED && text_is(ev.reason, "bye"));
        EXPECT(s->rpc.reason == CRPC_R_PEER_ABORT && crpc_live(&s->rpc) == 0 && s->dropped == 1);
        EXPECT(crpc_input(&s->rpc, f.buf, f.len, &used, &ev) == CRPC_ERR_CLOSED);
        free(s);
    }
}

/* Kinds we do not speak come back in an Unimplemented; the connection goes on. */
static void test_unimplemented(void)
{
    struct frame f;
    static const uint16_t kinds[] = { 5, 7, 9, 10, 11, 12, 13, 14, 200 };
    struct tsrv *s = server_bootstrapped();
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        frame_begin(&f, kinds[i], 1, 1);
        frame_end(&f);
        EXPECT(server_feed(s, f.buf, f.len) == CRPC_OK);
        EXPECT(server_unimplemented(s, kinds[i]));
        size_t n;
        crpc_output(&s->rpc, &n);
        crpc_output_done(&s->rpc, n);
    }
    /* results sent elsewhere: an exception */
    frame_call(&f, 3, false, ADMISSION_EID, capos_RemoteAdmission_ID, 1);
    capnp_set_u16(f.body, 6, 1);
    frame_end(&f);
    EXPECT(server_feed(s, f.buf, f.len) == CRPC_OK);
    EXPECT(s->rpc.state == CRPC_OPEN);
    crpc_close(&s->rpc);
    EXPECT(crpc_live(&s->rpc) == 0);
    free(s);

    /* the client: its Call echoed back as Unimplemented fails unimplemented */
    struct client *c = calloc(1, sizeof *c);
    client_init(c);
    uint32_t qb;
    EXPECT(crpc_bootstrap(&c->rpc, &qb) == CRPC_OK);
    size_t n;
    const uint8_t *o = crpc_output(&c->rpc, &n);
    capnp_msg m;
    capnp_msg_init(&m, o, n);
    capnp_builder_init(&f.b, f.buf, sizeof f.buf);
    capnp_sbuilder root = capnp_builder_root(&f.b, 1, 1);
    capnp_set_u16(root, 0, 0);
    capnp_copy_struct(root, 0, capnp_msg_root(&m));
    frame_end(&f);
    crpc_output_done(&c->rpc, n);
    crpc_event evs[2];
    uint32_t nev = 0;
    EXPECT(feed(&c->rpc, f.buf, f.len, evs, &nev, 2, 0, 0) == CRPC_OK);
    EXPECT(nev == 1 && evs[0].kind == CRPC_EV_EXCEPTION && evs[0].type == CRPC_EXC_UNIMPLEMENTED);
    EXPECT(crpc_finish(&c->rpc, qb) == CRPC_OK);
    crpc_output(&c->rpc, &n);
    EXPECT(n == 0); /* no Finish for a question the peer never took */
    EXPECT(crpc_live(&c->rpc) == 0);
    free(c);
}

/* A server whose output queue is nearly full answers results-too-large or
 * closes output-full, never writes past its buffer. */
static void test_output_full(void)
{
    struct pair *p = pair_new();
    login_pipelined(p, "echo");
    const crpc_event *g = event_for(p, q_get);
    uint32_t echo_h = g ? g->caps[0] : 0;
    finish_all(p);
    reset(p);
    p->s.rpc.mem.out_cap = 8192; /* a Return of 12000 bytes cannot be queued */
    char big[12000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    uint32_t q = call_echo(p, crpc_target_import(echo_h), capos_Echo_ID, 0, big);
    pump(p);
    /* the params fit the scratch, the Return does not fit the queue */
    EXPECT(exception_is(p, q, CRPC_EXC_FAILED, "results-too-large"));
    close_both(p);
    free(p);
}

/* Messages produced by the C++ library (libcapnp-rpc 0.9.2), captured on
 * the wire by tests/capnp-rpc/capture.py: its client's Bootstrap and
 * pipelined calls, its Finish and Release; they must be taken as they are. */
#include "vectors.h"

static void test_cxx_vectors(void)
{
    struct tsrv *s = server_new();
    s->random = fake_random;
    uint32_t taken = 0;
    for (size_t i = 0; i < sizeof cxx_client_frames / sizeof cxx_client_frames[0]; i++) {
        const struct vec *v = &cxx_client_frames[i];
        int rc = server_feed(s, v->bytes, v->len);
        if (rc != CRPC_OK)
            fprintf(stderr, "vector %s: rc %d reason %s\n", v->name, rc, crpc_reason_name(s->rpc.reason));
        EXPECT(rc == CRPC_OK);
        taken += rc == CRPC_OK;
        size_t n;
        crpc_output(&s->rpc, &n);
        crpc_output_done(&s->rpc, n);
    }
    EXPECT(taken > 0);
    EXPECT(s->rpc.state == CRPC_OPEN);
    EXPECT(s->rpc.calls >= 2);
    crpc_close(&s->rpc);
    EXPECT(crpc_live(&s->rpc) == 0);
    free(s);

    /* the C++ server's answers, read by our client */
    struct client *c = calloc(1, sizeof *c);
    client_init(c);
    uint32_t nret = 0;
    for (size_t i = 0; i < sizeof cxx_server_frames / sizeof cxx_server_frames[0]; i++) {
        const struct vec *v = &cxx_server_frames[i];
        /* the question each Return answers was asked by the captured client */
        capnp_msg m;
        capnp_msg_init(&m, v->bytes, v->len);
        capnp_struct root = capnp_msg_root(&m);
        uint32_t aid = capnp_get_u32(capnp_get_struct(root, 0), 0);
        if (capnp_get_u16(root, 0) == 3 && aid < 16)
            c->q[aid].state = 1;
        crpc_event evs[2];
        uint32_t nev = 0;
        int rc = feed(&c->rpc, v->bytes, v->len, evs, &nev, 2, 0, 0);
        bool abort = capnp_get_u16(root, 0) == 1; /* its goodbye when the client left */
        bool ok = abort ? rc == CRPC_ERR_CLOSED && c->rpc.reason == CRPC_R_PEER_ABORT : rc == CRPC_OK;
        if (!ok)
            fprintf(stderr, "vector %s: rc %d reason %s\n", v->name, rc, crpc_reason_name(c->rpc.reason));
        EXPECT(ok);
        nret += nev;
        size_t n;
        crpc_output(&c->rpc, &n);
        crpc_output_done(&c->rpc, n);
    }
    EXPECT(nret > 0);
    crpc_close(&c->rpc);
    EXPECT(crpc_live(&c->rpc) == 0);
    free(c);
}

/* Caps in a call's params: ours passed back (receiverHosted) reach the
 * handler as live export handles; a handle the client does not hold is
 * refused before anything is sent.  Retain/release count. */
static void test_param_caps(void)
{
    struct pair *p = pair_new();
    login_pipelined(p, "echo");
    const crpc_event *g = event_for(p, q_get);
    uint32_t echo_h = g ? g->caps[0] : 0;
    finish_all(p);
    reset(p);
    crpc_call call;
    uint32_t q;
    capnp_sbuilder b = crpc_call_begin(&p->c.rpc, &call, crpc_target_import(echo_h), capos_Echo_ID, 0, 0, 1);
    capnp_add_cap(b, echo_h);
    capnp_add_cap(b, CAPNP_NO_CAP);
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_OK);
    pump(p);
    EXPECT(event_for(p, q) && event_for(p, q)->kind == CRPC_EV_RETURN);
    b = crpc_call_begin(&p->c.rpc, &call, crpc_target_import(echo_h), capos_Echo_ID, 0, 0, 1);
    capnp_add_cap(b, CRPC_H_EXPORT | 5);
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_ERR_HANDLE);
    b = crpc_call_begin(&p->c.rpc, &call, crpc_target_import(echo_h), capos_Echo_ID, 0, 0, 1);
    capnp_add_cap(b, 9);
    EXPECT(crpc_call_send(&p->c.rpc, &call, &q) == CRPC_ERR_HANDLE);
    EXPECT(crpc_retain(&p->c.rpc, echo_h) == CRPC_OK);
    EXPECT(crpc_release(&p->c.rpc, echo_h) == CRPC_OK);
    size_t n;
    crpc_output(&p->c.rpc, &n);
    EXPECT(n == 0); /* still held once: no Release yet */
    EXPECT(crpc_release(&p->c.rpc, echo_h) == CRPC_OK);
    crpc_output(&p->c.rpc, &n);
    EXPECT(n > 0);
    /* partial writes of the output queue */
    size_t before = n;
    crpc_output_done(&p->c.rpc, 8);
    crpc_output(&p->c.rpc, &n);
    EXPECT(n == before - 8);
    crpc_output_done(&p->c.rpc, 1000000);
    crpc_output(&p->c.rpc, &n);
    EXPECT(n == 0);
    close_both(p);
    free(p);
}

/* The output queue full to the reserve: the server says output-full in an
 * Abort and closes; a client gets CRPC_ERR_NO_SPACE and goes on. */
static void test_queue_full(void)
{
    struct tsrv *s = server_bootstrapped();
    struct frame f;
    s->rpc.mem.out_cap = s->rpc.out_len + CRPC_ABORT_RESERVE + 16;
    frame_call(&f, 3, false, ADMISSION_EID, capos_RemoteAdmission_ID, 9);
    frame_end(&f);
    EXPECT_ABORT(s, f.buf, f.len, "output-full");

    struct client *c = calloc(1, sizeof *c);
    client_init(c);
    c->rpc.mem.out_cap = CRPC_ABORT_RESERVE + 8;
    uint32_t q;
    EXPECT(crpc_bootstrap(&c->rpc, &q) == CRPC_ERR_NO_SPACE);
    crpc_call call;
    c->im[0].used = 1; /* an import to aim at */
    c->im[0].local_refs = 1;
    crpc_call_begin(&c->rpc, &call, crpc_target_import(0), 1, 0, 0, 0);
    EXPECT(crpc_call_send(&c->rpc, &call, &q) == CRPC_ERR_NO_SPACE);
    EXPECT(c->rpc.state == CRPC_OPEN);
    c->im[0].used = 0;
    EXPECT(crpc_live(&c->rpc) == 0);
    free(c);

    /* limits given at init; a bad segment bound is clamped */
    crpc_limits lim;
    crpc_default_limits(&lim);
    lim.max_segments = 0;
    lim.max_message_bytes = 64;
    s = calloc(1, sizeof *s);
    tsrv_init(s, &lim);
    EXPECT(s->rpc.lim.max_segments == CAPNP_MAX_SEGMENTS);
    capnp_set_u32(frame_begin(&f, 8, 1, 1), 0, 0);
    frame_end(&f);
    EXPECT(server_feed(s, f.buf, f.len) == CRPC_OK); /* 32 bytes: fits */
    frame_call(&f, 3, false, ADMISSION_EID, capos_RemoteAdmission_ID, 9);
    frame_end(&f);
    EXPECT_ABORT(s, f.buf, f.len, "too-large");
}

static void test_misc(void)
{
    EXPECT(strcmp(crpc_reason_name(CRPC_R_STALE_CAP), "stale-cap") == 0);
    EXPECT(strcmp(crpc_reason_name(1000), "unknown") == 0);
    EXPECT(strcmp(crpc_reason_name(29), "unknown") == 0);
    crpc_target t = crpc_target_answer(0, CRPC_MAX_PATH + 1, 0);
    struct client *c = calloc(1, sizeof *c);
    client_init(c);
    crpc_call call;
    uint32_t q;
    crpc_call_begin(&c->rpc, &call, t, 1, 0, 0, 0);
    EXPECT(crpc_call_send(&c->rpc, &call, &q) == CRPC_ERR_INVALID);
    crpc_call_begin(&c->rpc, &call, crpc_target_answer(3, 0, 0), 1, 0, 0, 0);
    EXPECT(crpc_call_send(&c->rpc, &call, &q) == CRPC_ERR_HANDLE);
    EXPECT(crpc_retain(&c->rpc, 0) == CRPC_ERR_HANDLE);
    EXPECT(crpc_finish(&c->rpc, 0) == CRPC_ERR_HANDLE);
    /* the question table fills */
    for (int i = 0; i < 16; i++)
        EXPECT(crpc_bootstrap(&c->rpc, &q) == CRPC_OK);
    EXPECT(crpc_bootstrap(&c->rpc, &q) == CRPC_ERR_TABLE_FULL);
    crpc_abort(&c->rpc, CRPC_R_FAILED, CRPC_EXC_FAILED);
    EXPECT(crpc_bootstrap(&c->rpc, &q) == CRPC_ERR_CLOSED);
    EXPECT(crpc_release(&c->rpc, 0) == CRPC_ERR_CLOSED);
    EXPECT(crpc_finish(&c->rpc, 0) == CRPC_ERR_CLOSED);
    EXPECT(crpc_live(&c->rpc) == 0);
    free(c);
}

int main(void)
{
    test_pipelined_login();
    test_list_and_info();
    test_denials();
    test_logout_revokes();
    test_key_login();
    test_cancel();
    test_hostile();
    test_unimplemented();
    test_output_full();
    test_cxx_vectors();
    test_param_caps();
    test_queue_full();
    test_misc();
    printf("capnp-rpc unit: %d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}
