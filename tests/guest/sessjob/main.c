/*
 * sessjob: a test-only program for the shell's job-control proofs (test
 * images only). It says it is up, waits for one line on its console (the
 * shell's stdio: a background job waits until it is brought to the
 * foreground), answers it and exits with 3.
 */
#include "rt/capos.h"

int main(void)
{
    char line[128];
    printf("sessjob up\n");
    int n = rt_console_read_line(line, sizeof line);
    printf("sessjob got: %s\n", n >= 0 ? line : "(nothing)");
    return 3;
}
