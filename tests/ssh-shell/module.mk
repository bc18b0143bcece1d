.PHONY: test-ssh-shell
## test-ssh-shell               QEMU: OpenSSH logs into the SSH gateway (host key in its key service, publickey via SessionManager), session/caps/exit, denials, keyscan fingerprint
test-ssh-shell: all
	$(call say,TEST,$@)$(PYTHON) tests/ssh-shell/test_ssh_shell.py
QEMU_TESTS += test-ssh-shell
