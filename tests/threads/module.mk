.PHONY: test-threads
test-threads: all
	$(call say,TEST,$@)$(PYTHON) tests/threads/test_threads.py
QEMU_TESTS += test-threads
