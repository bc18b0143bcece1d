.PHONY: test-net-fault
## test-net-fault               QEMU: kill the NIC driver, then the stack: restarted, device caps reclaimed, TCP carries on
test-net-fault: all
	$(call say,TEST,$@)$(PYTHON) tests/net-fault/test_net_fault.py
QEMU_TESTS += test-net-fault
