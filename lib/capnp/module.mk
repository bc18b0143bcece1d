# lib/capnp: the freestanding Cap'n Proto wire-format codec.
#
# Exports:
#   CAPNP_INC        include flag for capnp.h
#   CAPNP_SRCS       the library's sources (for other builds, e.g. the guest)
#   CAPNP_HOST_LIB   the library built for the host (tests, tools)
# and, for the code generator (tools/capnpc-c), set here because this file
# is read before tools/ and tests/:
#   CAPNPC_C         path of the built plugin
#   CAPNP_GEN_DIR    where generated code for schema/*.capnp goes
#   CAPOS_GEN_H, CAPOS_GEN_C   generated code for schema/capos.capnp
# Make reads kernel/module.mk before this file, so a component there must
# name the paths ($(BUILD)/gen/capos.capnp.h, $(BUILD)/gen/capos.capnp.c)
# in its prerequisites, or use these variables only inside recipes.

CAPNP_INC  := -Ilib/capnp
CAPNP_SRCS := $(sort $(wildcard lib/capnp/*.c))
CAPNP_HDRS := $(wildcard lib/capnp/*.h)
CAPNP_HOST_OBJS := $(patsubst lib/capnp/%.c,$(BUILD)/capnp/host/%.o,$(CAPNP_SRCS))
CAPNP_HOST_LIB  := $(BUILD)/capnp/libcapnp.a

CAPNPC_C      := $(BUILD)/capnpc-c/capnpc-c
CAPNP_GEN_DIR := $(BUILD)/gen
CAPOS_GEN_H   := $(CAPNP_GEN_DIR)/capos.capnp.h
CAPOS_GEN_C   := $(CAPNP_GEN_DIR)/capos.capnp.c

$(BUILD)/capnp/host/%.o: lib/capnp/%.c $(CAPNP_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) $(CAPNP_INC) -c $< -o $@

$(CAPNP_HOST_LIB): $(CAPNP_HOST_OBJS)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

# Freestanding build check: only the compiler's own headers are visible
# (-nostdinc plus its include dir: stdint.h, stddef.h, stdbool.h, stdarg.h),
# and the objects may need nothing from outside but the four functions the
# guest runtime provides.  Compiled as kernel code is (no SSE registers, no
# red zone), so nothing here may use floating point.
CAPNP_FREESTANDING_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -ffreestanding -fno-builtin -nostdinc \
	-isystem $(shell $(HOST_CC) -print-file-name=include) \
	-mgeneral-regs-only -mno-red-zone
CAPNP_FS_OBJS := $(patsubst lib/capnp/%.c,$(BUILD)/capnp/freestanding/%.o,$(CAPNP_SRCS))

$(BUILD)/capnp/freestanding/%.o: lib/capnp/%.c $(CAPNP_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(CAPNP_FREESTANDING_CFLAGS) $(CAPNP_INC) -c $< -o $@
