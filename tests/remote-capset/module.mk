# tests/remote-capset: the remote session CapSet gateway in the guest,
# driven from the host by the C++ client, capos-remote and hostile frames.
.PHONY: test-remote-session-capset-interop
## test-remote-session-capset-interop  QEMU: the remote CapSet gateway over Cap'n Proto RPC: C++ and C clients, password and key, list, calls, pipelining, release, denials, expiry mid-connection, 20 connections, hostile frames answered with Abort, the gateway's caps from the kernel's tables
test-remote-session-capset-interop: all $(CRPC_CXX)/client $(CAPOS_REMOTE)
	$(call say,TEST,$@)$(PYTHON) tests/remote-capset/test_remote_capset.py
QEMU_TESTS += test-remote-session-capset-interop
