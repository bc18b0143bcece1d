.PHONY: test-credentials
## test-credentials             QEMU: the credential store
test-credentials: all
	$(call say,TEST,$@)$(PYTHON) tests/credentials/test_credentials.py
QEMU_TESTS += test-credentials
