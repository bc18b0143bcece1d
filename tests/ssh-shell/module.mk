# make run-ssh-shell: the system of manifests/ssh-shell.manifest (the
# gateway and the session path, no serial login) with the caller's public
# key authorized for admin: CAPOS_SSH_PUBKEY, else ~/.ssh/id_ed25519.pub,
# else a key made once in build/ssh-shell/ (the printed ssh line names it).
SSH_SHELL_MANIFEST := manifests/ssh-shell.manifest
SSH_SHELL_DIR      := $(BUILD)/ssh-shell
SSH_SHELL_PROGS    := $(sort $(shell awk -f manifests/image-programs.awk $(SSH_SHELL_MANIFEST)))

.PHONY: run-ssh-shell test-ssh-shell
## run-ssh-shell                boot a system that serves SSH; it prints the `ssh -p PORT admin@127.0.0.1` line (your ~/.ssh/id_ed25519.pub is authorized)
run-ssh-shell: setup all
	@mkdir -p $(SSH_SHELL_DIR)
	@key=$${CAPOS_SSH_PUBKEY:-$$HOME/.ssh/id_ed25519.pub}; args=""; \
	if [ ! -r "$$key" ]; then \
	    [ -f $(SSH_SHELL_DIR)/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -C capos-run-ssh-shell -f $(SSH_SHELL_DIR)/id_ed25519; \
	    key=$(SSH_SHELL_DIR)/id_ed25519.pub; args="-i $(SSH_SHELL_DIR)/id_ed25519"; \
	fi; \
	set -- $$(cat "$$key"); \
	[ "$$1" = ssh-ed25519 ] || { echo "run-ssh-shell: $$key is not an ssh-ed25519 public key"; exit 2; }; \
	sed "s|@KEYS@|key:admin:$$1:$$2|" $(SSH_SHELL_MANIFEST) > $(SSH_SHELL_DIR)/manifest.txt && \
	$(MKMANIFEST) $(SSH_SHELL_DIR)/manifest.txt $(SSH_SHELL_DIR)/manifest.bin && \
	$(MKPKG) $(SSH_SHELL_DIR)/boot.pkg manifest=$(SSH_SHELL_DIR)/manifest.bin \
	    $(foreach p,$(SSH_SHELL_PROGS),$(p)=$(BUILD)/user/$(p)) && \
	echo "capOS (SSH): booting in QEMU; admin may log in with the key of $$key. Ctrl-A X leaves QEMU." && \
	CAPOS_NET=user CAPOS_SSH_ARGS="$$args" ./scripts/qemu $(KERNEL_BIN) $(SSH_SHELL_DIR)/boot.pkg

## test-ssh-shell               QEMU: run-ssh-shell's system scripted: OpenSSH logs into the SSH gateway (host key in its key service, publickey via SessionManager), session/caps/exit, the shell's and the gateway's caps from the kernel's tables, window-change, denials, refusals (-L -R -A -X SendEnv exec sftp ControlMaster) with their reasons, teardown back to the baseline, limits (max-startups, per-source, grace) with 20 stalled connections, a flipped byte, 8 concurrent sessions, keyscan fingerprint
test-ssh-shell: all
	$(call say,TEST,$@)$(PYTHON) tests/ssh-shell/test_ssh_shell.py
QEMU_TESTS += test-ssh-shell
QEMU_TESTS_LONG += test-ssh-shell
