# Host unit tests of the freestanding pieces the kernel and runtime share.
UNIT_TESTS := fmt alloc abi siphash
UNIT_BINS  := $(addprefix $(BUILD)/unit/test_,$(UNIT_TESTS))

$(BUILD)/unit/test_fmt: tests/unit/test_fmt.c lib/fmt/fmt.c lib/fmt/fmt.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib -Wno-format -Wno-format-overflow -fsanitize=address,undefined -o $@ tests/unit/test_fmt.c lib/fmt/fmt.c
$(BUILD)/unit/test_alloc: tests/unit/test_alloc.c lib/alloc/alloc.c lib/alloc/alloc.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib -fsanitize=address,undefined -o $@ tests/unit/test_alloc.c lib/alloc/alloc.c
$(BUILD)/unit/test_abi: tests/unit/test_abi.c abi/capos/abi.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib -Iabi -o $@ $<

$(BUILD)/unit/test_siphash: tests/unit/test_siphash.c lib/siphash/siphash.c lib/siphash/siphash.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib -fsanitize=address,undefined -o $@ tests/unit/test_siphash.c lib/siphash/siphash.c -lsodium

.PHONY: test-unit
## test-unit                    host unit tests of lib/fmt, lib/alloc, lib/siphash and the ABI layout
test-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done
HOST_TESTS += test-unit
