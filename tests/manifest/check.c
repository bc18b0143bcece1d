/*
 * check: run lib/manifest over a compiled manifest, as init will.
 *
 *   check MANIFEST.bin BINARY...
 *
 * The BINARY names stand for the programs of the boot package.  Prints
 *   ok: order NAME NAME ...        (exit 0)
 *   error CODE: MESSAGE            (exit 1)
 * for run.py to compare with what each test manifest expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

struct pkg {
    char **names;
    int count;
};

static bool has_binary(void *ctx, const char *name, size_t len)
{
    const struct pkg *p = ctx;
    for (int i = 0; i < p->count; i++)
        if (strlen(p->names[i]) == len && memcmp(p->names[i], name, len) == 0)
            return true;
    return false;
}

static struct manifest m; /* 51 KiB: not on the stack, as in init */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: check MANIFEST.bin BINARY...\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* an exact-size copy, so ASan sees any read past the message */
    unsigned char *msg = malloc(len ? len : 1);
    if (!msg)
        return 2;
    memcpy(msg, buf, len);

    struct pkg pkg = { argv + 2, argc - 2 };
    struct manifest_error err;
    int e = manifest_load(&m, msg, len, has_binary, &pkg, &err);
    if (e != MANIFEST_OK) {
        if (e != err.code)
            printf("error %d: returned code differs from err.code %d\n", e, err.code);
        printf("error %d: %s\n", e, err.msg);
        free(msg);
        return 1;
    }
    printf("ok: order");
    for (uint32_t i = 0; i < m.nservices; i++)
        printf(" %s", m.services[m.order[i]].name.str);
    printf("\n");
    free(msg);
    return 0;
}
