.PHONY: test-sessions
test-sessions: all
	$(PYTHON) tests/sessions/test_sessions.py
QEMU_TESTS += test-sessions
.PHONY: test-launcher
test-launcher: all
	$(PYTHON) tests/sessions/test_launcher.py
QEMU_TESTS += test-launcher
.PHONY: test-login-cycle
test-login-cycle: all
	$(PYTHON) tests/sessions/test_login_cycle.py
QEMU_TESTS += test-login-cycle
