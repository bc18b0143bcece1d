.PHONY: test-shell
## test-shell                   QEMU: the login shell as a person meets it (jobs, run errors, history, help...)
test-shell: all
	$(call say,TEST,$@)$(PYTHON) tests/shell/test_shell.py
QEMU_TESTS += test-shell
.PHONY: test-session-limits
## test-session-limits          QEMU: a full session table, back-off, the audit view, expiry and idle logout
test-session-limits: all
	$(call say,TEST,$@)$(PYTHON) tests/shell/test_session_limits.py
QEMU_TESTS += test-session-limits
