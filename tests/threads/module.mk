.PHONY: test-threads
test-threads: all
	$(PYTHON) tests/threads/test_threads.py
QEMU_TESTS += test-threads
