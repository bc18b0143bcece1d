# tests/ssh: lib/ssh's tests.  unit/ (the library in memory against the test
# client in client/), fuzz/ (libFuzzer), and real clients (OpenSSH, Dropbear,
# PuTTY, hostile.c) against host/ssh-devserver on loopback.
SSH_T       := $(BUILD)/tests/ssh
SSH_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SSHC_SRCS   := tests/ssh/client/sshc.c
SSHC_HDRS   := tests/ssh/client/sshc.h
SSH_TEST_I  := -Ilib/ssh -Itests/ssh/client

$(SSH_T):
	@mkdir -p $@

# Unit tests run under ASan/UBSan.
$(SSH_T)/test_ssh: tests/ssh/unit/test_ssh.c $(SSHC_SRCS) $(SSHC_HDRS) $(SSH_LIB_SRCS) $(SSH_LIB_HDRS) | $(SSH_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -O1 $(SSH_SAN) $(SSH_TEST_I) tests/ssh/unit/test_ssh.c $(SSHC_SRCS) $(SSH_LIB_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: test-ssh-unit
## test-ssh-unit                lib/ssh against the test client, every layer (ASan/UBSan)
test-ssh-unit: $(SSH_T)/test_ssh
	$(call say,TEST,$@)$(SSH_T)/test_ssh
HOST_TESTS += test-ssh-unit

# libFuzzer target (ASan/UBSan).  `make fuzz-ssh SECONDS=600` runs longer
# (SSH_FUZZ_TIME= still sets that run's length).
SSH_FUZZ      := $(SSH_T)/fuzz_ssh
SSH_FUZZ_TIME ?= 300
SSH_FUZZ_SMOKE_TIME ?= 20

$(SSH_FUZZ): tests/ssh/fuzz/fuzz_ssh.c $(SSHC_SRCS) $(SSHC_HDRS) $(SSH_LIB_SRCS) $(SSH_LIB_HDRS) | $(SSH_T)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) $(SSH_TEST_I) tests/ssh/fuzz/fuzz_ssh.c $(SSHC_SRCS) $(SSH_LIB_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: test-ssh-fuzz
## test-ssh-fuzz                a short libFuzzer run of lib/ssh
test-ssh-fuzz: $(SSH_FUZZ)
	@rm -rf $(SSH_T)/fuzz-corpus && mkdir -p $(SSH_T)/fuzz-corpus
	$(call say,TEST,$@)$(SSH_FUZZ) -max_total_time=$(SSH_FUZZ_SMOKE_TIME) -seed=1 -max_len=8192 -print_final_stats=1 \
	    $(SSH_T)/fuzz-corpus tests/ssh/fuzz/seeds 2>$(SSH_T)/fuzz-smoke.log || { tail -60 $(SSH_T)/fuzz-smoke.log; exit 1; }
	@grep -E "stat::number_of_executed_units|Done" $(SSH_T)/fuzz-smoke.log | tail -2
	@echo "ssh fuzz smoke: 1 passed, 0 failed"

FUZZ_TARGETS += ssh
FUZZ_BIN_ssh := $(SSH_FUZZ)
FUZZ_SEEDS_ssh := tests/ssh/fuzz/seeds
FUZZ_ARGS_ssh := -max_len=16384
FUZZ_TIME_ssh = $(SSH_FUZZ_TIME)
HOST_TESTS += test-ssh-fuzz

# The hostile raw-TCP client links the test client and the library's crypto.
SSH_HOSTILE := $(SSH_T)/hostile

$(SSH_HOSTILE): tests/ssh/hostile.c $(SSHC_SRCS) $(SSHC_HDRS) $(SSH_LIB) | $(SSH_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(SSH_TEST_I) tests/ssh/hostile.c $(SSHC_SRCS) $(SSH_LIB) $(SODIUM_LIBS) -o $@

# The interop harness drives a dev server built with ASan/UBSan (aborts on any finding).
SSH_DEVSERVER_SAN := $(SSH_T)/ssh-devserver-asan

$(SSH_DEVSERVER_SAN): host/ssh-devserver/main.c $(SSH_LIB_SRCS) $(SSH_LIB_HDRS) | $(SSH_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(SSH_SAN) -Ilib/ssh host/ssh-devserver/main.c $(SSH_LIB_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: test-ssh-interop
## test-ssh-interop             OpenSSH, Dropbear and hostile clients against the dev server on loopback
test-ssh-interop: $(SSH_DEVSERVER_SAN) $(SSH_HOSTILE)
	$(call say,TEST,$@)$(PYTHON) tests/ssh/run_tests.py $(BUILD) $(SSH_DEVSERVER_SAN)
HOST_TESTS += test-ssh-interop
all: $(SSH_HOSTILE)

.PHONY: test-ssh-freestanding
## test-ssh-freestanding        lib/ssh needs only what the guest provides
test-ssh-freestanding:
	@./tests/ssh/check_freestanding.sh $(BUILD)/ssh/freestanding
HOST_TESTS += test-ssh-freestanding
