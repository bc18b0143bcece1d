.PHONY: test-services
test-services: all
	$(PYTHON) tests/services/test_services.py
QEMU_TESTS += test-services
