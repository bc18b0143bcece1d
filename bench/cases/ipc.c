/*
 * Cross-process round trips and process start.
 *   capOS: CALL on an endpoint facet -> the server's RECV -> its RETURN ->
 *          the caller's completion (raw ring ops, empty messages; the
 *          server's silent RETURN and next RECV in one cap_enter); and
 *          spawn of a minimal process through to its exit code.
 *   Linux: one-byte ping-pong over a pipe pair and over an AF_UNIX
 *          socketpair between two processes; posix_spawn + waitpid.
 * pair: ep-roundtrip = pipe-pingpong
 * pair: ep-roundtrip = unix-pingpong
 * pair: spawn-exit = posix-spawn-exit
 */
#include "../bench.h"

#define N 2001
#define NSPAWN 101
static uint64_t samples[N];

#ifdef __capos__
static void serve(uint32_t owner)
{
    static uint8_t buf[256] __attribute__((aligned(8)));
    struct cap_sqe recv = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    rt_ring_submit(&recv);
    for (;;) {
        sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
        struct cap_cqe *cq = (struct cap_cqe *)((char *)rt_ring + RING_CQ_OFFSET);
        while (rt_ring->cq_head != rt_ring->cq_tail) {
            struct cap_cqe c = cq[rt_ring->cq_head & (RING_CQ_ENTRIES - 1)];
            rt_ring->cq_head++;
            if (c.user_data != recv.user_data)
                continue;                     /* a RETURN's own completion */
            if (c.result < 0)
                exit(0);
            /* silent: a RETURN that succeeds posts no CQE, so this enter
             * waits for the next call (an error would still be posted) */
            struct cap_sqe ret = { .opcode = CAP_OP_RETURN, .cap_id = owner, .flags = CAP_SQE_F_SILENT,
                                   .call_id = ((struct cap_recv_hdr *)buf)->call_id };
            rt_ring_submit(&ret);
            rt_ring_submit(&recv);               /* answer and wait for the next call in one enter */
        }
    }
}

int main(void)
{
    if (!strcmp(rt_capset->args, "exit"))
        return 0;
    int64_t sp = rt_capset_lookup("spawner"), fa = rt_capset_lookup("endpoints");
    if (sp < 0 || fa < 0)
        return 2;
    if (!strcmp(rt_capset->args, "server"))
        serve((uint32_t)rt_capset_lookup("probe"));

    uint32_t owner, facet;
    if (rt_endpoint_create((uint32_t)fa, capos_test_IpcProbe_ID, 0, &owner, &facet))
        return 3;
    const char *names[] = { "probe", "spawner", "endpoints" };
    uint32_t caps[] = { owner, (uint32_t)sp, (uint32_t)fa };
    int64_t srv = rt_spawn_args((uint32_t)sp, "bench-ipc", names, caps, 3, ~0u, "server");
    rt_release(owner);
    if (srv < 0)
        return 4;
    struct cap_sqe call = { .opcode = CAP_OP_CALL, .cap_id = facet, .interface_id = capos_test_IpcProbe_ID };
    struct cap_cqe c;
    for (int i = 0; i < N + 100; i++) {
        uint64_t t0 = bench_tsc();
        rt_ring_wait(rt_ring_submit(&call), &c);
        if (i >= 100)
            samples[i - 100] = bench_tsc() - t0;
        if (c.result < 0)
            return 5;
    }
    bench_report("ep-roundtrip", samples, N, 1);
    rt_kill((uint32_t)srv);
    rt_wait((uint32_t)srv);

    for (int i = 0; i < NSPAWN; i++) {
        uint64_t t0 = bench_tsc();
        int64_t h = rt_spawn_args((uint32_t)sp, "bench-ipc", 0, 0, 0, ~0u, "exit");
        if (h < 0 || rt_wait((uint32_t)h) != 0)
            return 6;
        samples[i] = bench_tsc() - t0;
        rt_release((uint32_t)h);
    }
    bench_report("spawn-exit", samples, NSPAWN, 1);
    return 0;
}
#else
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* pr/pw: the parent's read and write ends; cr/cw: the child's. Each side
 * closes what it does not use, so closing pw ends the child. */
static void pingpong(const char *name, int pr, int pw, int cr, int cw)
{
    char x = 0;
    pid_t pid = fork();
    if (pid == 0) {
        if (pr != cr && pr != cw)
            close(pr);
        if (pw != cr && pw != cw)
            close(pw);
        for (;;) {
            if (read(cr, &x, 1) != 1)
                _exit(0);
            if (write(cw, &x, 1) != 1)
                _exit(1);
        }
    }
    if (cr != pr && cr != pw)
        close(cr);
    if (cw != pr && cw != pw && cw != cr)
        close(cw);
    for (int i = 0; i < N + 100; i++) {
        uint64_t t0 = bench_tsc();
        if (write(pw, &x, 1) != 1 || read(pr, &x, 1) != 1)
            break;
        if (i >= 100)
            samples[i - 100] = bench_tsc() - t0;
    }
    close(pw);
    if (pr != pw)
        close(pr);
    waitpid(pid, 0, 0);
    bench_report(name, samples, N, 1);
}

extern char **environ;

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "exit"))
        return 0;
    int a[2], b[2];
    if (pipe(a) || pipe(b))
        return 1;
    pingpong("pipe-pingpong", b[0], a[1], a[0], b[1]);
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
        return 1;
    pingpong("unix-pingpong", s[0], s[0], s[1], s[1]);
    for (int i = 0; i < NSPAWN; i++) {
        char *args[] = { argv[0], "exit", 0 };
        uint64_t t0 = bench_tsc();
        pid_t pid;
        if (posix_spawn(&pid, argv[0], 0, 0, args, environ))
            return 2;
        waitpid(pid, 0, 0);
        samples[i] = bench_tsc() - t0;
    }
    bench_report("posix-spawn-exit", samples, NSPAWN, 1);
    return 0;
}
#endif
