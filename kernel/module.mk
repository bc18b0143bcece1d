# The kernel: a freestanding ELF64 linked at -2 GiB, flattened to a binary
# that QEMU's multiboot loader places at 1 MiB.

KERNEL_CC     := gcc
# IPC_PROF=1 builds the endpoint round trip's instruction profile in
# (kernel/include/ipc_prof.h); use it with its own BUILD directory.
# THREAD_PROF=1 likewise for park/wake and thread spawn+join
# (kernel/include/thread_prof.h).
KERNEL_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
                 -mno-red-zone -mcmodel=kernel -mgeneral-regs-only -fno-omit-frame-pointer \
                 -fno-strict-aliasing -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
                 -Ikernel -Ikernel/include -Iabi -Ilib \
                 -Ilib/capnp -I$(BUILD)/gen -DCAPNP_DEFAULT_TRAVERSAL_WORDS=16384u -MMD -MP \
                 $(if $(IPC_PROF),-DCAPOS_IPC_PROF) $(if $(THREAD_PROF),-DCAPOS_THREAD_PROF)
KERNEL_SRCS   := $(wildcard kernel/*.c kernel/*/*.c kernel/arch/x86_64/*.c) lib/c/string.c lib/fmt/fmt.c \
                 lib/alloc/alloc.c lib/siphash/siphash.c $(wildcard lib/capnp/*.c)
KERNEL_GEN    := $(BUILD)/gen/capos.capnp.c
KERNEL_ASMS   := $(wildcard kernel/arch/x86_64/*.S)
KERNEL_OBJS   := $(patsubst %,$(BUILD)/kobj/%.o,$(KERNEL_SRCS) $(KERNEL_ASMS)) $(BUILD)/kobj/gen/capos.capnp.c.o
KERNEL_ELF    := $(BUILD)/kernel.elf
KERNEL_BIN    := $(BUILD)/kernel.bin

# Generated interface code comes first: every kernel file may include it.
$(BUILD)/kobj/%.c.o: %.c | $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/kobj/gen/capos.capnp.c.o: $(BUILD)/gen/capos.capnp.c $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/kobj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) kernel/kernel.ld
	$(call say,LD,$@)$(KERNEL_CC) -nostdlib -static -no-pie -Wl,--no-dynamic-linker -Wl,-z,max-page-size=4096 \
	    -Wl,-z,noexecstack -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T kernel/kernel.ld -o $@ $(KERNEL_OBJS) -lgcc

$(KERNEL_BIN): $(KERNEL_ELF)
	$(call say,OBJCOPY,$@)objcopy -O binary $< $@

all: $(KERNEL_BIN)
-include $(KERNEL_OBJS:.o=.d)
