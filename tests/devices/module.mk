.PHONY: test-devices
## test-devices                 QEMU: a manifest device grant (virtio-net): DeviceMmio, DMAPool, Interrupt
test-devices: all
	$(call say,TEST,$@)$(PYTHON) tests/devices/test_devices.py
QEMU_TESTS += test-devices
