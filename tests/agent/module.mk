# Agent mode: the shell runs (or refuses) what a LanguageModel proposes.
.PHONY: run-agent-shell test-agent-shell
## run-agent-shell              boot the system with the deterministic model: log in as admin, then `agent PROMPT`
run-agent-shell: setup all
	$(call say,RUN,$@)echo "capOS (agent mode): booting in QEMU. Ctrl-A X leaves QEMU."
	@./scripts/qemu $(KERNEL_BIN) $(AGENT_BOOTPKG)
## test-agent-shell             QEMU: agent mode through the login door: gates, consent, step-up, Ctrl-C, quotas, audit
test-agent-shell: all
	$(call say,TEST,$@)$(PYTHON) tests/agent/test_agent.py
QEMU_TESTS += test-agent-shell
