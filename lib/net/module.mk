# lib/net: sans-IO IPv4/TCP/UDP stack.  Host library, freestanding check.

NET_SRCS := $(sort $(wildcard lib/net/*.c))
NET_HDRS := $(wildcard lib/net/*.h)
NET_OBJS := $(NET_SRCS:lib/net/%.c=$(BUILD)/net/host/%.o)
NET_LIB  := $(BUILD)/net/libnet.a
NET_LIBS := -lsodium

$(BUILD)/net/host/%.o: lib/net/%.c $(NET_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(NET_LIB): $(NET_OBJS)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

all: $(NET_LIB)

# Freestanding check: every lib/net source compiles with no C library headers
# (only the compiler's own, plus libsodium's), and the objects reference no
# symbol but each other, the four runtime memory routines and libsodium.
# gcc's <limits.h> reaches for the C library's unless _LIBC_LIMITS_H_ is set;
# libsodium's export.h includes it.
NET_FS_INC  := $(BUILD)/net/fsinc
NET_FS_OBJS := $(NET_SRCS:lib/net/%.c=$(BUILD)/net/free/%.o)
NET_FS_FLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding \
	-fno-builtin -nostdinc -isystem $(shell $(HOST_CC) -print-file-name=include) \
	-isystem $(NET_FS_INC) -D_LIBC_LIMITS_H_

$(NET_FS_INC)/sodium:
	@mkdir -p $(NET_FS_INC)
	@ln -sfn /usr/include/sodium $@

$(BUILD)/net/free/%.o: lib/net/%.c $(NET_HDRS) | $(NET_FS_INC)/sodium
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(NET_FS_FLAGS) -c $< -o $@

.PHONY: test-net-freestanding
## test-net-freestanding        lib/net builds freestanding
test-net-freestanding: $(NET_FS_OBJS)
	@defined=$$(nm --defined-only $(NET_FS_OBJS) | awk 'NF==3 {print $$3}' | sort -u); \
	bad=$$(nm -u $(NET_FS_OBJS) | awk 'NF==2 {print $$2}' | sort -u | while read s; do \
		case " memcpy memset memmove memcmp crypto_shorthash " in *" $$s "*) continue;; esac; \
		echo "$$defined" | grep -qx "$$s" || echo "$$s"; done); \
	if [ -n "$$bad" ]; then echo "test-net-freestanding: FAIL: unexpected symbols: $$bad"; exit 1; fi; \
	echo "test-net-freestanding: 1 passed, 0 failed"

HOST_TESTS += test-net-freestanding
