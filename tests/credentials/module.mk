.PHONY: test-credentials
test-credentials: all
	$(call say,TEST,$@)$(PYTHON) tests/credentials/test_credentials.py
QEMU_TESTS += test-credentials
