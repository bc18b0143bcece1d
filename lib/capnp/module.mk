# lib/capnp: the freestanding Cap'n Proto wire-format codec.
#
# Exports:
#   CAPNP_INC        include flag for capnp.h
#   CAPNP_SRCS       the library's sources (for other builds, e.g. the guest)
#   CAPNP_HOST_LIB   the library built for the host (tests, tools)

CAPNP_INC  := -Ilib/capnp
CAPNP_SRCS := $(sort $(wildcard lib/capnp/*.c))
CAPNP_HDRS := $(wildcard lib/capnp/*.h)
CAPNP_HOST_OBJS := $(patsubst lib/capnp/%.c,$(BUILD)/capnp/host/%.o,$(CAPNP_SRCS))
CAPNP_HOST_LIB  := $(BUILD)/capnp/libcapnp.a

$(BUILD)/capnp/host/%.o: lib/capnp/%.c $(CAPNP_HDRS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) $(CAPNP_INC) -c $< -o $@

$(CAPNP_HOST_LIB): $(CAPNP_HOST_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Freestanding build check: only the compiler's own headers are visible
# (-nostdinc plus its include dir: stdint.h, stddef.h, stdbool.h, stdarg.h),
# and the objects may need nothing from outside but the four functions the
# guest runtime provides.
CAPNP_FREESTANDING_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -ffreestanding -fno-builtin -nostdinc \
	-isystem $(shell $(HOST_CC) -print-file-name=include)
CAPNP_FS_OBJS := $(patsubst lib/capnp/%.c,$(BUILD)/capnp/freestanding/%.o,$(CAPNP_SRCS))

$(BUILD)/capnp/freestanding/%.o: lib/capnp/%.c $(CAPNP_HDRS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(CAPNP_FREESTANDING_CFLAGS) $(CAPNP_INC) -c $< -o $@
