.PHONY: test-net-guest
## test-net-guest               QEMU: the guest's network over a TAP in a namespace (dnsmasq): 64 MiB each way, 100 connections, half-close, RST, ping, hostile frames
test-net-guest: all
	$(call say,TEST,$@)$(PYTHON) tests/net-guest/test_net_guest.py
QEMU_TESTS += test-net-guest
