# The accounts service's authorized-key parser (user/accounts/keys.c) on the host.
FUZZ_KEYS := $(BUILD)/tests/fuzz/fuzz_keys
$(FUZZ_KEYS): tests/fuzz/keys/fuzz_keys.c user/accounts/keys.c user/accounts/keys.h lib/fmt/fmt.c lib/fmt/fmt.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Iuser/accounts -Ilib \
	    tests/fuzz/keys/fuzz_keys.c user/accounts/keys.c lib/fmt/fmt.c -lsodium -o $@

FUZZ_TARGETS += keys
FUZZ_BIN_keys := $(FUZZ_KEYS)
FUZZ_SEEDS_keys := tests/fuzz/keys/seeds
FUZZ_ARGS_keys := -max_len=512
## test-fuzz-keys               a short libFuzzer run of the accounts service's authorized-key parser
HOST_TESTS += test-fuzz-keys
