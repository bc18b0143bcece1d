/*
 * /init of the Linux baseline guest: reports the TSC at its first
 * instruction (kernel start to /init, in instructions under -icount), runs
 * each benchmark program named on its command line, then powers off.
 */
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/reboot.h>

int main(int argc, char **argv)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    printf("LINUX-INIT tsc=%lu\n", ((uint64_t)hi << 32) | lo);
    fflush(stdout);
    for (int i = 1; i < argc; i++) {
        char path[256];
        snprintf(path, sizeof path, "/bench/%s", argv[i]);
        pid_t pid = fork();
        if (pid == 0) {
            execl(path, path, (char *)0);
            _exit(127);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        printf("BENCH-DONE %s exit=%d\n", argv[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        fflush(stdout);
    }
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
