.PHONY: test-ipc
test-ipc: all
	$(PYTHON) tests/ipc/test_ipc.py
QEMU_TESTS += test-ipc
