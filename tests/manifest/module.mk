# Host tests of the boot manifest: tools/mkmanifest and lib/manifest.
#
#   test-manifest-freestanding  lib/manifest builds freestanding, needs no outside symbol
#   test-manifest-unit          interface table, kernel caps, decoding, bounds (ASan/UBSan)

MANIFEST_T     := $(BUILD)/manifest-tests
MANIFEST_T_SAN := -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wno-unused-parameter
MANIFEST_T_INC := $(MANIFEST_INC) -I$(BUILD)/gen
# everything a program using lib/manifest links, as sources
MANIFEST_T_LIB := $(MANIFEST_SRCS) lib/fmt/fmt.c $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS)
MANIFEST_T_DEPS := $(MANIFEST_T_LIB) $(MANIFEST_HDRS) $(CAPNP_HDRS) lib/fmt/fmt.h $(BUILD)/gen/capos.capnp.h

$(MANIFEST_T)/unit: tests/manifest/unit.c $(MANIFEST_T_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(MANIFEST_T_SAN) $(MANIFEST_T_INC) $< $(MANIFEST_T_LIB) -o $@

.PHONY: test-manifest-freestanding test-manifest-unit

test-manifest-freestanding: $(MANIFEST_FS_OBJS) $(CAPNP_FS_OBJS) $(BUILD)/capnp/freestanding/capos.capnp.o
	@sh tests/manifest/check_freestanding.sh $^

test-manifest-unit: $(MANIFEST_T)/unit
	@$<

HOST_TESTS += test-manifest-freestanding test-manifest-unit
