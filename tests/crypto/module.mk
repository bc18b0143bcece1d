.PHONY: test-crypto
## test-crypto                  QEMU: libsodium in the guest against its test vectors
test-crypto: all
	$(call say,TEST,$@)$(PYTHON) tests/crypto/test_crypto.py
QEMU_TESTS += test-crypto
