.PHONY: test-sessions
test-sessions: all
	$(PYTHON) tests/sessions/test_sessions.py
QEMU_TESTS += test-sessions
