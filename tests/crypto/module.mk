.PHONY: test-crypto
test-crypto: all
	$(PYTHON) tests/crypto/test_crypto.py
QEMU_TESTS += test-crypto
