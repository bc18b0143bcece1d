/* Typed clients for the kernel's Console and Timer, and printf on Console. */
#include "capos.h"

int console_write(const char *s, size_t n)
{
    while (n) {
        uint32_t k = n > CAP_MAX_PARAMS ? CAP_MAX_PARAMS : (uint32_t)n;
        int r = cap_call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE, s, k, 0, 0, 0);
        if (r < 0)
            return r;
        s += k, n -= k;
    }
    return 0;
}

int console_read_line(char *buf, size_t max)
{
    if (max == 0)
        return CAP_ERR_INVALID_ARGUMENT;
    uint32_t want = (uint32_t)(max - 1 < CAP_MAX_RESULT ? max - 1 : CAP_MAX_RESULT);
    int r = cap_call(rt_console, IFACE_CONSOLE, CONSOLE_READ_LINE, &want, 4, buf, want, 0);
    if (r >= 0)
        buf[r] = 0;
    return r;
}

uint64_t timer_now(void)
{
    uint64_t now = 0;
    cap_call(rt_timer, IFACE_TIMER, TIMER_NOW, 0, 0, &now, 8, 0);
    return now;
}

int timer_sleep_until(uint64_t deadline)
{
    return cap_call(rt_timer, IFACE_TIMER, TIMER_SLEEP_UNTIL, &deadline, 8, 0, 0, 0);
}

int printf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

int puts(const char *s)
{
    console_write(s, strlen(s));
    return console_write("\n", 1);
}
