.PHONY: test-ipc
test-ipc: all
	$(call say,TEST,$@)$(PYTHON) tests/ipc/test_ipc.py
QEMU_TESTS += test-ipc
