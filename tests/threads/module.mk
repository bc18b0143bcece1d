.PHONY: test-threads
## test-threads                 QEMU: threads, TLS, ParkSpace and per-thread rings
test-threads: all
	$(call say,TEST,$@)$(PYTHON) tests/threads/test_threads.py
QEMU_TESTS += test-threads
