/*
 * The shell's command-line parsing (parse.h). Pure functions over the typed
 * line: no I/O, no caps (a cap lookup comes in as a callback).
 */
#include "parse.h"
#include "c/string.h"

bool sh_number(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = (uint32_t)v;
    return true;
}

bool sh_ip_parse(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t v = 0, n = 0;
        while (*s >= '0' && *s <= '9' && n < 4)
            v = v * 10 + (uint32_t)(*s++ - '0'), n++;
        if (!n || v > 255 || (i < 3 && *s++ != '.'))
            return false;
        ip = ip << 8 | v;
    }
    *out = ip;
    return !*s;
}

void sh_trim(char *line)
{
    size_t a = 0, n = strlen(line);
    while (line[a] == ' ')
        a++;
    while (n > a && line[n - 1] == ' ')
        n--;
    memmove(line, line + a, n - a);
    line[n - a] = 0;
}

uint32_t sh_history_ref(const char *line, uint32_t nhist, uint32_t keep)
{
    uint32_t n = 0;
    if (!strcmp(line, "!!"))
        n = nhist;
    else if (line[0] != '!' || !sh_number(line + 1, &n))
        n = 0;
    if (n == 0 || n > nhist || n + keep <= nhist)
        return 0;
    return n;
}

/* A command is its whole line (EXACT), or its name, a blank and an
 * argument (ARG); a few take either. */
enum { EXACT = 1, ARG = 2 };
static const struct {
    const char *name;
    unsigned forms;
    enum sh_cmd cmd;
} commands[] = {
    { "help", EXACT, SH_HELP },         { "caps", EXACT, SH_CAPS },
    { "session", EXACT, SH_SESSION },   { "whoami", EXACT, SH_WHOAMI },
    { "audit", EXACT | ARG, SH_AUDIT }, { "net", EXACT, SH_NET },
    { "ping", EXACT | ARG, SH_PING },   { "echo", ARG, SH_ECHO },
    { "programs", EXACT, SH_PROGRAMS }, { "passwd", EXACT, SH_PASSWD },
    { "accounts", EXACT, SH_ACCOUNTS }, { "useradd", ARG, SH_USERADD },
    { "disable", ARG, SH_DISABLE },     { "enable", ARG, SH_ENABLE },
    { "keyadd", ARG, SH_KEYADD },       { "keydel", ARG, SH_KEYDEL },
    { "run", ARG, SH_RUN },             { "spawn", ARG, SH_SPAWN },
    { "wait", EXACT | ARG, SH_WAIT },   { "jobs", EXACT, SH_JOBS },
    { "kill", ARG, SH_KILL },           { "agent", ARG, SH_AGENT },
    { "history", EXACT, SH_HISTORY },   { "time", EXACT, SH_TIME },
    { "uptime", EXACT, SH_UPTIME },     { "exit", EXACT, SH_EXIT },
    { "logout", EXACT, SH_EXIT },
};

enum sh_cmd sh_command(char *line, char **arg)
{
    static char empty[1];
    *arg = empty;
    if (!strcmp(line, "audit tail"))          /* the default of audit N */
        return SH_AUDIT;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        size_t n = strlen(commands[i].name);
        if (strncmp(line, commands[i].name, n))
            continue;
        if ((commands[i].forms & EXACT) && !line[n])
            return commands[i].cmd;
        if ((commands[i].forms & ARG) && line[n] == ' ') {
            *arg = line + n + 1;
            return commands[i].cmd;
        }
    }
    return SH_UNKNOWN;
}

enum sh_run_err sh_parse_run(char *line, int64_t (*lookup)(const char *name), char **name,
                             const char **gnames, uint32_t *gcaps, uint32_t *ng, const char **detail)
{
    char *with = strstr(line, " with ");
    if (with)
        *with = 0;
    *name = line;
    while (**name == ' ')
        (*name)++;
    char *end = *name + strlen(*name);
    while (end > *name && end[-1] == ' ')
        *--end = 0;
    if (!**name || strchr(*name, ' '))
        return SH_RUN_USAGE;
    *ng = 0;
    if (!with)
        return SH_RUN_OK;
    char *p = with + 6;
    while (*p == ' ')
        p++;
    char *close = strchr(p, '}');
    if (*p != '{' || !close)
        return SH_RUN_GRANTS_SHAPE;
    for (char *t = close + 1; *t; t++)
        if (*t != ' ') {
            *detail = t;
            return SH_RUN_TRAILING;
        }
    *close = 0;
    for (char *g = p + 1; g;) {
        char *comma = strchr(g, ',');
        if (comma)
            *comma = 0;
        while (*g == ' ')
            g++;
        if (!*g && !comma && *ng == 0)
            break;                                         /* with { } */
        char *colon = strchr(g, ':'), *at = colon ? strchr(colon, '@') : 0;
        if (*ng == SH_MAX_GRANTS)
            return SH_RUN_TOO_MANY;
        if (!colon || !at) {
            *detail = g;
            return SH_RUN_BAD_GRANT;
        }
        *colon = 0;
        char *e = colon;
        while (e > g && e[-1] == ' ')
            *--e = 0;
        char *cap = at + 1, *ce = cap;
        while (*ce && *ce != ' ')
            ce++;
        *ce = 0;
        int64_t id = lookup(cap);
        if (id < 0 || !strcmp(cap, "terminal") || !strcmp(cap, "context") || !strcmp(cap, "session")) {
            *detail = cap;
            return SH_RUN_NO_CAP;
        }
        gnames[*ng] = g;
        gcaps[(*ng)++] = (uint32_t)id;
        g = comma ? comma + 1 : 0;
    }
    return SH_RUN_OK;
}

bool sh_split_profiles(char *args, const char **pv, uint32_t max, uint32_t *np)
{
    char *sp = strchr(args, ' ');
    if (!sp)
        return false;
    *sp = 0;
    char *profs = sp + 1;
    while (*profs == ' ')
        profs++;
    *np = 0;
    for (char *p = profs; p && *p && *np < max;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        pv[(*np)++] = p;
        p = comma ? comma + 1 : 0;
    }
    return true;
}
