.PHONY: test-crypto
test-crypto: all
	$(call say,TEST,$@)$(PYTHON) tests/crypto/test_crypto.py
QEMU_TESTS += test-crypto
