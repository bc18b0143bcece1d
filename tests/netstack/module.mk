.PHONY: test-netstack
## test-netstack                QEMU: two network stacks on a virtual wire: TCP, UDP, listen authority, no leaks
test-netstack: all
	$(call say,TEST,$@)$(PYTHON) tests/netstack/test_netstack.py
QEMU_TESTS += test-netstack
