.PHONY: test-services
## test-services                QEMU: the manifest and the supervisor
test-services: all
	$(call say,TEST,$@)$(PYTHON) tests/services/test_services.py
QEMU_TESTS += test-services
