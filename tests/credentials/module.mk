.PHONY: test-credentials
test-credentials: all
	$(PYTHON) tests/credentials/test_credentials.py
QEMU_TESTS += test-credentials
