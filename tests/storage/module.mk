.PHONY: test-storage
## test-storage                 QEMU: the virtio-blk driver: sectors byte-exact on a raw image, flush, refusals, its caps
test-storage: all
	$(call say,TEST,$@)$(PYTHON) tests/storage/test_storage.py
QEMU_TESTS += test-storage
