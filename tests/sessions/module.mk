.PHONY: test-sessions
test-sessions: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_sessions.py
QEMU_TESTS += test-sessions
.PHONY: test-launcher
test-launcher: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_launcher.py
QEMU_TESTS += test-launcher
.PHONY: test-login-cycle
test-login-cycle: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_login_cycle.py
QEMU_TESTS += test-login-cycle
