/*
 * mkpkg: pack programs into the boot package the kernel starts from.
 *   mkpkg OUT NAME=FILE [NAME=FILE ...]
 * Layout: struct bootpkg_hdr, the entry table, then each file 16-byte aligned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capos/bootpkg.h"

static void die(const char *m, const char *a) { fprintf(stderr, "mkpkg: %s %s\n", m, a); exit(1); }

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: mkpkg OUT NAME=FILE...", "");
    int n = argc - 2;
    struct bootpkg_hdr h = { .count = (uint32_t)n };
    memcpy(h.magic, BOOTPKG_MAGIC, 8);
    struct bootpkg_entry *e = calloc((size_t)n, sizeof *e);
    unsigned char **data = calloc((size_t)n, sizeof *data);
    uint64_t off = sizeof h + (uint64_t)n * sizeof *e;
    for (int i = 0; i < n; i++) {
        char *arg = argv[i + 2], *eq = strchr(arg, '=');
        if (!eq || eq == arg || (size_t)(eq - arg) >= BOOTPKG_NAME)
            die("bad NAME=FILE:", arg);
        memcpy(e[i].name, arg, (size_t)(eq - arg));
        FILE *f = fopen(eq + 1, "rb");
        if (!f)
            die("cannot open", eq + 1);
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        data[i] = malloc((size_t)sz);
        if (fread(data[i], 1, (size_t)sz, f) != (size_t)sz)
            die("cannot read", eq + 1);
        fclose(f);
        off = (off + 15) & ~15ull;
        e[i].offset = off;
        e[i].size = (uint64_t)sz;
        off += (uint64_t)sz;
    }
    FILE *o = fopen(argv[1], "wb");
    if (!o)
        die("cannot create", argv[1]);
    fwrite(&h, sizeof h, 1, o);
    fwrite(e, sizeof *e, (size_t)n, o);
    for (int i = 0; i < n; i++) {
        long pos = ftell(o);
        static const char zero[16];
        fwrite(zero, 1, (size_t)(e[i].offset - (uint64_t)pos), o);
        fwrite(data[i], 1, e[i].size, o);
    }
    fclose(o);
    return 0;
}
