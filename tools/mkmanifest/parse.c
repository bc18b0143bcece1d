/*
 * The manifest's text format (manifests/README.md), line by line:
 *
 *   session NAME principal=P profile=Q
 *   service NAME binary=B session=S [restart=POLICY[:N]] [disclose=F,...]
 *       grant LOCAL = kernel.CAP | SERVICE.EXPORT      (blanks around '=' optional)
 *       export NAME interface=INTERFACE
 *
 * '#' starts a comment.  Only syntax is checked here: a name's characters
 * and length, the keys, the interface name (resolved to its id through the
 * table capnpc-c generates).  Whether a binary, session or provider exists
 * is init's question (lib/manifest), so broken graphs can still be compiled
 * and tested.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "mkmanifest.h"

#define MAX_LINE 1024
#define MAX_TOKENS 16

struct parser {
    const char *file;
    unsigned line;
    struct mk_manifest *m;
    const capnp_interface_name *ifaces;
    size_t nifaces;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%u: ", p->file, p->line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static void *grow(void *arr, size_t n, size_t size)
{
    void *a = realloc(arr, (n + 1) * size);
    if (!a) {
        fprintf(stderr, "mkmanifest: out of memory\n");
        exit(1);
    }
    memset((char *)a + n * size, 0, size);
    return a;
}

static char *dup_str(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "mkmanifest: out of memory\n");
        exit(1);
    }
    return d;
}

/* A name: 1 to MANIFEST_MAX_NAME of [A-Za-z0-9_-] ('.' too in a binary). */
static int check_name(struct parser *p, const char *what, const char *s, bool dot)
{
    size_t n = strlen(s);
    if (n == 0)
        return fail(p, "empty %s name", what);
    if (n > MANIFEST_MAX_NAME)
        return fail(p, "%s name \"%s\" is too long (%zu bytes, at most %d)", what, s, n,
                    MANIFEST_MAX_NAME);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (dot && c == '.')))
            return fail(p, "%s name \"%s\": bad character '%c'", what, s, c);
    }
    return 0;
}

/* key=value arguments: each key at most once, only the keys allowed. */
struct kv {
    const char *key;
    const char *value; /* NULL when absent */
};

static int parse_kvs(struct parser *p, const char *kw, char **tok, int ntok,
                     struct kv *kvs, size_t nkv)
{
    for (int i = 0; i < ntok; i++) {
        char *eq = strchr(tok[i], '=');
        if (!eq || eq == tok[i] || eq[1] == 0)
            return fail(p, "%s: expected key=value, got \"%s\"", kw, tok[i]);
        *eq = 0;
        size_t k = 0;
        while (k < nkv && strcmp(kvs[k].key, tok[i]) != 0)
            k++;
        if (k == nkv)
            return fail(p, "%s: unknown key \"%s\"", kw, tok[i]);
        if (kvs[k].value)
            return fail(p, "%s: %s= given twice", kw, tok[i]);
        kvs[k].value = eq + 1;
    }
    return 0;
}

static int need(struct parser *p, const char *kw, const struct kv *kv)
{
    if (!kv->value)
        return fail(p, "%s: missing %s=", kw, kv->key);
    return 0;
}

static int parse_session(struct parser *p, char **tok, int ntok)
{
    if (ntok < 2)
        return fail(p, "session: missing name");
    if (check_name(p, "session", tok[1], false))
        return -1;
    struct kv kvs[] = { { "principal", NULL }, { "profile", NULL } };
    if (parse_kvs(p, "session", tok + 2, ntok - 2, kvs, 2) || need(p, "session", &kvs[0]) ||
        need(p, "session", &kvs[1]) || check_name(p, "principal", kvs[0].value, false) ||
        check_name(p, "profile", kvs[1].value, false))
        return -1;
    struct mk_manifest *m = p->m;
    m->sessions = grow(m->sessions, m->nsessions, sizeof *m->sessions);
    struct mk_session *s = &m->sessions[m->nsessions++];
    s->name = dup_str(tok[1]);
    s->principal = dup_str(kvs[0].value);
    s->profile = dup_str(kvs[1].value);
    s->line = p->line;
    return 0;
}

/* restart=never | on-failure[:N] | always[:N] */
static int parse_restart(struct parser *p, const char *v, struct mk_service *s)
{
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    if (n == 5 && strncmp(v, "never", 5) == 0)
        s->restart = capos_RestartPolicy_never;
    else if (n == 10 && strncmp(v, "on-failure", 10) == 0)
        s->restart = capos_RestartPolicy_onFailure;
    else if (n == 6 && strncmp(v, "always", 6) == 0)
        s->restart = capos_RestartPolicy_always;
    else
        return fail(p, "service: restart=%s: not never, on-failure or always", v);
    s->retries = s->restart == capos_RestartPolicy_never ? 0 : MANIFEST_DEFAULT_RETRIES;
    if (!colon)
        return 0;
    if (s->restart == capos_RestartPolicy_never)
        return fail(p, "service: restart=never takes no retry count");
    const char *d = colon + 1;
    unsigned long long r = 0;
    if (!*d)
        return fail(p, "service: restart=%s: missing retry count", v);
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return fail(p, "service: restart=%s: bad retry count", v);
        r = r * 10 + (unsigned)(*d - '0');
        if (r > UINT32_MAX)
            return fail(p, "service: restart=%s: retry count too large", v);
    }
    s->retries = (uint32_t)r;
    return 0;
}

/* disclose=principal,profile (either, both, or none) */
static int parse_disclose(struct parser *p, char *v, struct mk_service *s)
{
    if (strcmp(v, "none") == 0)
        return 0;
    for (char *f = v; f;) {
        char *comma = strchr(f, ',');
        if (comma)
            *comma = 0;
        bool *flag = strcmp(f, "principal") == 0 ? &s->disclose_principal
                   : strcmp(f, "profile") == 0   ? &s->disclose_profile
                                                 : NULL;
        if (!flag)
            return fail(p, "service: disclose: \"%s\" is not principal or profile", f);
        if (*flag)
            return fail(p, "service: disclose: %s given twice", f);
        *flag = true;
        f = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int parse_service(struct parser *p, char **tok, int ntok)
{
    if (ntok < 2)
        return fail(p, "service: missing name");
    if (check_name(p, "service", tok[1], false))
        return -1;
    struct kv kvs[] = { { "binary", NULL }, { "session", NULL }, { "restart", NULL },
                        { "disclose", NULL } };
    if (parse_kvs(p, "service", tok + 2, ntok - 2, kvs, 4) || need(p, "service", &kvs[0]) ||
        need(p, "service", &kvs[1]) || check_name(p, "binary", kvs[0].value, true) ||
        check_name(p, "session", kvs[1].value, false))
        return -1;
    struct mk_service s = { 0 };
    s.restart = capos_RestartPolicy_never;
    if (kvs[2].value && parse_restart(p, kvs[2].value, &s))
        return -1;
    if (kvs[3].value && parse_disclose(p, (char *)kvs[3].value, &s))
        return -1;
    struct mk_manifest *m = p->m;
    m->services = grow(m->services, m->nservices, sizeof *m->services);
    s.name = dup_str(tok[1]);
    s.binary = dup_str(kvs[0].value);
    s.session = dup_str(kvs[1].value);
    s.line = p->line;
    m->services[m->nservices++] = s;
    return 0;
}

static struct mk_service *current(struct parser *p, const char *kw)
{
    if (p->m->nservices == 0) {
        fail(p, "%s outside a service (it belongs under a 'service' line)", kw);
        return NULL;
    }
    return &p->m->services[p->m->nservices - 1];
}

/* args WORD...: the service's arguments (its CapSet args), words joined by
 * one space, printable, at most 1023 bytes (CAPSET_ARGS). */
static int parse_args(struct parser *p, char **tok, int ntok)
{
    struct mk_service *s = current(p, "args");
    if (!s)
        return -1;
    if (s->args)
        return fail(p, "args: given twice for service %s", s->name);
    if (ntok < 2)
        return fail(p, "args: nothing follows");
    char buf[1024];
    size_t n = 0;
    for (int i = 1; i < ntok; i++) {
        size_t k = strlen(tok[i]);
        if (n + k + (i > 1) > 1023)
            return fail(p, "args: longer than 1023 bytes");
        if (i > 1)
            buf[n++] = ' ';
        memcpy(buf + n, tok[i], k);
        n += k;
    }
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
            return fail(p, "args: not printable");
    s->args = dup_str(buf);
    return 0;
}

/* grant LOCAL = kernel.CAP | SERVICE.EXPORT; "LOCAL=SOURCE" and the
 * half-spaced forms mean the same. */
static int parse_grant(struct parser *p, char **tok, int ntok)
{
    struct mk_service *s = current(p, "grant");
    if (!s)
        return -1;
    /* NAME = SOURCE, with or without blanks around the '=' */
    char *name = NULL, *source = NULL;
    if (ntok == 4 && strcmp(tok[2], "=") == 0) {
        name = tok[1], source = tok[3];
    } else if (ntok == 3 && tok[1][strlen(tok[1]) - 1] == '=' && tok[2][0] != '=') {
        name = tok[1], source = tok[2];
        name[strlen(name) - 1] = 0;
    } else if (ntok == 3 && tok[2][0] == '=' && tok[2][1] && !strchr(tok[1], '=')) {
        name = tok[1], source = tok[2] + 1;
    } else if (ntok == 2 && strchr(tok[1], '=')) {
        name = tok[1], source = strchr(tok[1], '=') + 1;
        *strchr(tok[1], '=') = 0;
    }
    if (!name || !*source || strchr(source, '='))
        return fail(p, "grant: expected 'grant NAME = kernel.CAP' or 'grant NAME = SERVICE.EXPORT'");
    if (check_name(p, "grant", name, false))
        return -1;
    char *dot = strchr(source, '.');
    if (!dot)
        return fail(p, "grant: source \"%s\" is not kernel.CAP or SERVICE.EXPORT", source);
    *dot = 0;
    const char *cap = dot + 1;
    bool kernel = strcmp(source, "kernel") == 0;
    if (check_name(p, "service", source, false) ||
        check_name(p, kernel ? "kernel cap" : "export", cap, false))
        return -1;
    s->grants = grow(s->grants, s->ngrants, sizeof *s->grants);
    struct mk_grant *g = &s->grants[s->ngrants++];
    g->name = dup_str(name);
    g->kernel = kernel;
    g->service = dup_str(source);
    g->cap = dup_str(cap);
    g->line = p->line;
    return 0;
}

/* export NAME interface=INTERFACE */
static int parse_export(struct parser *p, char **tok, int ntok)
{
    struct mk_service *s = current(p, "export");
    if (!s)
        return -1;
    if (ntok < 2)
        return fail(p, "export: missing name");
    if (check_name(p, "export", tok[1], false))
        return -1;
    struct kv kvs[] = { { "interface", NULL } };
    if (parse_kvs(p, "export", tok + 2, ntok - 2, kvs, 1) || need(p, "export", &kvs[0]))
        return -1;
    size_t i = 0;
    while (i < p->nifaces && strcmp(p->ifaces[i].name, kvs[0].value) != 0)
        i++;
    if (i == p->nifaces)
        return fail(p, "export: unknown interface \"%s\" (not in the schema)", kvs[0].value);
    s->exports = grow(s->exports, s->nexports, sizeof *s->exports);
    struct mk_export *x = &s->exports[s->nexports++];
    x->name = dup_str(tok[1]);
    x->interface_id = p->ifaces[i].id;
    x->line = p->line;
    return 0;
}

/* Four hex digits. */
static bool hex16(const char *s, size_t n, uint16_t *out)
{
    if (n != 4)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *out = (uint16_t)v;
    return true;
}

/* device NAME VENDOR:DEVICE [dma=PAGES]: a PCI device the service drives;
 * it receives NAME-mmio, NAME-dma and NAME-irq. */
static int parse_device(struct parser *p, char **tok, int ntok)
{
    struct mk_service *s = current(p, "device");
    if (!s)
        return -1;
    if (ntok < 3)
        return fail(p, "device: expected 'device NAME VENDOR:DEVICE [dma=PAGES]'");
    if (check_name(p, "device", tok[1], false))
        return -1;
    const char *colon = strchr(tok[2], ':');
    struct mk_device d = { 0 };
    if (!colon || !hex16(tok[2], (size_t)(colon - tok[2]), &d.vendor) ||
        !hex16(colon + 1, strlen(colon + 1), &d.device))
        return fail(p, "device: \"%s\" is not VENDOR:DEVICE (four hex digits each)", tok[2]);
    struct kv kvs[] = { { "dma", NULL } };
    if (parse_kvs(p, "device", tok + 3, ntok - 3, kvs, 1))
        return -1;
    d.dma_pages = MANIFEST_DEFAULT_DMA_PAGES;
    if (kvs[0].value) {
        unsigned long long v = 0;
        const char *c = kvs[0].value;
        if (!*c)
            return fail(p, "device: dma= needs a page count");
        for (; *c; c++) {
            if (*c < '0' || *c > '9')
                return fail(p, "device: dma=%s: not a page count", kvs[0].value);
            v = v * 10 + (unsigned)(*c - '0');
            if (v > UINT32_MAX)
                return fail(p, "device: dma=%s: too large", kvs[0].value);
        }
        d.dma_pages = (uint32_t)v;
    }
    d.name = dup_str(tok[1]);
    d.line = p->line;
    s->devices = grow(s->devices, s->ndevices, sizeof *s->devices);
    s->devices[s->ndevices++] = d;
    return 0;
}

static int parse_line(struct parser *p, char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    char *tok[MAX_TOKENS];
    int ntok = 0;
    for (char *t = strtok(line, " \t\r"); t; t = strtok(NULL, " \t\r")) {
        if (ntok == MAX_TOKENS)
            return fail(p, "too many words (at most %d)", MAX_TOKENS);
        tok[ntok++] = t;
    }
    if (ntok == 0)
        return 0;
    if (strcmp(tok[0], "session") == 0)
        return parse_session(p, tok, ntok);
    if (strcmp(tok[0], "service") == 0)
        return parse_service(p, tok, ntok);
    if (strcmp(tok[0], "grant") == 0)
        return parse_grant(p, tok, ntok);
    if (strcmp(tok[0], "export") == 0)
        return parse_export(p, tok, ntok);
    if (strcmp(tok[0], "args") == 0)
        return parse_args(p, tok, ntok);
    if (strcmp(tok[0], "device") == 0)
        return parse_device(p, tok, ntok);
    return fail(p, "unknown keyword \"%s\" (session, service, grant, export, args, device)", tok[0]);
}

int mk_parse(struct mk_manifest *m, const char *file, const char *text,
             const capnp_interface_name *ifaces, size_t nifaces)
{
    struct parser p = { file, 0, m, ifaces, nifaces };
    const char *s = text;
    while (*s) {
        p.line++;
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (n >= MAX_LINE)
            return fail(&p, "line too long (at most %d bytes)", MAX_LINE - 1);
        char line[MAX_LINE];
        memcpy(line, s, n);
        line[n] = 0;
        if (parse_line(&p, line))
            return -1;
        s = nl ? nl + 1 : s + n;
    }
    return 0;
}
