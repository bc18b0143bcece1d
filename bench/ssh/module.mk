# bench/ssh: lib/ssh (via host/ssh-devserver) against OpenSSH's sshd, same run.
.PHONY: bench-ssh
## bench-ssh                    lib/ssh against OpenSSH sshd (make bench)
bench-ssh: $(BUILD)/host/ssh-devserver/ssh-devserver
	$(call say,TEST,$@)$(PYTHON) bench/ssh/bench.py $(BUILD) $(SSH_BENCH_RUNS)

SSH_BENCH_RUNS ?= 21
BENCHES += bench-ssh
