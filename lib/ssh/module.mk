# lib/ssh: sans-IO SSH-2 server library (issue 6).
SSH_LIB_HDRS := $(wildcard lib/ssh/*.h)
SSH_LIB_SRCS := lib/ssh/ssh_server.c lib/ssh/ssh_crypto.c
SSH_B        := $(BUILD)/lib/ssh
SSH_LIB      := $(SSH_B)/libcapos_ssh.a
# Debian's static libsodium
SODIUM_LIBS  := -l:libsodium.a
SSH_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SSHC_SRCS    := lib/ssh/test/sshc.c
SSHC_HDRS    := lib/ssh/test/sshc.h

$(SSH_B):
	@mkdir -p $@

$(SSH_B)/%.o: lib/ssh/%.c $(SSH_LIB_HDRS) | $(SSH_B)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(SSH_LIB): $(SSH_B)/ssh_server.o $(SSH_B)/ssh_crypto.o
	$(call say,AR,$@)ar rcs $@ $^

# Unit tests run under ASan/UBSan.
$(SSH_B)/test_ssh: lib/ssh/test/test_ssh.c $(SSHC_SRCS) $(SSHC_HDRS) $(SSH_LIB_SRCS) $(SSH_LIB_HDRS) | $(SSH_B)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -O1 $(SSH_SAN) -Ilib/ssh lib/ssh/test/test_ssh.c $(SSHC_SRCS) $(SSH_LIB_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: ssh-unit
ssh-unit: $(SSH_B)/test_ssh
	$(call say,TEST,$@)$(SSH_B)/test_ssh

all: $(SSH_LIB)
HOST_TESTS += ssh-unit

# libFuzzer target (ASan/UBSan).  `make ssh-fuzz SSH_FUZZ_TIME=600` runs longer.
SSH_FUZZ      := $(SSH_B)/fuzz_ssh
SSH_FUZZ_TIME ?= 300
SSH_FUZZ_SMOKE_TIME ?= 20

$(SSH_FUZZ): lib/ssh/fuzz/fuzz_ssh.c $(SSHC_SRCS) $(SSHC_HDRS) $(SSH_LIB_SRCS) $(SSH_LIB_HDRS) | $(SSH_B)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ilib/ssh lib/ssh/fuzz/fuzz_ssh.c $(SSHC_SRCS) $(SSH_LIB_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: ssh-fuzz-smoke ssh-fuzz
ssh-fuzz-smoke: $(SSH_FUZZ)
	@rm -rf $(SSH_B)/fuzz-corpus && mkdir -p $(SSH_B)/fuzz-corpus
	$(call say,TEST,$@)$(SSH_FUZZ) -max_total_time=$(SSH_FUZZ_SMOKE_TIME) -seed=1 -max_len=8192 -print_final_stats=1 \
	    $(SSH_B)/fuzz-corpus lib/ssh/fuzz/seeds 2>$(SSH_B)/fuzz-smoke.log || { tail -60 $(SSH_B)/fuzz-smoke.log; exit 1; }
	@grep -E "stat::number_of_executed_units|Done" $(SSH_B)/fuzz-smoke.log | tail -2
	@echo "ssh fuzz smoke: 1 passed, 0 failed"

ssh-fuzz: $(SSH_FUZZ)
	@mkdir -p $(SSH_B)/fuzz-corpus-long
	$(call say,TEST,$@)$(SSH_FUZZ) -max_total_time=$(SSH_FUZZ_TIME) -max_len=16384 $(SSH_B)/fuzz-corpus-long lib/ssh/fuzz/seeds

HOST_TESTS += ssh-fuzz-smoke
