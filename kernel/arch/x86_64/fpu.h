#ifndef ARCH_FPU_H
#define ARCH_FPU_H
#include "types.h"
struct fpu_state;                      /* an XSAVE (or FXSAVE) area, 64-byte aligned */
void fpu_init(void);
void fpu_init_ap(void);
struct fpu_state *fpu_alloc(void);     /* initial state; 0 when out of memory */
void fpu_free(struct fpu_state *s);
void fpu_save(struct fpu_state *s);
void fpu_restore(struct fpu_state *s);
#endif
