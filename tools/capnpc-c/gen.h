/* Shared state of one code generation run. */
#ifndef CAPNPC_C_GEN_H
#define CAPNPC_C_GEN_H

#include <stdio.h>
#include "capnp.h"
#include "schema.h"

struct node {
    uint64_t id;
    capnp_struct s;
    char cname[300]; /* C name, e.g. capos_Console_write_Params */
};

struct gen {
    struct node *nodes; /* every node of the request */
    size_t nnodes;
    struct node **order; /* the requested file's nodes, emission order */
    size_t norder;
    char prefix[64];     /* C prefix: the schema file's stem */
    FILE *h, *c;
    int failed;
};

struct node *gen_find(struct gen *g, uint64_t id);
void gen_error(struct gen *g, const char *fmt, ...);
/* Copy a schema text into buf as a C identifier piece. */
void gen_ident(char *buf, size_t cap, capnp_text t);
/* Print bytes as a C string literal. */
void gen_cstr(FILE *f, const uint8_t *p, uint32_t len);

void emit_struct_types(struct gen *g, struct node *n);
void emit_struct_accessors(struct gen *g, struct node *n);
void emit_enum(struct gen *g, struct node *n);
void emit_const(struct gen *g, struct node *n);
void emit_interface_header(struct gen *g, struct node *n);
void emit_interface_source(struct gen *g, struct node *n);

#endif
