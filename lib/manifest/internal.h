/* What the files of lib/manifest share and nobody else needs. */
#ifndef CAPOS_MANIFEST_INTERNAL_H
#define CAPOS_MANIFEST_INTERNAL_H

#include "manifest.h"

/* Record an error: code, line and "line N: " + the formatted message.
 * Returns code, so a check can `return manifest_fail(...)`. */
int manifest_fail(struct manifest_error *err, int code, uint32_t line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fill m->order with providers before clients, or fail naming a cycle.
 * Needs every grant resolved (provider indices valid). */
int manifest_order(struct manifest *m, struct manifest_error *err);

#endif
