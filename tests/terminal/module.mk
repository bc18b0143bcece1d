.PHONY: test-terminal
## test-terminal                QEMU: TerminalSession reads
test-terminal: all
	$(call say,TEST,$@)$(PYTHON) tests/terminal/test_terminal.py
QEMU_TESTS += test-terminal
