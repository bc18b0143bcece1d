#ifndef SCHED_ELF_H
#define SCHED_ELF_H
#include "types.h"
#include "mm/vm.h"
/* Load a static x86_64 ELF executable into s. Segments are mapped with
 * exactly the rights the ELF gives them; a writable and executable segment is
 * refused (W^X). Returns 0 and the entry point, or a CAP_ERR_*. */
int elf_load(struct vm_space *s, const void *image, size_t size, uint64_t *entry);
#endif
