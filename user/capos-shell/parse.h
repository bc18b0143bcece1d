/* The shell's command-line parsing, apart from its I/O and caps so that a
 * host fuzz target builds it (tests/fuzz/cmdline): what the main loop and
 * the commands read from a typed line. */
#ifndef SHELL_PARSE_H
#define SHELL_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A whole decimal number, nothing else; false for anything that is not. */
bool sh_number(const char *s, uint32_t *out);
/* A dotted IPv4 address (four numbers 0..255, nothing after). */
bool sh_ip_parse(const char *s, uint32_t *out);
/* Blanks around a command do not count: strip them in place. */
void sh_trim(char *line);
/* "!!" or "!N": the history entry (1-based) it names among the nhist
 * entries typed, the last `keep` of which are kept; 0 if it names none. */
uint32_t sh_history_ref(const char *line, uint32_t nhist, uint32_t keep);

/* The commands, as the main loop tells them apart. */
enum sh_cmd {
    SH_UNKNOWN, SH_HELP, SH_CAPS, SH_SESSION, SH_WHOAMI, SH_AUDIT, SH_NET, SH_PING, SH_ECHO,
    SH_PROGRAMS, SH_PASSWD, SH_ACCOUNTS, SH_USERADD, SH_DISABLE, SH_ENABLE, SH_KEYADD, SH_KEYDEL,
    SH_RUN, SH_SPAWN, SH_WAIT, SH_JOBS, SH_KILL, SH_AGENT, SH_HISTORY, SH_TIME, SH_UPTIME, SH_EXIT,
};
/* The command a trimmed line is, and in *arg what follows its name (an
 * empty string for a command typed without one). */
enum sh_cmd sh_command(char *line, char **arg);

/* "NAME [with { name: @cap, ... }]" (run, spawn), parsed in place. */
#define SH_MAX_GRANTS 12
enum sh_run_err {
    SH_RUN_OK,
    SH_RUN_USAGE,           /* no NAME, or NAME with a blank */
    SH_RUN_GRANTS_SHAPE,    /* not "{ ... }" */
    SH_RUN_TRAILING,        /* text after '}' (*detail) */
    SH_RUN_TOO_MANY,        /* more than SH_MAX_GRANTS */
    SH_RUN_BAD_GRANT,       /* not "name: @cap" (*detail) */
    SH_RUN_NO_CAP,          /* @cap names nothing grantable (*detail) */
};
/* lookup: the cap the session holds under a name, or < 0. The shell's own
 * terminal, context and session caps are never grantable. */
enum sh_run_err sh_parse_run(char *line, int64_t (*lookup)(const char *name), char **name,
                             const char **gnames, uint32_t *gcaps, uint32_t *ng, const char **detail);

/* "NAME PROFILE[,PROFILE...]" (useradd), in place: false without a
 * PROFILE part; at most `max` profiles are taken. */
bool sh_split_profiles(char *args, const char **pv, uint32_t max, uint32_t *np);
#endif
