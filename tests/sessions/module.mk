.PHONY: test-sessions
## test-sessions                QEMU: the session path
test-sessions: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_sessions.py
QEMU_TESTS += test-sessions
.PHONY: test-launcher
## test-launcher                QEMU: the restricted shell launcher against a compromised broker
test-launcher: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_launcher.py
QEMU_TESTS += test-launcher
.PHONY: test-login-cycle
## test-login-cycle             QEMU: 1,000 logins through the door leave nothing behind
test-login-cycle: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_login_cycle.py
QEMU_TESTS += test-login-cycle
