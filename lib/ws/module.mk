# lib/ws: sans-IO WebSocket server side (issue 17), over lib/http; SHA-1 from
# Debian's static BearSSL.  Its tests: tests/web.
WS_LIB_HDRS := $(wildcard lib/ws/*.h)
WS_LIB_SRCS := $(sort $(wildcard lib/ws/*.c))
WS_B        := $(BUILD)/lib/ws
WS_LIB      := $(WS_B)/libcapos_ws.a
BEARSSL_LIBS := -l:libbearssl.a

$(WS_B):
	@mkdir -p $@

$(WS_B)/%.o: lib/ws/%.c $(WS_LIB_HDRS) $(wildcard lib/http/*.h) | $(WS_B)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -Ilib/http -c $< -o $@

$(WS_LIB): $(patsubst lib/ws/%.c,$(WS_B)/%.o,$(WS_LIB_SRCS))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

all: $(WS_LIB)
