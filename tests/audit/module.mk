.PHONY: test-audit
## test-audit                   QEMU: the audit service
test-audit: all
	$(call say,TEST,$@)$(PYTHON) tests/audit/test_audit.py
QEMU_TESTS += test-audit
