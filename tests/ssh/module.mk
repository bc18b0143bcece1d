# tests/ssh: real clients (OpenSSH, Dropbear, a hostile one) against host/ssh-devserver.
SSH_HOSTILE := $(BUILD)/tests/ssh/hostile

$(SSH_HOSTILE): tests/ssh/hostile.c lib/ssh/test/sshc.c lib/ssh/test/sshc.h lib/ssh/ssh_crypto.c $(wildcard lib/ssh/*.h)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib/ssh -Ilib/ssh/test tests/ssh/hostile.c lib/ssh/test/sshc.c lib/ssh/ssh_crypto.c -l:libsodium.a -o $@

# The harness drives a dev server built with ASan/UBSan (aborts on any finding).
SSH_DEVSERVER_SAN := $(BUILD)/tests/ssh/ssh-devserver-asan

$(SSH_DEVSERVER_SAN): host/ssh-devserver/main.c lib/ssh/ssh_server.c lib/ssh/ssh_crypto.c $(wildcard lib/ssh/*.h)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined -Ilib/ssh \
	    host/ssh-devserver/main.c lib/ssh/ssh_server.c lib/ssh/ssh_crypto.c -l:libsodium.a -o $@

.PHONY: ssh-interop
ssh-interop: $(SSH_DEVSERVER_SAN) $(SSH_HOSTILE)
	$(call say,TEST,$@)$(PYTHON) tests/ssh/run_tests.py $(BUILD) $(SSH_DEVSERVER_SAN)

all: $(SSH_HOSTILE)
HOST_TESTS += ssh-interop

.PHONY: ssh-freestanding
ssh-freestanding:
	@./tests/ssh/check_freestanding.sh $(BUILD)/ssh/freestanding
HOST_TESTS += ssh-freestanding
