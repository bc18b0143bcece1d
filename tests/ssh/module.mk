# tests/ssh: real clients (OpenSSH, Dropbear, a hostile one) against host/ssh-devserver.
SSH_HOSTILE := $(BUILD)/tests/ssh/hostile

$(SSH_HOSTILE): tests/ssh/hostile.c lib/ssh/test/sshc.c lib/ssh/test/sshc.h lib/ssh/ssh_crypto.c $(wildcard lib/ssh/*.h)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -Ilib/ssh -Ilib/ssh/test tests/ssh/hostile.c lib/ssh/test/sshc.c lib/ssh/ssh_crypto.c -l:libsodium.a -o $@

.PHONY: ssh-interop
ssh-interop: $(BUILD)/host/ssh-devserver/ssh-devserver $(SSH_HOSTILE)
	$(PYTHON) tests/ssh/run_tests.py $(BUILD)

all: $(SSH_HOSTILE)
HOST_TESTS += ssh-interop
