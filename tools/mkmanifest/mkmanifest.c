/*
 * mkmanifest: compile the boot manifest's text into a SystemManifest
 * message (schema/capos.capnp) for the boot package.
 *
 *   mkmanifest INPUT.manifest OUTPUT.bin
 *
 * A syntax error prints "INPUT:LINE: message" and writes nothing, so make
 * stops.  Interface names resolve through the table capnpc-c generates for
 * the schema, never through a hand-kept list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mkmanifest.h"

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *b = realloc(buf, cap + 1);
        if (!b)
            free(buf);
        buf = b;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkmanifest INPUT.manifest OUTPUT.bin\n");
        return 2;
    }
    size_t len;
    char *text = read_text(argv[1], &len);
    if (!text) {
        perror(argv[1]);
        return 1;
    }
    char *nul = memchr(text, 0, len);
    if (nul) {
        unsigned line = 1;
        for (char *c = text; c < nul; c++)
            line += *c == '\n';
        fprintf(stderr, "%s:%u: NUL byte in the text\n", argv[1], line);
        return 1;
    }
    struct mk_manifest m = { 0 };
    if (mk_parse(&m, argv[1], text, capos_interfaces, capos_INTERFACE_COUNT))
        return 1;
    /* The builder never grows its buffer: retry with a larger one. */
    size_t n = 0;
    void *out = NULL;
    for (size_t cap = 4 * len + 4096; n == 0 && cap <= ((size_t)1 << 30); cap *= 2) {
        free(out);
        out = malloc(cap);
        if (!out)
            break;
        n = mk_encode(&m, out, cap);
    }
    if (n == 0) {
        fprintf(stderr, "%s: manifest too large to encode\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, n, f) != n || fclose(f) != 0) {
        perror(argv[2]);
        remove(argv[2]);
        return 1;
    }
    return 0;
}
