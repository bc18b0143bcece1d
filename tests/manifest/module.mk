# Host tests of the boot manifest: tools/mkmanifest and lib/manifest.
#
#   test-manifest-freestanding  lib/manifest builds freestanding, needs no outside symbol
#   test-manifest-unit          interface table, kernel caps, decoding, bounds (ASan/UBSan)
#   test-manifest-table         good manifests compile, round-trip through `capnp decode`,
#                               validate and give their order; every bad manifest gives
#                               its code and message; syntax errors give file:line
#   test-manifest-iface-table   the interface table capnpc-c emits: nested names, no interfaces
#   test-manifest-fuzz          libFuzzer smoke run of decode + validate (ASan/UBSan)

MANIFEST_T     := $(BUILD)/manifest-tests
MANIFEST_T_SAN := -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wno-unused-parameter
MANIFEST_T_INC := $(MANIFEST_INC) -I$(BUILD)/gen
# everything a program using lib/manifest links, as sources
MANIFEST_T_LIB := $(MANIFEST_SRCS) lib/fmt/fmt.c $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS)
MANIFEST_T_DEPS := $(MANIFEST_T_LIB) $(MANIFEST_HDRS) $(CAPNP_HDRS) lib/fmt/fmt.h $(BUILD)/gen/capos.capnp.h

$(MANIFEST_T)/check: tests/manifest/check.c $(MANIFEST_T_DEPS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(MANIFEST_T_SAN) $(MANIFEST_T_INC) $< $(MANIFEST_T_LIB) -o $@

$(MANIFEST_T)/unit: tests/manifest/unit.c $(MANIFEST_T_DEPS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(MANIFEST_T_SAN) $(MANIFEST_T_INC) $< $(MANIFEST_T_LIB) -o $@

$(MANIFEST_T)/fuzz_manifest: tests/manifest/fuzz_manifest.c $(MANIFEST_T_DEPS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter $(MANIFEST_T_INC) \
		$< $(MANIFEST_T_LIB) -o $@

.PHONY: test-manifest-freestanding test-manifest-unit test-manifest-table \
	test-manifest-iface-table test-manifest-fuzz

## test-manifest-freestanding   lib/manifest builds freestanding
test-manifest-freestanding: $(MANIFEST_FS_OBJS) $(CAPNP_FS_OBJS) $(BUILD)/capnp/freestanding/capos.capnp.o
	@sh tests/lib/check_freestanding.sh manifest-freestanding $^

## test-manifest-unit           lib/manifest validation
test-manifest-unit: $(MANIFEST_T)/unit
	@$<

## test-manifest-table          the manifest compiler against its table of good and bad manifests
test-manifest-table: $(MANIFEST_T)/check $(MKMANIFEST)
	@$(PYTHON) tests/manifest/run.py $(MKMANIFEST) $(MANIFEST_T)/check $(MANIFEST_T)/table \
		> $(MANIFEST_T)/table.log || { cat $(MANIFEST_T)/table.log; exit 1; }
	@tail -n 1 $(MANIFEST_T)/table.log

## test-manifest-iface-table    interface names in manifests resolve through the generated table
test-manifest-iface-table: $(CAPNPC_C)
	@sh tests/manifest/iface_table.sh $(abspath $(CAPNPC_C)) $(MANIFEST_T)/iface_table $(HOST_CC) \
		> $(MANIFEST_T)/iface_table.log || { cat $(MANIFEST_T)/iface_table.log; exit 1; }
	@tail -n 1 $(MANIFEST_T)/iface_table.log

# Seeds: every manifest run.py compiled (good and bad).  Time-boxed; the
# result is crash / no crash.
MANIFEST_FUZZ_TIME ?= 10
## test-manifest-fuzz           a short libFuzzer run of the manifest decoder
test-manifest-fuzz: $(MANIFEST_T)/fuzz_manifest test-manifest-table
	@mkdir -p $(MANIFEST_T)/fuzz-corpus
	@$(MANIFEST_T)/fuzz_manifest -max_total_time=$(MANIFEST_FUZZ_TIME) -max_len=8192 \
		-rss_limit_mb=2048 -artifact_prefix=$(MANIFEST_T)/ \
		$(MANIFEST_T)/fuzz-corpus $(MANIFEST_T)/table > $(MANIFEST_T)/fuzz.log 2>&1 \
		|| { tail -n 60 $(MANIFEST_T)/fuzz.log; echo "manifest-fuzz: 0 passed, 1 failed"; exit 1; }
	@grep -E '^#[0-9]+.*DONE' $(MANIFEST_T)/fuzz.log | tail -n 1
	@echo "manifest-fuzz: 1 passed, 0 failed"

# `make fuzz-manifest SECONDS=N`: the table's manifests as seeds, a long run
FUZZ_TARGETS += manifest
FUZZ_BIN_manifest := $(MANIFEST_T)/fuzz_manifest
FUZZ_SEEDS_manifest := $(MANIFEST_T)/table
FUZZ_DEPS_manifest := test-manifest-table
FUZZ_ARGS_manifest := -max_len=8192 -rss_limit_mb=2048

HOST_TESTS += test-manifest-freestanding test-manifest-unit test-manifest-table \
	test-manifest-iface-table test-manifest-fuzz
