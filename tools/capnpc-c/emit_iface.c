/*
 * Emission of interfaces: the interface id and method ordinals, typed client
 * stubs over a transport callback (capnp_client), and the server side: a
 * table of handlers plus a dispatch function that decodes params, calls the
 * handler and encodes its results.
 */
#include <string.h>

#include "gen.h"

static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline",
    "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
    "void", "volatile", "while", "bool", "true", "false", NULL,
};

/* A method name usable as a struct member: C keywords get a trailing '_'. */
static void member_name(char *buf, size_t cap, capnp_text t)
{
    gen_ident(buf, cap, t);
    for (int i = 0; c_keywords[i]; i++)
        if (strcmp(buf, c_keywords[i]) == 0) {
            size_t n = strlen(buf);
            if (n + 2 <= cap) {
                buf[n] = '_';
                buf[n + 1] = 0;
            }
            return;
        }
}

struct method {
    char name[128];
    uint16_t ordinal;
    struct node *params, *results;
};

static int method_at(struct gen *g, struct node *n, uint32_t i, struct method *m)
{
    capnp_struct ms = capnp_list_struct(node_methods(n->s), i);
    member_name(m->name, sizeof m->name, method_name(ms));
    m->ordinal = (uint16_t)i; /* the list is in ordinal order */
    m->params = gen_find(g, method_params(ms));
    m->results = gen_find(g, method_results(ms));
    if (!m->params || !m->results || !m->params->cname[0] || !m->results->cname[0]) {
        gen_error(g, "%s.%s: params/results from another file are not supported",
                  n->cname, m->name);
        return 0;
    }
    return 1;
}

/* Can a params struct be passed as plain C arguments?  Yes when every field
 * is a scalar, text, data or capability outside any union or group. */
static int flat_params(struct node *p)
{
    if (node_disc_count(p->s))
        return 0;
    capnp_list fl = node_fields(p->s);
    for (uint32_t i = 0; i < fl.count; i++) {
        capnp_struct f = capnp_list_struct(fl, i);
        if (field_which(f) != FIELD_SLOT)
            return 0;
        capnp_struct t = field_type(f);
        uint16_t w = type_which(t);
        if (w == T_VOID || w == T_LIST || w == T_STRUCT)
            return 0;
        if (w == T_ANYPOINTER && !(type_any_which(t) == 0 && type_any_kind(t) == ANY_CAPABILITY))
            return 0;
    }
    return 1;
}

static const char *scalar_ctype(uint16_t w)
{
    switch (w) {
    case T_BOOL: return "bool";
    case T_INT8: return "int8_t";
    case T_INT16: return "int16_t";
    case T_INT32: return "int32_t";
    case T_INT64: return "int64_t";
    case T_UINT8: return "uint8_t";
    case T_UINT16: case T_ENUM: return "uint16_t";
    case T_UINT32: return "uint32_t";
    case T_UINT64: return "uint64_t";
    case T_FLOAT32: return "float";
    case T_FLOAT64: return "double";
    }
    return NULL;
}

/* The flat stub's parameter list (after the fixed leading arguments). */
static void flat_args(FILE *f, struct node *p)
{
    capnp_list fl = node_fields(p->s);
    for (uint32_t i = 0; i < fl.count; i++) {
        capnp_struct fs = capnp_list_struct(fl, i);
        char name[128];
        gen_ident(name, sizeof name, field_name(fs));
        uint16_t w = type_which(field_type(fs));
        if (w == T_TEXT)
            fprintf(f, ",\n        const char *%s, size_t %s_len", name, name);
        else if (w == T_DATA)
            fprintf(f, ",\n        const void *%s, size_t %s_len", name, name);
        else if (w == T_INTERFACE || w == T_ANYPOINTER)
            fprintf(f, ",\n        uint32_t %s_cap /* handle, or CAPNP_NO_CAP */", name);
        else
            fprintf(f, ",\n        %s %s", scalar_ctype(w), name);
    }
}

static void flat_proto(struct gen *g, FILE *f, struct node *n, struct method *m)
{
    fprintf(f, "int %s_%s(const capnp_client *client, const capnp_call_bufs *bufs,\n"
            "        capnp_call *call", n->cname, m->name);
    flat_args(f, m->params);
    fprintf(f, ",\n        %s_reader *results)", m->results->cname);
}

void emit_interface_header(struct gen *g, struct node *n)
{
    const char *c = n->cname;
    capnp_list ml = node_methods(n->s);
    if (node_superclasses(n->s).count)
        gen_error(g, "%s: interface inheritance is not supported", c);
    fprintf(g->h, "/* ===== interface %s ===== */\n#define %s_ID UINT64_C(0x%016llx)\n",
            c, c, (unsigned long long)n->id);
    struct method m;
    for (uint32_t i = 0; i < ml.count; i++)
        if (method_at(g, n, i, &m))
            fprintf(g->h, "#define %s_METHOD_%s %u\n", c, m.name, m.ordinal);
    fprintf(g->h, "\n/* Client: %s_M_start() gives the params builder, %s_M_send() calls the\n"
            " * transport and gives the results reader (valid while bufs are). */\n", c, c);
    for (uint32_t i = 0; i < ml.count; i++) {
        if (!method_at(g, n, i, &m))
            continue;
        const char *p = m.params->cname, *r = m.results->cname;
        fprintf(g->h, "static inline %s_builder %s_%s_start(capnp_call *call,\n"
                "        const capnp_client *client, const capnp_call_bufs *bufs)\n{\n"
                "    %s_builder p = { capnp_call_start(call, client, bufs, %s_DATA_WORDS, %s_PTR_WORDS) };\n"
                "    return p;\n}\n", p, c, m.name, p, p, p);
        fprintf(g->h, "static inline int %s_%s_send(capnp_call *call, %s_reader *results)\n{\n"
                "    capnp_struct s = { 0, 0, 0, 0, 0, 0, 0 };\n"
                "    int e = capnp_call_send(call, %s_ID, %s_METHOD_%s, &s);\n"
                "    results->s = s;\n    return e;\n}\n", c, m.name, r, c, c, m.name);
        if (flat_params(m.params)) {
            fprintf(g->h, "/* One-call form: build params from arguments, send. */\n");
            flat_proto(g, g->h, n, &m);
            fprintf(g->h, ";\n");
        }
    }
    fprintf(g->h, "\n/* Server: one handler per method (NULL = not implemented).  A handler\n"
            " * returns CAPNP_OK or an error code, which dispatch passes back. */\n"
            "typedef struct %s_server {\n", c);
    for (uint32_t i = 0; i < ml.count; i++)
        if (method_at(g, n, i, &m))
            fprintf(g->h, "    int (*%s)(void *self, %s_reader params, %s_builder results);\n",
                    m.name, m.params->cname, m.results->cname);
    if (ml.count == 0)
        fprintf(g->h, "    int no_methods; /* C has no empty structs */\n");
    fprintf(g->h, "} %s_server;\n"
            "/* Decode call->params, run the handler, encode its results into\n"
            " * call->result (setting result_len and result_ncaps). */\n"
            "int %s_dispatch(const %s_server *srv, void *self, capnp_server_call *call);\n"
            "/* The same behind an untyped server pointer, the shape a serve loop\n"
            " * takes for any interface. */\n"
            "int %s_dispatch_any(const void *srv, void *self, capnp_server_call *call);\n\n",
            c, c, c, c);
}

static void emit_dispatch_any(struct gen *g, const char *c)
{
    fprintf(g->c, "int %s_dispatch_any(const void *srv, void *self, capnp_server_call *call)\n{\n"
            "    return %s_dispatch(srv, self, call);\n}\n\n", c, c);
}

void emit_interface_source(struct gen *g, struct node *n)
{
    const char *c = n->cname;
    capnp_list ml = node_methods(n->s);
    struct method m;
    for (uint32_t i = 0; i < ml.count; i++) {
        if (!method_at(g, n, i, &m) || !flat_params(m.params))
            continue;
        const char *p = m.params->cname;
        flat_proto(g, g->c, n, &m);
        capnp_list fl = node_fields(m.params->s);
        fprintf(g->c, "\n{\n    %s%s_builder p = %s_%s_start(call, client, bufs);\n",
                fl.count ? "" : "__attribute__((unused)) ", p, c, m.name);
        for (uint32_t k = 0; k < fl.count; k++) {
            capnp_struct fs = capnp_list_struct(fl, k);
            char name[128];
            gen_ident(name, sizeof name, field_name(fs));
            uint16_t w = type_which(field_type(fs));
            if (w == T_TEXT || w == T_DATA)
                fprintf(g->c, "    %s_set_%s(p, %s, %s_len);\n", p, name, name, name);
            else if (w == T_INTERFACE || w == T_ANYPOINTER)
                fprintf(g->c, "    if (%s_cap != CAPNP_NO_CAP)\n"
                        "        %s_set_%s(p, capnp_builder_add_cap(&call->params, %s_cap));\n",
                        name, p, name, name);
            else
                fprintf(g->c, "    %s_set_%s(p, %s);\n", p, name, name);
        }
        fprintf(g->c, "    return %s_%s_send(call, results);\n}\n\n", c, m.name);
    }

    if (ml.count == 0) {
        fprintf(g->c, "int %s_dispatch(const %s_server *srv, void *self, capnp_server_call *call)\n{\n"
                "    call->result_len = 0;\n    call->result_ncaps = 0;\n"
                "    return call->interface_id != %s_ID ? CAPNP_ERR_UNKNOWN_INTERFACE\n"
                "                                       : CAPNP_ERR_UNKNOWN_METHOD;\n}\n\n", c, c, c);
        emit_dispatch_any(g, c);
        return;
    }
    fprintf(g->c, "int %s_dispatch(const %s_server *srv, void *self, capnp_server_call *call)\n{\n"
            "    capnp_msg pm;\n    capnp_builder rb;\n    int e;\n\n"
            "    call->result_len = 0;\n    call->result_ncaps = 0;\n"
            "    if (call->interface_id != %s_ID)\n        return CAPNP_ERR_UNKNOWN_INTERFACE;\n"
            "    if (call->method_id > %u)\n        return CAPNP_ERR_UNKNOWN_METHOD;\n"
            "    /* the whole params message is checked before a handler sees it */\n"
            "    e = capnp_msg_init(&pm, call->params, call->params_len);\n"
            "    if (e == CAPNP_OK) {\n"
            "        capnp_msg_set_caps(&pm, call->param_caps, call->param_ncaps);\n"
            "        e = capnp_msg_validate(&pm);\n    }\n"
            "    if (e != CAPNP_OK)\n        return e;\n"
            "    /* the handler's reads get a fresh traversal budget */\n"
            "    capnp_msg_set_limits(&pm, CAPNP_DEFAULT_TRAVERSAL_WORDS, CAPNP_DEFAULT_NESTING);\n"
            "    e = capnp_builder_init(&rb, call->result, call->result_cap);\n"
            "    if (e != CAPNP_OK)\n        return e;\n"
            "    capnp_builder_set_caps(&rb, call->result_caps, call->result_caps_cap);\n"
            "    switch (call->method_id) {\n",
            c, c, c, ml.count - 1);
    for (uint32_t i = 0; i < ml.count; i++) {
        if (!method_at(g, n, i, &m))
            continue;
        const char *p = m.params->cname, *r = m.results->cname;
        fprintf(g->c, "    case %s_METHOD_%s:\n        if (!srv->%s)\n            return CAPNP_ERR_UNIMPLEMENTED;\n"
                "        e = srv->%s(self, %s_read_root(&pm), %s_init_root(&rb));\n        break;\n",
                c, m.name, m.name, m.name, p, r);
    }
    fprintf(g->c, "    default:\n        return CAPNP_ERR_UNKNOWN_METHOD;\n    }\n"
            "    if (e == CAPNP_OK)\n        e = pm.err;\n"
            "    if (e != CAPNP_OK)\n        return e;\n"
            "    e = capnp_builder_finish(&rb, &call->result_len);\n"
            "    if (e != CAPNP_OK)\n        return e;\n"
            "    call->result_ncaps = rb.ncaps;\n    return CAPNP_OK;\n}\n\n");
    emit_dispatch_any(g, c);
}
