# Host-built fuzz targets for kernel code that reads untrusted bytes: the
# ELF loader (kernel/sched/elf.c) against a model of frames and mappings,
# the boot-package parser and BootPackage object (kernel/cap/bootpkg.c), and
# the line discipline (kernel/cap/linedisc.c) against a model UART.
# Kernel files compile for the host with the kernel's include paths; the
# generated interface code and lib/capnp come along where a file needs them.
KFUZZ_T := $(BUILD)/tests/kernel
KFUZZ_ELF := $(KFUZZ_T)/fuzz_elf
KFUZZ_CFLAGS = $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter \
    -Ikernel -Ikernel/include -Iabi -Ilib -Ilib/capnp -I$(CAPNP_GEN_DIR)

$(KFUZZ_ELF): tests/kernel/fuzz_elf.c kernel/sched/elf.c kernel/sched/elf.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter \
	    -Ikernel -Ikernel/include -Iabi -Ilib tests/kernel/fuzz_elf.c kernel/sched/elf.c -o $@

## test-fuzz-kernel-elf         a short libFuzzer run of the kernel's ELF loader (host build)
HOST_TESTS += test-fuzz-kernel-elf

# `make fuzz-kernel-elf SECONDS=N` for a long run
FUZZ_TARGETS += kernel-elf
FUZZ_BIN_kernel-elf := $(KFUZZ_ELF)
FUZZ_SEEDS_kernel-elf := tests/kernel/seeds
FUZZ_ARGS_kernel-elf := -max_len=65536

# The boot package: the parser and the BootPackage object over the input.
KFUZZ_BOOTPKG := $(KFUZZ_T)/fuzz_bootpkg
$(KFUZZ_BOOTPKG): tests/kernel/fuzz_bootpkg.c kernel/cap/bootpkg.c abi/capos/bootpkg.h $(CAPNP_SRCS) $(CAPNP_HDRS) \
    $(BUILD)/gen/capos.capnp.c $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(KFUZZ_CFLAGS) tests/kernel/fuzz_bootpkg.c kernel/cap/bootpkg.c \
	    $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS) -o $@

FUZZ_TARGETS += kernel-bootpkg
FUZZ_BIN_kernel-bootpkg := $(KFUZZ_BOOTPKG)
FUZZ_SEEDS_kernel-bootpkg := tests/kernel/seeds-bootpkg
FUZZ_ARGS_kernel-bootpkg := -max_len=8192
## test-fuzz-kernel-bootpkg     a short libFuzzer run of the kernel's boot-package parser and BootPackage (host build)
HOST_TESTS += test-fuzz-kernel-bootpkg

# The line discipline and the objects that read through it, against a model
# UART (tests/kernel/host/ stands in for the few hardware headers).
KFUZZ_LINEDISC := $(KFUZZ_T)/fuzz_linedisc
KFUZZ_LINEDISC_SRCS := kernel/cap/linedisc.c kernel/cap/console.c kernel/cap/terminal.c
$(KFUZZ_LINEDISC): tests/kernel/fuzz_linedisc.c $(KFUZZ_LINEDISC_SRCS) kernel/cap/linedisc.h \
    tests/kernel/host/arch/x86_64/cpu.h $(CAPNP_SRCS) $(CAPNP_HDRS) $(BUILD)/gen/capos.capnp.c $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) -Itests/kernel/host $(KFUZZ_CFLAGS) tests/kernel/fuzz_linedisc.c $(KFUZZ_LINEDISC_SRCS) \
	    $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS) -o $@

FUZZ_TARGETS += kernel-linedisc
FUZZ_BIN_kernel-linedisc := $(KFUZZ_LINEDISC)
FUZZ_SEEDS_kernel-linedisc := tests/kernel/seeds-linedisc
FUZZ_ARGS_kernel-linedisc := -max_len=8192
## test-fuzz-kernel-linedisc    a short libFuzzer run of the line discipline, Console and TerminalSession (host build)
HOST_TESTS += test-fuzz-kernel-linedisc

# The ring (SQE decoding, CQ, buffer checks), the cap table, transfers and
# pending calls, with Console, TerminalSession and BootPackage behind them,
# against a model of user memory; tests/guest/sqefuzz's generator is one of
# its input records, so its reach is measured on the same build.
KFUZZ_RING := $(KFUZZ_T)/fuzz_ring
KFUZZ_RING_SRCS := kernel/ring/ring.c kernel/cap/table.c kernel/cap/transfer.c kernel/cap/kobj.c \
    $(KFUZZ_LINEDISC_SRCS) kernel/cap/bootpkg.c kernel/cap/timer.c
$(KFUZZ_RING): tests/kernel/fuzz_ring.c $(KFUZZ_RING_SRCS) tests/kernel/host/arch/x86_64/cpu.h \
    $(CAPNP_SRCS) $(CAPNP_HDRS) $(BUILD)/gen/capos.capnp.c $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) -Itests/kernel/host $(KFUZZ_CFLAGS) tests/kernel/fuzz_ring.c $(KFUZZ_RING_SRCS) \
	    $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS) -o $@

FUZZ_TARGETS += kernel-ring
FUZZ_BIN_kernel-ring := $(KFUZZ_RING)
FUZZ_SEEDS_kernel-ring := tests/kernel/seeds-ring
FUZZ_ARGS_kernel-ring := -max_len=16384
## test-fuzz-kernel-ring        a short libFuzzer run of the capability ring and the objects behind it (host build)
HOST_TESTS += test-fuzz-kernel-ring
