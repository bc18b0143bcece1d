.PHONY: test-virtio-net
## test-virtio-net              QEMU: the virtio-net driver under the network stack: DHCP, 1 MiB echo via hostfwd, caps
test-virtio-net: all
	$(call say,TEST,$@)$(PYTHON) tests/virtio-net/test_virtio_net.py
QEMU_TESTS += test-virtio-net
