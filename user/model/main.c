/*
 * model: a deterministic LanguageModel (export "model"). It plays the
 * script its manifest args name (script=demo); the scene is chosen by a
 * word of the user's last message. It holds no cap but its endpoint and
 * the timer: no session, terminal, launcher, token or secret. Another
 * LanguageModel server can replace it without touching the shell.
 *
 * Scenes of the demo script:
 *   tools      says which tools it was shown
 *   read       calls session, then echo (read-only)
 *   mutate     calls run (hello)
 *   admin      calls useradd
 *   forbidden  calls keyadd (a tool it was not shown)
 *   malformed  an unknown tool, bad arguments, oversize arguments
 *   runaway    one more echo call every batch, never done
 *   slow       answers after 30 s (the caller cancels or times out)
 *   pause      calls pause for 30 s
 * Anything else: a short text answer.
 */
#include "rt/capos.h"

#define SLOW_NS (30ull * 1000000000ull)

static struct rt_incoming in;
static uint32_t owner;
static uint32_t turn_id, call_id;
static bool active;
static char scene[16];
static uint32_t step;
static char shown[512];                       /* the tool names of the turn */
static char script[24] = "demo";
static bool slow_pending;
static uint32_t slow_call;
static uint64_t slow_due;

static void text_ev(capnp_lbuilder l, uint32_t i, const char *t)
{
    capos_ModelEvent_builder e = capos_ModelEvent_list_at(l, i);
    capos_ModelEvent_set_text(e, t, strlen(t));
}

static void call_ev(capnp_lbuilder l, uint32_t i, const char *name, const char *args)
{
    capos_ModelEvent_builder e = capos_ModelEvent_list_at(l, i);
    capos_ModelEvent_set_isCall(e, true);
    capos_ToolCall_builder c = capos_ModelEvent_init_call(e);
    capos_ToolCall_set_id(c, ++call_id);
    capos_ToolCall_set_name(c, name, strlen(name));
    capos_ToolCall_set_arguments(c, args, strlen(args));
}

/* The results the shell sent back, as "name=status/reason ..." text. */
static void summary(capnp_list res, char *out, size_t cap)
{
    static const char *const st[] = { "ok", "denied", "cancelled", "failed", "timed-out" };
    size_t n = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < res.count && n < cap; i++) {
        capos_ToolResult_reader r = capos_ToolResult_list_get(res, i);
        uint16_t s = capos_ToolResult_get_status(r);
        capnp_text why = capos_ToolResult_get_reason(r);
        capnp_text c = capos_ToolResult_get_content(r);
        n += (size_t)fmt_snprintf(out + n, cap - n, "%s#%u %s/%.*s (%u bytes)", i ? ", " : "",
                                  capos_ToolResult_get_id(r), s < 5 ? st[s] : "?", (int)why.len, why.str, c.len);
    }
}

/* One batch of the scene: the number of events written, *done. */
static uint32_t play(capnp_lbuilder (*init)(void *, uint32_t), void *b, capnp_list results, bool *done)
{
    char buf[600];
    capnp_lbuilder l;
    *done = true;
    uint32_t s = step++;
    if (strcmp(script, "demo")) {
        l = init(b, 1);
        text_ev(l, 0, "this model knows no such script");
        return 1;
    }
    if (s > 0 && strcmp(scene, "runaway")) {
        summary(results, buf, 400);
        char t[480];
        fmt_snprintf(t, sizeof t, "results: %s", buf);
        l = init(b, 1);
        text_ev(l, 0, t);
        return 1;
    }
    if (!strcmp(scene, "tools")) {
        fmt_snprintf(buf, sizeof buf, "shown: %s", shown);
        l = init(b, 1);
        text_ev(l, 0, buf);
        return 1;
    }
    *done = false;
    if (!strcmp(scene, "read")) {
        l = init(b, 3);
        text_ev(l, 0, "looking at the session");
        call_ev(l, 1, "session", "{}");
        call_ev(l, 2, "echo", "{\"text\":\"tell-nobody-42\"}");
        return 3;
    }
    if (!strcmp(scene, "mutate")) {
        l = init(b, 1);
        call_ev(l, 0, "run", "{\"program\":\"hello\"}");
        return 1;
    }
    if (!strcmp(scene, "admin")) {
        l = init(b, 1);
        call_ev(l, 0, "useradd", "{\"name\":\"carol\",\"profiles\":\"guest\"}");
        return 1;
    }
    if (!strcmp(scene, "forbidden")) {
        l = init(b, 1);
        call_ev(l, 0, "keyadd", "{\"name\":\"admin\",\"key\":\"ssh-ed25519 AAAA\"}");
        return 1;
    }
    if (!strcmp(scene, "malformed")) {
        l = init(b, 4);
        call_ev(l, 0, "rm-everything", "{}");
        call_ev(l, 1, "echo", "{\"txt\":17}");
        call_ev(l, 2, "echo", "not json");
        memset(buf, 'x', sizeof buf);
        memcpy(buf, "{\"text\":\"", 9);
        memcpy(buf + sizeof buf - 3, "\"}", 3);
        call_ev(l, 3, "echo", buf);
        return 4;
    }
    if (!strcmp(scene, "runaway")) {
        l = init(b, 1);
        call_ev(l, 0, "echo", "{\"text\":\"again\"}");
        return 1;
    }
    if (!strcmp(scene, "pause")) {
        l = init(b, 1);
        call_ev(l, 0, "pause", "{\"seconds\":30}");
        return 1;
    }
    *done = true;
    l = init(b, 1);
    text_ev(l, 0, "hello from the demo model; try: tools, read, mutate, admin, forbidden, malformed, runaway, slow, pause");
    return 1;
}

static capnp_lbuilder turn_init(void *b, uint32_t n)
{
    return capos_LanguageModel_turn_Results_init_events(*(capos_LanguageModel_turn_Results_builder *)b, n);
}

static capnp_lbuilder next_init(void *b, uint32_t n)
{
    return capos_LanguageModel_next_Results_init_events(*(capos_LanguageModel_next_Results_builder *)b, n);
}

static int do_info(void *self, capos_LanguageModel_info_Params_reader p, capos_LanguageModel_info_Results_builder r)
{
    capos_ModelInfo_builder i = capos_LanguageModel_info_Results_init_info(r);
    capos_ModelInfo_set_name(i, "capos-demo", 10);
    capos_ModelInfo_set_version(i, script, strlen(script));
    capos_ModelInfo_set_maxTurnBytes(i, CAP_MAX_PARAMS);
    capos_ModelInfo_set_maxEventsPerBatch(i, 8);
    return CAPNP_OK;
}

static int do_turn(void *self, capos_LanguageModel_turn_Params_reader p, capos_LanguageModel_turn_Results_builder r)
{
    capnp_list msgs = capos_LanguageModel_turn_Params_get_messages(p);
    capnp_list tools = capos_LanguageModel_turn_Params_get_tools(p);
    if (msgs.count == 0 || msgs.count > 8 || tools.count > 16)
        return CAP_ERR_INVALID_ARGUMENT;
    if (slow_pending)
        return CAP_ERR_INVALID_ARGUMENT;              /* one turn at a time */
    size_t n = 0;
    shown[0] = 0;
    for (uint32_t i = 0; i < tools.count && n < sizeof shown; i++) {
        capnp_text t = capos_ToolDescriptor_get_name(capos_ToolDescriptor_list_get(tools, i));
        n += (size_t)fmt_snprintf(shown + n, sizeof shown - n, "%s%.*s", i ? "," : "", (int)t.len, t.str);
    }
    capnp_text last = capos_ChatMessage_get_text(capos_ChatMessage_list_get(msgs, msgs.count - 1));
    static const char *const scenes[] = { "tools", "read", "mutate", "admin", "forbidden", "malformed",
                                          "runaway", "slow", "pause" };
    strlcpy(scene, "hello", sizeof scene);
    for (size_t i = 0; i < sizeof scenes / sizeof scenes[0]; i++) {
        size_t k = strlen(scenes[i]);
        for (size_t j = 0; j + k <= last.len; j++)
            if (!memcmp(last.str + j, scenes[i], k)) {
                strlcpy(scene, scenes[i], sizeof scene);
                goto found;
            }
    }
found:
    turn_id++;
    active = true;
    step = 0;
    if (!strcmp(scene, "slow")) {                      /* answered later, or cancelled */
        slow_pending = true;
        slow_call = in.hdr->call_id;
        slow_due = rt_timer_now() + SLOW_NS;
        in.deferred = true;
        return CAPNP_OK;
    }
    bool done;
    capos_LanguageModel_turn_Results_set_turn(r, turn_id);
    play(turn_init, &r, (capnp_list){ 0 }, &done);
    capos_LanguageModel_turn_Results_set_done(r, done);
    active = !done;
    return CAPNP_OK;
}

static int do_next(void *self, capos_LanguageModel_next_Params_reader p, capos_LanguageModel_next_Results_builder r)
{
    if (!active || capos_LanguageModel_next_Params_get_turn(p) != turn_id) {
        capos_LanguageModel_next_Results_set_done(r, true);
        return CAPNP_OK;
    }
    bool done;
    play(next_init, &r, capos_LanguageModel_next_Params_get_results(p), &done);
    capos_LanguageModel_next_Results_set_done(r, done);
    active = !done;
    return CAPNP_OK;
}

/* Answer the slow turn now: with its text, or (cancelled) with nothing. */
static void slow_answer(bool cancelled)
{
    static uint8_t out[512] __attribute__((aligned(8)));
    capnp_builder b;
    capnp_builder_init(&b, out, sizeof out);
    capos_LanguageModel_turn_Results_builder r = capos_LanguageModel_turn_Results_init_root(&b);
    capos_LanguageModel_turn_Results_set_turn(r, turn_id);
    capos_LanguageModel_turn_Results_set_done(r, true);
    if (!cancelled)
        text_ev(capos_LanguageModel_turn_Results_init_events(r, 1), 0, "a slow answer, at last");
    size_t len = 0;
    int e = capnp_builder_finish(&b, &len);
    rt_return(owner, slow_call, out, e ? 0 : (uint32_t)len, 0, 0, e != 0);
    slow_pending = false;
    active = false;
}

static int do_cancel(void *self, capos_LanguageModel_cancel_Params_reader p, capos_LanguageModel_cancel_Results_builder r)
{
    if (capos_LanguageModel_cancel_Params_get_turn(p) == turn_id || slow_pending) {
        if (slow_pending)
            slow_answer(true);
        active = false;
    }
    return CAPNP_OK;
}

static const capos_LanguageModel_server server = { .info = do_info, .turn = do_turn, .next = do_next,
                                                   .cancel = do_cancel };

#define TAG_RECV 1
int main(void)
{
    owner = rt_capset_require("model");
    const char *a = strstr(rt_capset->args, "script=");
    if (a) {
        size_t n = 0;
        a += 7;
        while (a[n] && a[n] != ' ' && n < sizeof script - 1)
            n++;
        memcpy(script, a, n);
        script[n] = 0;
    }
    static uint8_t buf[8192] __attribute__((aligned(8)));
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    rt_ring_submit_tagged(&s, TAG_RECV);
    for (;;) {
        struct cap_cqe c;
        while (!rt_ring_poll(&c)) {
            uint64_t now = slow_pending ? rt_timer_now() : 0;
            if (rt_ring_poll(&c))                      /* the clock's call may have drained it into the stash */
                break;
            if (slow_pending && now >= slow_due) {
                slow_answer(false);
                continue;
            }
            sys_cap_enter(1, slow_pending ? slow_due - now : CAP_TIMEOUT_FOREVER);
        }
        if (c.user_data != TAG_RECV)
            continue;
        if (c.result < 0)
            return 0;
        rt_serve_delivered(owner, &c, capos_LanguageModel_dispatch_any, &server, &in, buf, &in);
        for (uint32_t i = 0; i < in.ncaps; i++)          /* a model keeps no cap it is sent */
            rt_release(in.caps[i]);
        in.ncaps = 0;
        rt_ring_submit_tagged(&s, TAG_RECV);
    }
}
