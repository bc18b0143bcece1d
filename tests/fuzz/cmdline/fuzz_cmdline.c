/*
 * libFuzzer target: the command lines of the shell (user/capos-shell/
 * parse.c) and of login (user/login/door.c), built for the host. The input
 * is a typed line (the first byte is how many lines the history holds);
 * the line goes through what the shell's loop does with it: trimmed, a
 * history reference, the command and its argument, and the argument
 * parsers (run's grants, useradd's profiles, numbers, addresses); and
 * through login's prompt. Checked: trimming leaves no outer blanks and is
 * idempotent; a history reference names a kept entry; a command's name and
 * argument give back the line; parsed grants name grantable caps only; an
 * address prints and parses back to itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "door.h"

/* The session's caps: the three the shell keeps to itself are here too. */
static const char *const caps[] = { "console", "timer", "terminal", "session", "context", "audit", "ping", "x" };
static int64_t lookup(const char *name)
{
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (!strcmp(caps[i], name))
            return (int64_t)i;
    return -1;
}

static void check_run(char *arg)
{
    char *name;
    const char *gnames[SH_MAX_GRANTS], *detail = 0;
    uint32_t gcaps[SH_MAX_GRANTS], ng = 99;
    char *end = arg + strlen(arg);
    enum sh_run_err e = sh_parse_run(arg, lookup, &name, gnames, gcaps, &ng, &detail);
    if (e == SH_RUN_OK) {
        if (!*name || strchr(name, ' ') || ng > SH_MAX_GRANTS)
            abort();
        for (uint32_t i = 0; i < ng; i++) {
            const char *c = caps[gcaps[i]];
            if (gcaps[i] >= sizeof caps / sizeof caps[0] || !strcmp(c, "terminal") || !strcmp(c, "session") ||
                !strcmp(c, "context") || gnames[i] < arg || gnames[i] > end)
                abort();
        }
    } else if (e == SH_RUN_TRAILING || e == SH_RUN_BAD_GRANT || e == SH_RUN_NO_CAP) {
        if (!detail || detail < arg || detail > end)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t nhist = data[0];
    char line[256], copy[256];
    size_t n = size - 1 < sizeof line - 1 ? size - 1 : sizeof line - 1;
    memcpy(line, data + 1, n);
    line[n] = 0;                             /* as the editor hands it over: a C string */

    enum login_door d = login_door(line, sizeof line);
    if ((d == DOOR_AGAIN) != !line[0] || (d == DOOR_GUEST) != !strcmp(line, "guest"))
        abort();

    sh_trim(line);
    size_t len = strlen(line);
    if (len && (line[0] == ' ' || line[len - 1] == ' '))
        abort();
    strcpy(copy, line);
    sh_trim(copy);
    if (strcmp(copy, line))
        abort();
    if (line[0] == '!') {
        uint32_t h = sh_history_ref(line, nhist, 16);
        if (h && (h > nhist || h + 16 <= nhist))
            abort();
    }

    uint32_t v;
    if (sh_number(line, &v) && (v > 1000000009u || (uint32_t)strtoul(line, 0, 10) != v))
        abort();
    uint32_t ip, back;
    if (sh_ip_parse(line, &ip)) {
        char text[20];
        snprintf(text, sizeof text, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        if (!sh_ip_parse(text, &back) || back != ip)
            abort();
    }

    strcpy(copy, line);
    char *arg;
    enum sh_cmd c = sh_command(copy, &arg);
    if (c != SH_UNKNOWN && *arg) {
        /* NAME ' ' ARG is the line */
        if (arg < copy + 2 || arg > copy + len || arg[-1] != ' ' || strcmp(arg, line + (arg - copy)))
            abort();
    }
    switch (c) {
    case SH_RUN:
    case SH_SPAWN:
        check_run(arg);
        break;
    case SH_USERADD: {
        const char *pv[5];
        uint32_t np = 0;
        if (sh_split_profiles(arg, pv, 5, &np))
            for (uint32_t i = 0; i < np; i++)
                if (strchr(pv[i], ','))
                    abort();
        break;
    }
    default:
        break;
    }
    /* the grant parser over any line, not only after "run " */
    strcpy(copy, line);
    check_run(copy);
    return 0;
}
