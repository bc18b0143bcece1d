/*
 * ipc-client: one role per run (its argument), calling IpcProbe through the
 * facet "probe" and printing what happened as CLIENT lines for the harness.
 */
#include "rt/capos.h"
#include "capos_test.capnp.h"

static uint32_t probe;

static int echo(const void *data, size_t len, capos_test_IpcProbe_echo_Results_reader *out, capnp_call *call, capnp_call_bufs *b)
{
    capnp_client cl = RT_CLIENT(probe);
    return rt_error(capos_test_IpcProbe_echo(&cl, b, call, data, len, out));
}

/* takeCap with explicit descriptors (the stubs always copy). */
static int take_cap(const struct cap_xfer *x, uint32_t nx)
{
    uint8_t params[64] __attribute__((aligned(8)));
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, params, sizeof params);
    capos_test_IpcProbe_takeCap_Params_builder p = capos_test_IpcProbe_takeCap_Params_init_root(&b);
    capos_test_IpcProbe_takeCap_Params_set_cap(p, 0);   /* descriptor 0 */
    /* write the cap pointer by hand: index 0 of the transfer */
    capnp_builder_finish(&b, &len);
    uint8_t result[256] __attribute__((aligned(8)));
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .cap_id = probe, .interface_id = capos_test_IpcProbe_ID,
        .method_id = capos_test_IpcProbe_METHOD_takeCap, .addr = (uint64_t)params, .len = (uint32_t)len,
        .result_addr = (uint64_t)result, .result_len = sizeof result,
        .xfer_cap_count = (uint8_t)nx, .xfer_addr = (uint64_t)x,
    };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    return c.result < 0 ? c.result : 0;
}

static int timer_now_raw(uint32_t cap)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(cap);
    capnp_call call;
    capos_Timer_now_Results_reader r;
    return rt_error(capos_Timer_now(&cl, &b, &call, &r));
}

int main(void)
{
    const char *role = rt_capset->args;
    int64_t f = rt_capset_lookup("probe");
    if (f < 0)
        return 2;
    probe = (uint32_t)f;
    RT_BUFS(b, 4096, 1024);
    capnp_call call;
    capos_test_IpcProbe_echo_Results_reader r;

    if (!strcmp(role, "caps")) {
        for (uint32_t i = 0; i < rt_capset->count; i++)
            printf("CLIENT cap %s %016lx\n", rt_capset->entries[i].name, rt_capset->entries[i].interface_id);
        printf("CLIENT caps count=%u\n", rt_capset->count);
        return 0;
    }
    if (!strncmp(role, "echo ", 5)) {
        uint64_t ref0 = 0, ref1 = 0;
        int stable = 1;
        for (int i = 0; i < 3; i++) {
            int e = echo("hi", 2, &r, &call, &b);
            if (e) {
                printf("CLIENT %s error=%d\n", role + 5, e);
                return 1;
            }
            uint64_t a = capos_test_IpcProbe_echo_Results_get_callerRef0(r), c = capos_test_IpcProbe_echo_Results_get_callerRef1(r);
            if (i && (a != ref0 || c != ref1))
                stable = 0;
            ref0 = a, ref1 = c;
        }
        capnp_text pr = capos_test_IpcProbe_echo_Results_get_principal(r);
        capnp_text pf = capos_test_IpcProbe_echo_Results_get_profile(r);
        printf("CLIENT %s ref=%016lx%016lx stable=%d epoch=%lu badge=%lu principal=%.*s profile=%.*s\n",
               role + 5, ref0, ref1, stable, capos_test_IpcProbe_echo_Results_get_epoch(r),
               capos_test_IpcProbe_echo_Results_get_badge(r), (int)pr.len, pr.str, (int)pf.len, pf.str);
        return 0;
    }
    if (!strcmp(role, "owner-ops")) {
        uint8_t buf[256];
        struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = probe, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
        struct cap_cqe c;
        rt_ring_wait(rt_ring_submit(&s), &c);
        printf("CLIENT facet-recv result=%d\n", c.result);
        s = (struct cap_sqe){ .opcode = CAP_OP_RETURN, .cap_id = probe, .call_id = 1 };
        rt_ring_wait(rt_ring_submit(&s), &c);
        printf("CLIENT facet-return result=%d\n", c.result);
        return 0;
    }
    if (!strcmp(role, "big")) {
        static char big[3000];
        printf("CLIENT big result=%d\n", echo(big, sizeof big, &r, &call, &b));
        printf("CLIENT small-after-big result=%d\n", echo("x", 1, &r, &call, &b));
        return 0;
    }
    if (!strcmp(role, "hold")) {
        capnp_client cl = RT_CLIENT(probe);
        capos_test_IpcProbe_hold_Results_reader hr;
        printf("CLIENT hold result=%d\n", rt_error(capos_test_IpcProbe_hold(&cl, &b, &call, &hr)));
        return 0;
    }
    uint32_t timer = rt_timer;
    struct cap_xfer console_copy = { rt_console, CAP_XFER_COPY };
    struct cap_xfer timer_move = { timer, CAP_XFER_MOVE };
    if (!strcmp(role, "copy")) {
        printf("CLIENT copy result=%d\n", take_cap(&console_copy, 1));
        printf("CLIENT copy sender-console-still-works=%d\n", rt_console_write("", 0) == 0);
        return 0;
    }
    if (!strcmp(role, "move")) {
        printf("CLIENT move result=%d\n", take_cap(&timer_move, 1));
        printf("CLIENT move old-id-now=%d\n", timer_now_raw(timer));
        return 0;
    }
    if (!strcmp(role, "move-rollback")) {
        /* the server's table is full (or the server never answers): the move
         * must fail and leave our timer usable */
        printf("CLIENT move-rollback result=%d\n", take_cap(&timer_move, 1));
        printf("CLIENT move-rollback timer-now-result=%d\n", timer_now_raw(timer));
        return 0;
    }
    if (!strcmp(role, "move-bad")) {
        struct cap_xfer x[2] = { timer_move, { 0xFFFF, CAP_XFER_COPY } };
        printf("CLIENT move-bad result=%d\n", take_cap(x, 2));
        printf("CLIENT move-bad timer-now-result=%d\n", timer_now_raw(timer));
        struct cap_xfer twice[2] = { timer_move, timer_move };
        printf("CLIENT move-twice result=%d\n", take_cap(twice, 2));
        printf("CLIENT move-twice timer-now-result=%d\n", timer_now_raw(timer));
        return 0;
    }
    if (!strcmp(role, "xfer")) {
        struct cap_xfer x[2] = { console_copy, timer_move };
        return take_cap(x, 2) == 0 ? 0 : 1;
    }
    printf("CLIENT unknown role %s\n", role);
    return 3;
}
