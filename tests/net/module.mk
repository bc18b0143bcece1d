# lib/net unit tests: two stacks on a simulated wire with a virtual clock.

NET_UNIT_SRCS := $(sort $(wildcard tests/net/unit/*.c))
NET_UNIT_BIN  := $(BUILD)/net/unit-tests

$(NET_UNIT_BIN): $(NET_UNIT_SRCS) tests/net/unit/wire.h $(NET_LIB)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) $(NET_UNIT_SRCS) $(NET_LIB) $(NET_LIBS) -o $@

.PHONY: test-net-unit
test-net-unit: $(NET_UNIT_BIN)
	$(NET_UNIT_BIN)

all: $(NET_UNIT_BIN)
HOST_TESTS += test-net-unit
