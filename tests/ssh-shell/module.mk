.PHONY: test-ssh-shell
## test-ssh-shell               QEMU: OpenSSH logs into the SSH gateway (host key in its key service, publickey via SessionManager), session/caps/exit, the shell's and the gateway's caps from the kernel's tables, window-change, denials, refusals (-L -R -A -X SendEnv exec sftp ControlMaster) with their reasons, teardown back to the baseline, keyscan fingerprint
test-ssh-shell: all
	$(call say,TEST,$@)$(PYTHON) tests/ssh-shell/test_ssh_shell.py
QEMU_TESTS += test-ssh-shell
