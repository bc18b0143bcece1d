/* What the files of lib/manifest share and nobody else needs. */
#ifndef CAPOS_MANIFEST_INTERNAL_H
#define CAPOS_MANIFEST_INTERNAL_H

#include "manifest.h"

/* Record an error: code, line and "line N: " + the formatted message.
 * Returns code, so a check can `return manifest_fail(...)`. */
int manifest_fail(struct manifest_error *err, int code, uint32_t line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A name from the message that may not have been checked yet, made safe to
 * print: at most MANIFEST_SHOW_MAX bytes, anything but printable ASCII as
 * '?', "..." when cut.  init prints messages on the console, where a raw
 * control byte from a crafted manifest could do more than look wrong. */
#define MANIFEST_SHOW_MAX 32
struct manifest_shown {
    char s[MANIFEST_SHOW_MAX + 4];
};
struct manifest_shown manifest_show(struct manifest_str name);

/* Fill m->order with providers before clients, or fail naming a cycle.
 * Needs every grant resolved (provider indices valid). */
int manifest_order(struct manifest *m, struct manifest_error *err);

#endif
