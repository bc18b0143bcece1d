/*
 * Emission of struct and enum types: the reader/builder handle types, the
 * bounds-checked field getters (defaults applied by XOR, as on the wire),
 * the setters, union discriminants, groups and list element accessors.
 */
#include <stdint.h>
#include <string.h>

#include "gen.h"

void emit_enum(struct gen *g, struct node *n)
{
    capnp_list e = node_enumerants(n->s);
    fprintf(g->h, "/* enum %s: read and written as uint16_t */\n#define %s_ID UINT64_C(0x%016llx)\nenum %s {\n",
            n->cname, n->cname, (unsigned long long)n->id, n->cname);
    for (uint32_t i = 0; i < e.count; i++) {
        char name[128];
        gen_ident(name, sizeof name, enumerant_name(capnp_list_struct(e, i)));
        fprintf(g->h, "    %s_%s = %u,\n", n->cname, name, i);
    }
    fprintf(g->h, "};\n\n");
}

/* Constants of scalar, enum and Text type become macros; others (struct,
 * list, Data constants) are left out with a note. */
void emit_const(struct gen *g, struct node *n)
{
    capnp_struct t = node_const_type(n->s), v = node_const_value(n->s);
    const char *c = n->cname;
    switch (type_which(t)) {
    case T_BOOL:
        fprintf(g->h, "#define %s %s\n", c, value_bool(v) ? "true" : "false");
        break;
    case T_INT8: fprintf(g->h, "#define %s ((int8_t)%d)\n", c, (int8_t)value_u8(v)); break;
    case T_INT16: fprintf(g->h, "#define %s ((int16_t)%d)\n", c, (int16_t)value_u16(v)); break;
    case T_INT32: fprintf(g->h, "#define %s ((int32_t)(%lldLL))\n", c, (long long)(int32_t)value_u32(v)); break;
    case T_INT64: {
        int64_t x = (int64_t)value_u64(v);
        if (x == INT64_MIN) /* has no literal: write it as an expression */
            fprintf(g->h, "#define %s ((int64_t)(-9223372036854775807LL - 1))\n", c);
        else
            fprintf(g->h, "#define %s ((int64_t)(%lldLL))\n", c, (long long)x);
        break;
    }
    case T_UINT8: fprintf(g->h, "#define %s ((uint8_t)%uu)\n", c, value_u8(v)); break;
    case T_UINT16:
    case T_ENUM: fprintf(g->h, "#define %s ((uint16_t)%uu)\n", c, value_u16(v)); break;
    case T_UINT32: fprintf(g->h, "#define %s UINT32_C(%u)\n", c, value_u32(v)); break;
    case T_UINT64: fprintf(g->h, "#define %s UINT64_C(%llu)\n", c, (unsigned long long)value_u64(v)); break;
    case T_TEXT: {
        capnp_text tx = value_text(v);
        fprintf(g->h, "#define %s ", c);
        gen_cstr(g->h, (const uint8_t *)tx.str, tx.len);
        fprintf(g->h, "\n");
        break;
    }
    default:
        fprintf(g->h, "/* const %s: only scalar, enum and Text constants are generated */\n", c);
        return;
    }
    fprintf(g->h, "\n");
}

void emit_struct_types(struct gen *g, struct node *n)
{
    const char *c = n->cname;
    fprintf(g->h, "/* struct %s%s */\n", c, node_is_group(n->s) ? " (a group: shares its parent's sections)" : "");
    fprintf(g->h, "#define %s_ID UINT64_C(0x%016llx)\n", c, (unsigned long long)n->id);
    fprintf(g->h, "#define %s_DATA_WORDS %u\n#define %s_PTR_WORDS %u\n", c,
            node_data_words(n->s), c, node_ptr_words(n->s));
    fprintf(g->h, "typedef struct %s_reader { capnp_struct s; } %s_reader;\n", c, c);
    fprintf(g->h, "typedef struct %s_builder { capnp_sbuilder s; } %s_builder;\n\n", c, c);
}

/* How a scalar type sits in the data section. */
struct scalar {
    const char *ctype; /* C type given to and returned from accessors */
    unsigned bits;     /* 1, 8, 16, 32, 64 */
    int is_float;
};

static int scalar_of(uint16_t w, struct scalar *s)
{
    static const struct scalar tab[] = {
        [T_BOOL] = { "bool", 1, 0 },       [T_INT8] = { "int8_t", 8, 0 },
        [T_INT16] = { "int16_t", 16, 0 },  [T_INT32] = { "int32_t", 32, 0 },
        [T_INT64] = { "int64_t", 64, 0 },  [T_UINT8] = { "uint8_t", 8, 0 },
        [T_UINT16] = { "uint16_t", 16, 0 }, [T_UINT32] = { "uint32_t", 32, 0 },
        [T_UINT64] = { "uint64_t", 64, 0 }, [T_FLOAT32] = { "float", 32, 1 },
        [T_FLOAT64] = { "double", 64, 1 }, [T_ENUM] = { "uint16_t", 16, 0 },
    };
    if (w >= sizeof tab / sizeof tab[0] || !tab[w].ctype)
        return 0;
    *s = tab[w];
    return 1;
}

/* Wire element size a List(T) uses, as the capnp_elem constant name. */
static const char *elem_code(struct gen *g, capnp_struct t)
{
    switch (type_which(t)) {
    case T_VOID: return "CAPNP_ELEM_VOID";
    case T_BOOL: return "CAPNP_ELEM_BIT";
    case T_INT8: case T_UINT8: return "CAPNP_ELEM_BYTE";
    case T_INT16: case T_UINT16: case T_ENUM: return "CAPNP_ELEM_TWO";
    case T_INT32: case T_UINT32: case T_FLOAT32: return "CAPNP_ELEM_FOUR";
    case T_INT64: case T_UINT64: case T_FLOAT64: return "CAPNP_ELEM_EIGHT";
    case T_STRUCT: return "CAPNP_ELEM_COMPOSITE";
    default: return "CAPNP_ELEM_POINTER";
    }
}

static struct node *type_node(struct gen *g, capnp_struct t, const char *what)
{
    struct node *tn = gen_find(g, type_id(t));
    if (!tn || !tn->cname[0]) {
        gen_error(g, "%s: type from another file (imports are not supported)", what);
        return NULL;
    }
    return tn;
}

/* The default's raw bits for a scalar field, as they are XORed on the wire. */
static uint64_t default_bits(capnp_struct v, unsigned bits)
{
    switch (bits) {
    case 1: return value_bool(v);
    case 8: return value_u8(v);
    case 16: return value_u16(v);
    case 32: return value_u32(v);
    default: return value_u64(v);
    }
}

/* Statement that sets this field's union discriminant, if it has one. */
static void emit_disc(struct gen *g, struct node *n, capnp_struct f)
{
    uint16_t dv = field_disc_value(f);
    if (dv != NO_DISCRIMINANT)
        fprintf(g->h, "    capnp_set_u16(b.s, %u, %u);\n",
                node_disc_offset(n->s) * 2, dv);
}

static void emit_scalar(struct gen *g, struct node *n, capnp_struct f,
                        const char *fname, struct scalar sc)
{
    const char *c = n->cname;
    uint32_t off = field_offset(f);
    unsigned long long def = default_bits(field_default(f), sc.bits);
    if (sc.bits == 1) {
        fprintf(g->h, "static inline bool %s_get_%s(%s_reader r)\n{\n"
                "    return capnp_get_bool(r.s, %u) ^ %s;\n}\n",
                c, fname, c, off, def ? "true" : "false");
        fprintf(g->h, "static inline void %s_set_%s(%s_builder b, bool v)\n{\n", c, fname, c);
        emit_disc(g, n, f);
        fprintf(g->h, "    capnp_set_bool(b.s, %u, v ^ %s);\n}\n", off, def ? "true" : "false");
        return;
    }
    unsigned bytes = sc.bits / 8;
    fprintf(g->h, "static inline %s %s_get_%s(%s_reader r)\n{\n", sc.ctype, c, fname, c);
    if (sc.is_float) {
        fprintf(g->h, "    union { uint%u_t u; %s f; } v;\n"
                "    v.u = capnp_get_u%u(r.s, %u) ^ UINT%u_C(0x%llx);\n    return v.f;\n}\n",
                sc.bits, sc.ctype, sc.bits, off * bytes, sc.bits, def);
    } else {
        fprintf(g->h, "    return (%s)(uint%u_t)(capnp_get_u%u(r.s, %u) ^ UINT%u_C(0x%llx));\n}\n",
                sc.ctype, sc.bits, sc.bits, off * bytes, sc.bits, def);
    }
    fprintf(g->h, "static inline void %s_set_%s(%s_builder b, %s x)\n{\n", c, fname, c, sc.ctype);
    emit_disc(g, n, f);
    if (sc.is_float)
        fprintf(g->h, "    union { uint%u_t u; %s f; } v;\n    v.f = x;\n"
                "    capnp_set_u%u(b.s, %u, (uint%u_t)(v.u ^ UINT%u_C(0x%llx)));\n}\n",
                sc.bits, sc.ctype, sc.bits, off * bytes, sc.bits, sc.bits, def);
    else
        fprintf(g->h, "    capnp_set_u%u(b.s, %u, (uint%u_t)((uint%u_t)x ^ UINT%u_C(0x%llx)));\n}\n",
                sc.bits, off * bytes, sc.bits, sc.bits, sc.bits, def);
}

/* Text and Data: a default is returned while the pointer is null. */
static void emit_bytes(struct gen *g, struct node *n, capnp_struct f,
                       const char *fname, int is_text)
{
    const char *c = n->cname;
    uint32_t o = field_offset(f);
    const char *ty = is_text ? "capnp_text" : "capnp_data";
    fprintf(g->h, "static inline %s %s_get_%s(%s_reader r)\n{\n", ty, c, fname, c);
    capnp_struct dv = field_default(f);
    capnp_data d = value_bytes(dv);
    if (field_had_default(f) && capnp_has_ptr(dv, 0)) {
        uint32_t len = is_text && d.len ? d.len - 1 : d.len;
        fprintf(g->h, "    if (!capnp_has_ptr(r.s, %u)) {\n        %s d = { %s", o, ty,
                is_text ? "" : "(const uint8_t *)");
        gen_cstr(g->h, d.ptr, len);
        fprintf(g->h, ", %u };\n        return d;\n    }\n", len);
    }
    fprintf(g->h, "    return capnp_get_%s(r.s, %u);\n}\n", is_text ? "text" : "data", o);
    fprintf(g->h, "static inline void %s_set_%s(%s_builder b, const %s *p, size_t len)\n{\n",
            c, fname, c, is_text ? "char" : "void");
    emit_disc(g, n, f);
    fprintf(g->h, "    capnp_set_%s(b.s, %u, p, len);\n}\n", is_text ? "text" : "data", o);
}

static void emit_has(struct gen *g, struct node *n, const char *fname, uint32_t o)
{
    fprintf(g->h, "static inline bool %s_has_%s(%s_reader r) { return capnp_has_ptr(r.s, %u); }\n",
            n->cname, fname, n->cname, o);
}

static void emit_slot(struct gen *g, struct node *n, capnp_struct f, const char *fname)
{
    const char *c = n->cname;
    capnp_struct t = field_type(f);
    uint16_t w = type_which(t);
    uint32_t o = field_offset(f);
    struct scalar sc;
    struct node *tn;

    if (scalar_of(w, &sc)) {
        emit_scalar(g, n, f, fname, sc);
        return;
    }
    /* Struct, list and AnyPointer defaults would need an embedded default
     * message; refuse them rather than read such a field as empty. */
    if ((w == T_STRUCT || w == T_LIST || w == T_ANYPOINTER) && field_had_default(f) &&
        capnp_has_ptr(field_default(f), 0)) {
        gen_error(g, "%s.%s: default values of struct/list fields are not supported", c, fname);
        return;
    }
    switch (w) {
    case T_VOID:
        if (field_disc_value(f) != NO_DISCRIMINANT) {
            fprintf(g->h, "static inline void %s_set_%s(%s_builder b)\n{\n", c, fname, c);
            emit_disc(g, n, f);
            fprintf(g->h, "}\n");
        }
        return;
    case T_TEXT:
    case T_DATA:
        emit_has(g, n, fname, o);
        emit_bytes(g, n, f, fname, w == T_TEXT);
        return;
    case T_STRUCT:
        if (!(tn = type_node(g, t, fname)))
            return;
        emit_has(g, n, fname, o);
        fprintf(g->h, "static inline %s_reader %s_get_%s(%s_reader r)\n{\n"
                "    %s_reader v = { capnp_get_struct(r.s, %u) };\n    return v;\n}\n",
                tn->cname, c, fname, c, tn->cname, o);
        fprintf(g->h, "static inline %s_builder %s_init_%s(%s_builder b)\n{\n",
                tn->cname, c, fname, c);
        emit_disc(g, n, f);
        fprintf(g->h, "    %s_builder v = { capnp_init_struct(b.s, %u, %s_DATA_WORDS, %s_PTR_WORDS) };\n"
                "    return v;\n}\n", tn->cname, o, tn->cname, tn->cname);
        return;
    case T_LIST: {
        capnp_struct et = type_elem(t);
        emit_has(g, n, fname, o);
        fprintf(g->h, "static inline capnp_list %s_get_%s(%s_reader r)\n{\n"
                "    return capnp_get_list(r.s, %u, %s);\n}\n",
                c, fname, c, o, elem_code(g, et));
        fprintf(g->h, "static inline capnp_lbuilder %s_init_%s(%s_builder b, uint32_t n)\n{\n",
                c, fname, c);
        emit_disc(g, n, f);
        if (type_which(et) == T_STRUCT) {
            if (!(tn = type_node(g, et, fname)))
                return;
            fprintf(g->h, "    return capnp_init_struct_list(b.s, %u, n, %s_DATA_WORDS, %s_PTR_WORDS);\n}\n",
                    o, tn->cname, tn->cname);
        } else {
            fprintf(g->h, "    return capnp_init_list(b.s, %u, %s, n);\n}\n", o, elem_code(g, et));
        }
        return;
    }
    case T_INTERFACE:
    case T_ANYPOINTER:
        emit_has(g, n, fname, o);
        if (w == T_ANYPOINTER && !(type_any_which(t) == 0 && type_any_kind(t) == ANY_CAPABILITY)) {
            fprintf(g->h, "/* %s.%s: AnyPointer, only has_ is generated */\n", c, fname);
            return;
        }
        fprintf(g->h, "/* capability: an index into the message's cap table */\n");
        fprintf(g->h, "static inline uint32_t %s_get_%s(%s_reader r) { return capnp_get_cap(r.s, %u); }\n",
                c, fname, c, o);
        fprintf(g->h, "static inline void %s_set_%s(%s_builder b, uint32_t cap_index)\n{\n", c, fname, c);
        emit_disc(g, n, f);
        fprintf(g->h, "    capnp_set_cap(b.s, %u, cap_index);\n}\n", o);
        return;
    }
    gen_error(g, "%s.%s: unsupported type %u", c, fname, w);
}

static void emit_group(struct gen *g, struct node *n, capnp_struct f, const char *fname)
{
    const char *c = n->cname;
    struct node *gn = gen_find(g, field_group_id(f));
    if (!gn) {
        gen_error(g, "%s.%s: group node missing", c, fname);
        return;
    }
    fprintf(g->h, "static inline %s_reader %s_get_%s(%s_reader r) { %s_reader v = { r.s }; return v; }\n",
            gn->cname, c, fname, c, gn->cname);
    fprintf(g->h, "static inline %s_builder %s_init_%s(%s_builder b)\n{\n", gn->cname, c, fname, c);
    emit_disc(g, n, f);
    fprintf(g->h, "    %s_builder v = { b.s };\n    return v;\n}\n", gn->cname);
}

void emit_struct_accessors(struct gen *g, struct node *n)
{
    const char *c = n->cname;
    capnp_list fl = node_fields(n->s);
    fprintf(g->h, "/* --- %s --- */\n", c);
    if (!node_is_group(n->s)) {
        fprintf(g->h, "static inline %s_reader %s_read_root(capnp_msg *m) { %s_reader v = { capnp_msg_root(m) }; return v; }\n",
                c, c, c);
        fprintf(g->h, "static inline %s_builder %s_init_root(capnp_builder *b)\n{\n"
                "    %s_builder v = { capnp_builder_root(b, %s_DATA_WORDS, %s_PTR_WORDS) };\n    return v;\n}\n",
                c, c, c, c, c);
        fprintf(g->h, "static inline %s_reader %s_list_get(capnp_list l, uint32_t i) { %s_reader v = { capnp_list_struct(l, i) }; return v; }\n",
                c, c, c);
        fprintf(g->h, "static inline %s_builder %s_list_at(capnp_lbuilder l, uint32_t i) { %s_builder v = { capnp_lget_struct(l, i) }; return v; }\n",
                c, c, c);
    }
    if (node_disc_count(n->s)) {
        fprintf(g->h, "enum {\n");
        for (uint32_t i = 0; i < fl.count; i++) {
            capnp_struct f = capnp_list_struct(fl, i);
            if (field_disc_value(f) == NO_DISCRIMINANT)
                continue;
            char fname[128];
            gen_ident(fname, sizeof fname, field_name(f));
            fprintf(g->h, "    %s_which_%s = %u,\n", c, fname, field_disc_value(f));
        }
        fprintf(g->h, "};\nstatic inline uint16_t %s_which(%s_reader r) { return capnp_get_u16(r.s, %u); }\n",
                c, c, node_disc_offset(n->s) * 2);
    }
    for (uint32_t i = 0; i < fl.count; i++) {
        capnp_struct f = capnp_list_struct(fl, i);
        char fname[128];
        gen_ident(fname, sizeof fname, field_name(f));
        if (field_which(f) == FIELD_GROUP)
            emit_group(g, n, f, fname);
        else
            emit_slot(g, n, f, fname);
    }
    fprintf(g->h, "\n");
}
