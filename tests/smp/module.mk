.PHONY: test-smp
## test-smp                     QEMU (2 CPUs): stress, TLB shootdown, two fuzzers at once, per-CPU counters
test-smp: all
	$(call say,TEST,$@)$(PYTHON) tests/smp/test_smp.py
QEMU_TESTS += test-smp
