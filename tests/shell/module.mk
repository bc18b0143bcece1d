.PHONY: test-shell
## test-shell                   QEMU: the login shell as a person meets it (jobs, run errors, history, help...)
test-shell: all
	$(call say,TEST,$@)$(PYTHON) tests/shell/test_shell.py
QEMU_TESTS += test-shell
