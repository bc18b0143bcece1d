# net-tap: lib/net on a Linux TAP device, for tests against Linux's own stack.

NET_TAP_BIN := $(BUILD)/net/net-tap
NET_TAP_SRCS := host/net-tap/net-tap.c host/net-tap/impair.c

# (lib/net/module.mk is read after this file: name the library literally.)
$(NET_TAP_BIN): $(NET_TAP_SRCS) host/net-tap/impair.h lib/net/net.h $(BUILD)/net/libnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(NET_TAP_SRCS) $(NET_LIB) $(NET_LIBS) -o $@

all: $(NET_TAP_BIN)
