# lib/fmt against the C library's snprintf, on the host.
FUZZ_FMT := $(BUILD)/tests/fuzz/fuzz_fmt
$(FUZZ_FMT): tests/fuzz/fmt/fuzz_fmt.c lib/fmt/fmt.c lib/fmt/fmt.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-format -Wno-format-security \
	    -Wno-format-nonliteral -Ilib tests/fuzz/fmt/fuzz_fmt.c lib/fmt/fmt.c -o $@

FUZZ_TARGETS += fmt
FUZZ_BIN_fmt := $(FUZZ_FMT)
FUZZ_SEEDS_fmt := tests/fuzz/fmt/seeds
FUZZ_ARGS_fmt := -max_len=256
## test-fuzz-fmt                a short libFuzzer run of lib/fmt against the C library's snprintf
HOST_TESTS += test-fuzz-fmt
