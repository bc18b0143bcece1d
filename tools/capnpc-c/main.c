/*
 * capnpc-c: the Cap'n Proto compiler plugin that emits C.
 *
 * `capnp compile -o capnpc-c:OUTDIR file.capnp` runs this program in OUTDIR
 * with a CodeGeneratorRequest message on stdin.  The request is read with
 * lib/capnp itself; for each requested file NAME.capnp we write
 * NAME.capnp.h (types, accessors, ids, stubs) and NAME.capnp.c (client
 * stubs and server dispatch).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

void gen_error(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "capnpc-c: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g->failed = 1;
}

struct node *gen_find(struct gen *g, uint64_t id)
{
    for (size_t i = 0; i < g->nnodes; i++)
        if (g->nodes[i].id == id)
            return &g->nodes[i];
    return NULL;
}

void gen_ident(char *buf, size_t cap, capnp_text t)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t.len && n + 1 < cap; i++) {
        char ch = t.str[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_';
        buf[n++] = ok ? ch : '_';
    }
    buf[n] = 0;
}

void gen_cstr(FILE *f, const uint8_t *p, uint32_t len)
{
    fputc('"', f);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t ch = p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '?')
            fputc(ch, f);
        else
            fprintf(f, "\\%03o", ch); /* octal: never swallows a next digit */
    }
    fputc('"', f);
}

static unsigned char *read_all(FILE *in, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return NULL;
        n += fread(buf + n, 1, cap - n, in);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    *len = n;
    return buf;
}

/* C name of a node: prefix + display name after "file:", with '.' and '$'
 * turned into '_' (so Console.write$Params becomes Console_write_Params). */
static void name_node(struct gen *g, struct node *n)
{
    capnp_text dn = node_display_name(n->s);
    uint32_t skip = 0;
    while (skip < dn.len && dn.str[skip] != ':')
        skip++;
    capnp_text rest = { dn.str + skip + 1, skip < dn.len ? dn.len - skip - 1 : 0 };
    char tail[200];
    gen_ident(tail, sizeof tail, rest);
    snprintf(n->cname, sizeof n->cname, "%s_%s", g->prefix, tail);
}

static void add_order(struct gen *g, struct node *n)
{
    for (size_t i = 0; i < g->norder; i++)
        if (g->order[i] == n)
            return;
    g->order[g->norder++] = n;
}

/* Collect a node and what it owns: nested nodes, groups, method params. */
static void collect(struct gen *g, struct node *n, int depth)
{
    if (depth > 64) {
        gen_error(g, "nesting too deep");
        return;
    }
    add_order(g, n);
    name_node(g, n);
    uint16_t w = node_which(n->s);
    if (w == NODE_STRUCT) {
        capnp_list f = node_fields(n->s);
        for (uint32_t i = 0; i < f.count; i++) {
            capnp_struct fs = capnp_list_struct(f, i);
            if (field_which(fs) == FIELD_GROUP) {
                struct node *gn = gen_find(g, field_group_id(fs));
                if (gn)
                    collect(g, gn, depth + 1);
            }
        }
    }
    if (w == NODE_INTERFACE) {
        capnp_list m = node_methods(n->s);
        for (uint32_t i = 0; i < m.count; i++) {
            capnp_struct ms = capnp_list_struct(m, i);
            uint64_t ids[2] = { method_params(ms), method_results(ms) };
            for (int k = 0; k < 2; k++) {
                struct node *pn = gen_find(g, ids[k]);
                if (!pn)
                    gen_error(g, "method param/result node missing");
                else if (node_scope(pn->s) == 0) /* auto-generated $Params */
                    collect(g, pn, depth + 1);
            }
        }
    }
    capnp_list nn = node_nested(n->s);
    for (uint32_t i = 0; i < nn.count; i++) {
        struct node *c = gen_find(g, nested_id(capnp_list_struct(nn, i)));
        if (c)
            collect(g, c, depth + 1);
    }
}

/* The schema name of a node: its display name after "file:" (for a nested
 * node, "Outer.Inner"), as a manifest or a shell would spell it. */
static capnp_text schema_name(struct node *n)
{
    capnp_text dn = node_display_name(n->s);
    uint32_t skip = 0;
    while (skip < dn.len && dn.str[skip] != ':')
        skip++;
    if (skip >= dn.len)
        return dn;
    capnp_text rest = { dn.str + skip + 1, dn.len - skip - 1 };
    return rest;
}

/* A table of every interface of the file, name and id, so that tools can
 * resolve an interface named in text (the boot manifest's `export ...
 * interface=Echo`) without a hand-kept copy of the ids.  The element type is
 * shared by every generated file, hence the guard. */
static void emit_interface_table(struct gen *g)
{
    size_t count = 0;
    for (size_t i = 0; i < g->norder; i++)
        if (node_which(g->order[i]->s) == NODE_INTERFACE)
            count++;
    fprintf(g->h, "/* ===== every interface of this file, by schema name ===== */\n"
            "#ifndef CAPNP_INTERFACE_NAME_DEFINED\n#define CAPNP_INTERFACE_NAME_DEFINED\n"
            "typedef struct capnp_interface_name { const char *name; uint64_t id; } capnp_interface_name;\n"
            "#endif\n#define %s_INTERFACE_COUNT %zu\n", g->prefix, count);
    if (count == 0) /* a zero-length array is not C */
        return;
    fprintf(g->h, "extern const capnp_interface_name %s_interfaces[%s_INTERFACE_COUNT];\n"
            "/* the schema name of interface ID, or \"?\" for an id this file does not define */\n"
            "const char *%s_interface_name(uint64_t id);\n\n", g->prefix, g->prefix, g->prefix);
    fprintf(g->c, "const capnp_interface_name %s_interfaces[%s_INTERFACE_COUNT] = {\n",
            g->prefix, g->prefix);
    for (size_t i = 0; i < g->norder; i++) {
        struct node *n = g->order[i];
        if (node_which(n->s) != NODE_INTERFACE)
            continue;
        capnp_text name = schema_name(n);
        fprintf(g->c, "    { ");
        gen_cstr(g->c, (const uint8_t *)name.str, name.len);
        fprintf(g->c, ", %s_ID },\n", n->cname);
    }
    fprintf(g->c, "};\n\n"
            "const char *%s_interface_name(uint64_t id)\n{\n"
            "    for (uint32_t i = 0; i < %s_INTERFACE_COUNT; i++)\n"
            "        if (%s_interfaces[i].id == id)\n"
            "            return %s_interfaces[i].name;\n"
            "    return \"?\";\n}\n", g->prefix, g->prefix, g->prefix, g->prefix);
}

static int generate(struct gen *g, capnp_struct file)
{
    capnp_text fname = rfile_name(file);
    const char *base = fname.str;
    for (uint32_t i = 0; i < fname.len; i++)
        if (fname.str[i] == '/')
            base = fname.str + i + 1;
    /* prefix: the file's stem, up to the first '.' */
    size_t k = 0;
    for (; base[k] && base[k] != '.' && k + 1 < sizeof g->prefix; k++) {
        char ch = base[k];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_';
        g->prefix[k] = ok ? ch : '_';
    }
    g->prefix[k] = 0;

    struct node *fn = gen_find(g, rfile_id(file));
    if (!fn) {
        gen_error(g, "file node missing for %s", base);
        return 1;
    }
    g->norder = 0;
    collect(g, fn, 0);

    char hname[512], cname[512], guard[512];
    snprintf(hname, sizeof hname, "%s.h", base);
    snprintf(cname, sizeof cname, "%s.c", base);
    snprintf(guard, sizeof guard, "CAPNP_GEN_%s_H", g->prefix);
    g->h = fopen(hname, "w");
    g->c = fopen(cname, "w");
    if (!g->h || !g->c) {
        gen_error(g, "cannot write %s", hname);
        return 1;
    }
    fprintf(g->h, "/* Generated by capnpc-c from %s: do not edit. */\n"
            "#ifndef %s\n#define %s\n\n#include <stdbool.h>\n#include <stddef.h>\n"
            "#include <stdint.h>\n#include \"capnp.h\"\n\n", base, guard, guard);
    fprintf(g->c, "/* Generated by capnpc-c from %s: do not edit. */\n"
            "#include \"%s\"\n\n", base, hname);

    for (size_t i = 0; i < g->norder; i++) {
        struct node *n = g->order[i];
        if (node_is_generic(n->s) && node_which(n->s) != NODE_FILE) {
            gen_error(g, "%s: generic types are not supported", n->cname);
            continue;
        }
        if (node_which(n->s) == NODE_STRUCT)
            emit_struct_types(g, n);
        else if (node_which(n->s) == NODE_ENUM)
            emit_enum(g, n);
        else if (node_which(n->s) == NODE_CONST)
            emit_const(g, n);
    }
    for (size_t i = 0; i < g->norder; i++)
        if (node_which(g->order[i]->s) == NODE_STRUCT)
            emit_struct_accessors(g, g->order[i]);
    for (size_t i = 0; i < g->norder; i++)
        if (node_which(g->order[i]->s) == NODE_INTERFACE) {
            emit_interface_header(g, g->order[i]);
            emit_interface_source(g, g->order[i]);
        }
    emit_interface_table(g);
    fprintf(g->h, "#endif\n");
    int bad = ferror(g->h) | ferror(g->c);
    bad |= fclose(g->h) != 0;
    bad |= fclose(g->c) != 0;
    if (bad)
        gen_error(g, "cannot write %s", hname);
    if (g->failed) {
        /* leave nothing half-written for make to take as up to date */
        remove(hname);
        remove(cname);
    }
    return g->failed;
}

int main(void)
{
    size_t len;
    unsigned char *buf = read_all(stdin, &len);
    if (!buf) {
        fprintf(stderr, "capnpc-c: out of memory\n");
        return 1;
    }
    capnp_msg m;
    int e = capnp_msg_init(&m, buf, len);
    if (e == CAPNP_OK) {
        /* a request for a large schema is big but trusted; limits stay on */
        capnp_msg_set_limits(&m, (uint64_t)len, CAPNP_DEFAULT_NESTING);
        e = capnp_msg_validate(&m);
        capnp_msg_set_limits(&m, UINT64_MAX / 2, CAPNP_DEFAULT_NESTING);
    }
    if (e != CAPNP_OK) {
        fprintf(stderr, "capnpc-c: bad request: %s\n", capnp_strerror(e));
        return 1;
    }
    capnp_struct root = capnp_msg_root(&m);
    struct gen g = { 0 };
    capnp_list nodes = req_nodes(root);
    g.nnodes = nodes.count;
    g.nodes = calloc(nodes.count + 1, sizeof *g.nodes);
    g.order = calloc(nodes.count + 1, sizeof *g.order);
    if (!g.nodes || !g.order)
        return 1;
    for (uint32_t i = 0; i < nodes.count; i++) {
        g.nodes[i].s = capnp_list_struct(nodes, i);
        g.nodes[i].id = node_id(g.nodes[i].s);
    }
    capnp_list files = req_files(root);
    int rc = 0;
    for (uint32_t i = 0; i < files.count; i++)
        rc |= generate(&g, capnp_list_struct(files, i));
    if (m.err != CAPNP_OK) {
        fprintf(stderr, "capnpc-c: bad request: %s\n", capnp_strerror(m.err));
        rc = 1;
    }
    free(g.nodes);
    free(g.order);
    free(buf);
    return rc;
}
