# The shell's and login's command-line parsing (user/capos-shell/parse.c,
# user/login/door.c) on the host.
FUZZ_CMDLINE := $(BUILD)/tests/fuzz/fuzz_cmdline
FUZZ_CMDLINE_SRCS := user/capos-shell/parse.c user/login/door.c
$(FUZZ_CMDLINE): tests/fuzz/cmdline/fuzz_cmdline.c $(FUZZ_CMDLINE_SRCS) user/capos-shell/parse.h user/login/door.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Iuser/capos-shell -Iuser/login -Ilib \
	    tests/fuzz/cmdline/fuzz_cmdline.c $(FUZZ_CMDLINE_SRCS) -o $@

FUZZ_TARGETS += cmdline
FUZZ_BIN_cmdline := $(FUZZ_CMDLINE)
FUZZ_SEEDS_cmdline := tests/fuzz/cmdline/seeds
FUZZ_ARGS_cmdline := -max_len=300
## test-fuzz-cmdline            a short libFuzzer run of the shell's and login's command-line parsing
HOST_TESTS += test-fuzz-cmdline
