.PHONY: test-audit
test-audit: all
	$(PYTHON) tests/audit/test_audit.py
QEMU_TESTS += test-audit
