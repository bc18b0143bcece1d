# lib/net unit tests: two stacks on a simulated wire with a virtual clock.

NET_UNIT_SRCS := $(sort $(wildcard tests/net/unit/*.c))
NET_UNIT_BIN  := $(BUILD)/net/unit-tests

$(NET_UNIT_BIN): $(NET_UNIT_SRCS) tests/net/unit/wire.h $(NET_LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(NET_UNIT_SRCS) $(NET_LIB) $(NET_LIBS) -o $@

.PHONY: test-net-unit
## test-net-unit                lib/net: two stacks on a simulated wire
test-net-unit: $(NET_UNIT_BIN)
	$(call say,TEST,$@)$(NET_UNIT_BIN)

all: $(NET_UNIT_BIN)
HOST_TESTS += test-net-unit

# The TAP tests: a network namespace of their own, Linux tools against net-tap.
.PHONY: test-net-tap
## test-net-tap                 lib/net against Linux over a TAP device in its own namespace (root)
test-net-tap: $(NET_TAP_BIN)
	$(call say,TEST,$@)tests/net/tap/run.sh $(PYTHON) tests/net/tap/driver.py $(NET_TAP_BIN)

HOST_TESTS += test-net-tap

# libFuzzer on frame input (ASan + UBSan), a short smoke run.
NET_FUZZ_BIN := $(BUILD)/net/frame-fuzz
NET_FUZZ_CORPUS := $(BUILD)/net/fuzz-corpus
NET_FUZZ_TIME ?= 20

$(NET_FUZZ_BIN): tests/net/fuzz/frame_fuzz.c $(NET_SRCS) $(NET_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) tests/net/fuzz/frame_fuzz.c $(NET_SRCS) $(NET_LIBS) -o $@

.PHONY: test-net-fuzz
## test-net-fuzz                a short libFuzzer run of lib/net on frames
test-net-fuzz: $(NET_FUZZ_BIN)
	@mkdir -p $(NET_FUZZ_CORPUS)
	@$(NET_FUZZ_BIN) -max_total_time=$(NET_FUZZ_TIME) -max_len=4096 -rss_limit_mb=1024 $(NET_FUZZ_CORPUS) tests/net/fuzz/seeds \
		> $(BUILD)/net/fuzz.log 2>&1 || { tail -40 $(BUILD)/net/fuzz.log; \
		echo "test-net-fuzz: 0 passed, 1 failed"; exit 1; }
	@grep -E '^Done [0-9]+ runs' $(BUILD)/net/fuzz.log
	@echo "test-net-fuzz: 1 passed, 0 failed"

HOST_TESTS += test-net-fuzz

# `make fuzz-net SECONDS=N` (NET_FUZZ_TIME= on the command line still sets it)
FUZZ_TARGETS += net
FUZZ_BIN_net := $(NET_FUZZ_BIN)
FUZZ_SEEDS_net := tests/net/fuzz/seeds
FUZZ_ARGS_net := -max_len=4096 -rss_limit_mb=1024
FUZZ_TIME_net = $(if $(filter command line environment,$(origin NET_FUZZ_TIME)),$(NET_FUZZ_TIME))

# The same unit tests under ASan + UBSan (clang).
NET_UNIT_SAN := $(BUILD)/net/unit-tests-san

$(NET_UNIT_SAN): $(NET_UNIT_SRCS) tests/net/unit/wire.h $(NET_SRCS) $(NET_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		$(NET_UNIT_SRCS) $(NET_SRCS) $(NET_LIBS) -o $@

.PHONY: test-net-unit-san
## test-net-unit-san            the same under ASan and UBSan
test-net-unit-san: $(NET_UNIT_SAN)
	$(call say,TEST,$@)$(NET_UNIT_SAN)

HOST_TESTS += test-net-unit-san

# Benchmark: Linux <-> lib/net over TAP against Linux <-> Linux over veth.
.PHONY: bench-net
## bench-net                    lib/net against Linux over veth (make bench)
bench-net: $(NET_TAP_BIN)
	$(call say,TEST,$@)tests/net/tap/run.sh $(PYTHON) tests/net/bench/bench.py $(NET_TAP_BIN)

BENCHES += bench-net

# The SYN flood of issue 12 in its long form: 10,000 spoofed on-link SYNs in
# 5 s against lib/net and against Linux, a real client connecting throughout.
.PHONY: bench-net-synflood
## bench-net-synflood           real clients during an on-link SYN flood, lib/net and Linux (make bench)
bench-net-synflood: $(NET_TAP_BIN)
	$(call say,TEST,$@)NET_TESTS=syn_flood_on_link NET_FLOOD_SYNS=10000 NET_FLOOD_SECS=5 \
		tests/net/tap/run.sh $(PYTHON) tests/net/tap/driver.py $(NET_TAP_BIN)

BENCHES += bench-net-synflood
