# QEMU proofs of the boot issue, and `make run`.
.PHONY: run test-boot-ring test-boot-run
# The system disk: created empty on first use and kept (accounts, keys and
# the audit trail survive); FRESH=1 starts from an empty one.
DISK    ?= $(BUILD)/disk.img
DISK_MB ?= 8
run: setup all
	@if [ -n "$(FRESH)" ]; then rm -f $(DISK); fi
	@if [ ! -f $(DISK) ]; then truncate -s $(DISK_MB)M $(DISK) && echo "capOS: a new empty disk, $(DISK)"; fi
	@echo "capOS: booting in QEMU. Ctrl-A X leaves QEMU; Ctrl-A H lists the other keys."
	@CAPOS_NET=user CAPOS_DISK=$(DISK) ./scripts/qemu $(KERNEL_BIN) $(BOOTPKG)

## test-boot-ring               QEMU: the ring, faults and preemption (proof mode ring)
test-boot-ring: all
	$(call say,TEST,$@)$(PYTHON) tests/boot/test_ring.py
## test-boot-run                QEMU: the make run system driven as a person would
test-boot-run: all
	$(call say,TEST,$@)$(PYTHON) tests/boot/test_run.py
.PHONY: test-boot-fuzz
## test-boot-fuzz               QEMU: random SQEs against the kernel, counters unchanged
test-boot-fuzz: all
	$(call say,TEST,$@)$(PYTHON) tests/boot/test_fuzz.py
QEMU_TESTS += test-boot-ring test-boot-run test-boot-fuzz
