# Host tests of the Cap'n Proto codec and its generator.
#
#   test-capnp-freestanding  lib/capnp + generated capos code build freestanding
#   test-capnp-unit          codec API: build/read, full buffer, far pointers
#   test-capnp-malformed     table of malformed messages -> stable errors (ASan)
#   test-capnp-roundtrip     generated code vs the reference `capnp` tool, both ways
#   test-capnp-rpc           client stubs -> dispatch through a loopback transport
#   test-capnp-refused       schemas the generator must refuse, with their message
#   test-capnp-fuzz          libFuzzer smoke run of the reader (~20 s, ASan/UBSan)

CAPNP_T      := $(BUILD)/capnp
CAPNP_T_GEN  := $(CAPNP_T)/gen
CAPNP_T_SAN  := -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wno-unused-parameter
CAPNP_T_INC  := $(CAPNP_INC) -I$(CAPNP_T_GEN) -I$(CAPNP_GEN_DIR) -Itests/capnp
CAPNP_T_HDRS := tests/capnp/testutil.h $(CAPNP_HDRS)

$(CAPNP_T_GEN)/test.capnp.h $(CAPNP_T_GEN)/test.capnp.c &: tests/capnp/test.capnp $(CAPNPC_C)
	@mkdir -p $(CAPNP_T_GEN)
	$(call say,CAPNP,$<)capnp compile -o$(abspath $(CAPNPC_C)):$(CAPNP_T_GEN) $<

# The test programs are built with ASan/UBSan and the library compiled in,
# so a read outside a message or undefined behaviour fails the test even
# where the values read happen to be right.
$(CAPNP_T)/unit: tests/capnp/unit.c $(CAPNP_T_HDRS) $(CAPNP_SRCS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(CAPNP_T_SAN) $(CAPNP_INC) -Itests/capnp $< $(CAPNP_SRCS) -o $@

$(CAPNP_T)/malformed: tests/capnp/malformed.c $(CAPNP_T_HDRS) $(CAPNP_SRCS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(CAPNP_T_SAN) $(CAPNP_INC) -Itests/capnp $< $(CAPNP_SRCS) -o $@

$(CAPNP_T)/roundtrip: tests/capnp/roundtrip.c $(CAPNP_T_GEN)/test.capnp.h $(CAPNP_T_GEN)/test.capnp.c $(CAPNP_SRCS) $(CAPNP_HDRS)
	$(call say,LD,$@)$(FUZZ_CC) $(CAPNP_T_SAN) $(CAPNP_T_INC) $< $(CAPNP_T_GEN)/test.capnp.c $(CAPNP_SRCS) -o $@

$(CAPNP_T)/rpc: tests/capnp/rpc.c $(CAPNP_T_HDRS) $(CAPNP_T_GEN)/test.capnp.c $(CAPOS_GEN_C) $(CAPOS_GEN_H) $(CAPNP_SRCS)
	$(call say,LD,$@)$(FUZZ_CC) $(CAPNP_T_SAN) $(CAPNP_T_INC) $< $(CAPNP_T_GEN)/test.capnp.c $(CAPOS_GEN_C) $(CAPNP_SRCS) -o $@

$(CAPNP_T)/fuzz_reader: tests/capnp/fuzz_reader.c $(CAPNP_T_GEN)/test.capnp.c $(CAPOS_GEN_C) $(CAPOS_GEN_H) $(CAPNP_SRCS) $(CAPNP_HDRS)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter $(CAPNP_T_INC) \
		$< $(CAPNP_T_GEN)/test.capnp.c $(CAPOS_GEN_C) $(CAPNP_SRCS) -o $@

.PHONY: test-capnp-freestanding test-capnp-unit test-capnp-malformed \
	test-capnp-roundtrip test-capnp-rpc test-capnp-refused test-capnp-fuzz

## test-capnp-freestanding      lib/capnp and the generated code build freestanding
test-capnp-freestanding: $(CAPNP_FS_OBJS) $(BUILD)/capnp/freestanding/capos.capnp.o
	@sh tests/lib/check_freestanding.sh capnp-freestanding $^

## test-capnp-unit              the Cap'n Proto codec API
test-capnp-unit: $(CAPNP_T)/unit
	@$<

## test-capnp-malformed         malformed messages get stable errors (ASan)
test-capnp-malformed: $(CAPNP_T)/malformed
	@$< > $(CAPNP_T)/malformed.log || { cat $(CAPNP_T)/malformed.log; exit 1; }
	@tail -n 1 $(CAPNP_T)/malformed.log

## test-capnp-roundtrip         generated code against the reference capnp tool, both ways
test-capnp-roundtrip: $(CAPNP_T)/roundtrip
	@$(PYTHON) tests/capnp/roundtrip.py $< tests/capnp/test.capnp > $(CAPNP_T)/roundtrip.log \
		|| { cat $(CAPNP_T)/roundtrip.log; exit 1; }
	@tail -n 1 $(CAPNP_T)/roundtrip.log

## test-capnp-rpc               client stubs to server dispatch through a loopback transport
test-capnp-rpc: $(CAPNP_T)/rpc
	@$<

## test-capnp-refused           schemas the generator must refuse
test-capnp-refused: $(CAPNPC_C)
	@sh tests/capnp/refused.sh $(abspath $(CAPNPC_C)) $(CAPNP_T)/refused \
		$(sort $(wildcard tests/capnp/refused/*.capnp)) > $(CAPNP_T)/refused.log \
		|| { cat $(CAPNP_T)/refused.log; exit 1; }
	@tail -n 1 $(CAPNP_T)/refused.log

# Seeds: both encodings of every round-trip case (ours, and the reference
# tool's, which include a multi-segment message).  The corpus lives under
# build/ and grows across runs; the run is time-boxed, its result is
# crash / no crash.
CAPNP_FUZZ_TIME ?= 20
## test-capnp-fuzz              a short libFuzzer run of the message reader
test-capnp-fuzz: $(CAPNP_T)/fuzz_reader $(CAPNP_T)/roundtrip
	@mkdir -p $(CAPNP_T)/fuzz-seeds $(CAPNP_T)/fuzz-corpus
	@$(PYTHON) tests/capnp/roundtrip.py $(CAPNP_T)/roundtrip tests/capnp/test.capnp \
		$(CAPNP_T)/fuzz-seeds > /dev/null
	@$(CAPNP_T)/fuzz_reader -max_total_time=$(CAPNP_FUZZ_TIME) -max_len=32768 \
		-rss_limit_mb=2048 -artifact_prefix=$(CAPNP_T)/ \
		$(CAPNP_T)/fuzz-corpus $(CAPNP_T)/fuzz-seeds > $(CAPNP_T)/fuzz.log 2>&1 \
		|| { tail -n 60 $(CAPNP_T)/fuzz.log; echo "capnp-fuzz: 0 passed, 1 failed"; exit 1; }
	@grep -E '^#[0-9]+.*DONE' $(CAPNP_T)/fuzz.log | tail -n 1
	@echo "capnp-fuzz: 1 passed, 0 failed"

# `make fuzz-capnp SECONDS=N`: the same seeds, a long run
.PHONY: capnp-fuzz-seeds
capnp-fuzz-seeds: $(CAPNP_T)/roundtrip
	@mkdir -p $(CAPNP_T)/fuzz-seeds
	@$(PYTHON) tests/capnp/roundtrip.py $(CAPNP_T)/roundtrip tests/capnp/test.capnp $(CAPNP_T)/fuzz-seeds > /dev/null
FUZZ_TARGETS += capnp
FUZZ_BIN_capnp := $(CAPNP_T)/fuzz_reader
FUZZ_SEEDS_capnp := $(CAPNP_T)/fuzz-seeds
FUZZ_DEPS_capnp := capnp-fuzz-seeds
FUZZ_ARGS_capnp := -max_len=32768 -rss_limit_mb=2048

HOST_TESTS += test-capnp-freestanding test-capnp-unit test-capnp-malformed \
	test-capnp-roundtrip test-capnp-rpc test-capnp-refused test-capnp-fuzz
