.PHONY: test-ipc
## test-ipc                     QEMU: endpoints, sessions and capability transfer
test-ipc: all
	$(call say,TEST,$@)$(PYTHON) tests/ipc/test_ipc.py
QEMU_TESTS += test-ipc
