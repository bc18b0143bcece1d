/*
 * Agent mode's model round trip per tool call (capOS only: the Linux guest
 * has no counterpart, so the figure is printed unpaired, next to the
 * ep-roundtrip of the same run).
 *   agent-text-turn      LanguageModel.turn of a prompt the demo model
 *                        answers with text alone (one call)
 *   agent-2call-turn     the turn of "read" (the model proposes 2 read-only
 *                        tool calls) plus the next() that hands back their
 *                        2 results (what the shell's gate does per turn,
 *                        minus running the tools)
 *   agent-per-tool-call  (agent-2call-turn - agent-text-turn) / 2 of each
 *                        sample pair: the model round trip a gated call adds
 * The model is the in-tree deterministic one (user/model), whose own work
 * is a few string compares: what is measured is the shell<->model IPC and
 * the Cap'n Proto building and reading on both sides.
 */
#include "../bench.h"

#define N 201
static uint64_t text_t[N], call_t[N], per_call[N];

#ifdef __capos__
static uint8_t params[4096] __attribute__((aligned(8))), result[4096] __attribute__((aligned(8)));

static int64_t model_call(uint32_t model, uint16_t method, capnp_builder *b)
{
    size_t len = 0;
    if (capnp_builder_finish(b, &len))
        return -1;
    struct cap_cqe c;
    int32_t r = rt_call(model, capos_LanguageModel_ID, method, params, (uint32_t)len, result, sizeof result, &c);
    return r;
}

static void tool(capnp_lbuilder l, uint32_t i, const char *name)
{
    capos_ToolDescriptor_builder d = capos_ToolDescriptor_list_at(l, i);
    capos_ToolDescriptor_set_name(d, name, strlen(name));
    capos_ToolDescriptor_set_title(d, name, strlen(name));
    capos_ToolDescriptor_set_inputSchema(d, "{}", 2);
    capos_ToolDescriptor_set_readOnly(d, true);
}

/* One turn of `prompt`; returns its events' tool calls (0: text only) and the turn id. */
static int turn(uint32_t model, const char *prompt, uint32_t *turn_id)
{
    capnp_builder b;
    capnp_builder_init(&b, params, sizeof params);
    capos_LanguageModel_turn_Params_builder p = capos_LanguageModel_turn_Params_init_root(&b);
    capos_ChatMessage_builder m = capos_ChatMessage_list_at(capos_LanguageModel_turn_Params_init_messages(p, 1), 0);
    capos_ChatMessage_set_role(m, "user", 4);
    capos_ChatMessage_set_text(m, prompt, strlen(prompt));
    capnp_lbuilder tl = capos_LanguageModel_turn_Params_init_tools(p, 2);
    tool(tl, 0, "session");
    tool(tl, 1, "echo");
    int64_t n = model_call(model, capos_LanguageModel_METHOD_turn, &b);
    capnp_msg msg;
    if (n < 0 || capnp_msg_init(&msg, result, (size_t)n) != CAPNP_OK)
        return -1;
    capos_LanguageModel_turn_Results_reader r = capos_LanguageModel_turn_Results_read_root(&msg);
    *turn_id = capos_LanguageModel_turn_Results_get_turn(r);
    capnp_list ev = capos_LanguageModel_turn_Results_get_events(r);
    int calls = 0;
    for (uint32_t i = 0; i < ev.count; i++)
        calls += capos_ModelEvent_get_isCall(capos_ModelEvent_list_get(ev, i));
    return calls;
}

/* Hand back `n` ok results; returns 1 when the model is done. */
static int next(uint32_t model, uint32_t turn_id, int n)
{
    capnp_builder b;
    capnp_builder_init(&b, params, sizeof params);
    capos_LanguageModel_next_Params_builder p = capos_LanguageModel_next_Params_init_root(&b);
    capos_LanguageModel_next_Params_set_turn(p, turn_id);
    capnp_lbuilder rl = capos_LanguageModel_next_Params_init_results(p, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        capos_ToolResult_builder t = capos_ToolResult_list_at(rl, (uint32_t)i);
        capos_ToolResult_set_id(t, (uint32_t)i + 1);
        capos_ToolResult_set_status(t, capos_ToolStatus_ok);
        capos_ToolResult_set_content(t, "ok", 2);
    }
    int64_t len = model_call(model, capos_LanguageModel_METHOD_next, &b);
    capnp_msg msg;
    if (len < 0 || capnp_msg_init(&msg, result, (size_t)len) != CAPNP_OK)
        return -1;
    return capos_LanguageModel_next_Results_get_done(capos_LanguageModel_next_Results_read_root(&msg));
}

int main(void)
{
    int64_t sp = rt_capset_lookup("spawner"), fa = rt_capset_lookup("endpoints");
    if (sp < 0 || fa < 0)
        return 2;
    uint32_t owner, model;
    if (rt_endpoint_create((uint32_t)fa, capos_LanguageModel_ID, 0, &owner, &model))
        return 3;
    const char *names[] = { "model", "timer" };
    uint32_t caps[] = { owner, rt_timer };
    int64_t srv = rt_spawn_args((uint32_t)sp, "model", names, caps, 2, ~0u, "script=demo");
    rt_release(owner);
    if (srv < 0)
        return 4;
    for (int i = 0; i < N + 20; i++) {
        uint32_t id;
        uint64_t t0 = bench_tsc();
        if (turn(model, "hi", &id) != 0)
            return 5;
        uint64_t t1 = bench_tsc();
        int calls = turn(model, "read", &id);
        if (calls != 2 || next(model, id, calls) != 1)
            return 6;
        uint64_t t2 = bench_tsc();
        if (i >= 20) {
            text_t[i - 20] = t1 - t0;
            call_t[i - 20] = t2 - t1;
            per_call[i - 20] = (t2 - t1) > (t1 - t0) ? ((t2 - t1) - (t1 - t0)) / 2 : 0;
        }
    }
    bench_report("agent-text-turn", text_t, N, 1);
    bench_report("agent-2call-turn", call_t, N, 1);
    bench_report("agent-per-tool-call", per_call, N, 1);
    rt_kill((uint32_t)srv);
    rt_wait((uint32_t)srv);
    return 0;
}
#else
int main(void)
{
    return 0;                   /* no Linux counterpart */
}
#endif
