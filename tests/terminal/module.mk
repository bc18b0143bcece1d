.PHONY: test-terminal
test-terminal: all
	$(PYTHON) tests/terminal/test_terminal.py
QEMU_TESTS += test-terminal
