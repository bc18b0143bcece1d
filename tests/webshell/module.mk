# make run-webshell: make run's system and disk (manifests/system.manifest
# serves the web shell on the guest's port 443), with the URL to open printed first;
# make test-webshell: the same system scripted with headless Chromium
# (playwright-core from tests/web) and raw TLS clients.
.PHONY: run-webshell test-webshell
## run-webshell                 boot the default system and print the web shell's https://localhost:PORT/ (set the operator's password with `setup` on this console first)
run-webshell: setup all
	@echo "capOS (web shell): set the operator's password with 'setup' at the login prompt below, then open the printed https://localhost:PORT/ in Chromium (the certificate is the development one, not for production). Ctrl-A X leaves QEMU."
	@if [ ! -f $(DISK) ]; then truncate -s $(DISK_MB)M $(DISK) && echo "capOS: a new empty disk, $(DISK)"; fi
	@CAPOS_NET=user CAPOS_DISK=$(DISK) ./scripts/qemu $(KERNEL_BIN) $(BOOTPKG)

## test-webshell                QEMU: headless Chromium logs into the web shell (TLS, password via SessionManager), reads `session`, `caps` and the kernel's tables from the page, resize, paste, screenshot; a passkey registered and used (CDP virtual authenticator), bogus signature / no UV / foreign origin / replay refused; Host/Origin/cookie refusals; logout, tab close, shell exit, WebSocket loss and failed logins each back to the kernel's baseline; flow-control credits
test-webshell: all $(WEB_NPM_STAMP)
	$(call say,TEST,$@)$(PYTHON) tests/webshell/test_webshell.py
QEMU_TESTS += test-webshell
