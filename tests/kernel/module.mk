# Host-built fuzz targets for kernel code that reads untrusted bytes: the
# ELF loader (kernel/sched/elf.c) against a model of frames and mappings.
KFUZZ_T := $(BUILD)/tests/kernel
KFUZZ_ELF := $(KFUZZ_T)/fuzz_elf
KFUZZ_ELF_TIME ?= 10

$(KFUZZ_ELF): tests/kernel/fuzz_elf.c kernel/sched/elf.c kernel/sched/elf.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter \
	    -Ikernel -Ikernel/include -Iabi -Ilib tests/kernel/fuzz_elf.c kernel/sched/elf.c -o $@

.PHONY: test-kernel-fuzz fuzz-kernel-elf
## test-kernel-fuzz             a short libFuzzer run of the kernel's ELF loader (host build)
test-kernel-fuzz: $(KFUZZ_ELF)
	@rm -rf $(KFUZZ_T)/elf-corpus && mkdir -p $(KFUZZ_T)/elf-corpus
	$(call say,TEST,$@)$(KFUZZ_ELF) -max_total_time=$(KFUZZ_ELF_TIME) -max_len=65536 \
	    -artifact_prefix=$(KFUZZ_T)/ $(KFUZZ_T)/elf-corpus tests/kernel/seeds > $(KFUZZ_T)/fuzz-elf.log 2>&1 \
	    || { tail -40 $(KFUZZ_T)/fuzz-elf.log; echo "kernel-fuzz: 0 passed, 1 failed"; exit 1; }
	@grep -E '^Done [0-9]+ runs' $(KFUZZ_T)/fuzz-elf.log
	@echo "kernel-fuzz: 1 passed, 0 failed"
HOST_TESTS += test-kernel-fuzz

## fuzz-kernel-elf              a long libFuzzer run of the ELF loader (KFUZZ_ELF_TIME=seconds, default 600)
fuzz-kernel-elf: KFUZZ_ELF_TIME = 600
fuzz-kernel-elf: test-kernel-fuzz
