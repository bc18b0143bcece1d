.PHONY: test-smp test-one-cpu
## test-smp                     QEMU (2 CPUs): stress, TLB shootdown, two fuzzers at once, per-CPU counters
test-smp: all
	$(call say,TEST,$@)$(PYTHON) tests/smp/test_smp.py
QEMU_TESTS += test-smp

# Every QEMU test boots two CPUs (scripts/qemu's default); these, the
# kernel's own proofs, the network path's and the services' (the guest's
# network end to end, the agent shell, the store killed mid-write, the
# session limits), run again on one. The three longest (test-ssh-shell,
# test-remote-session-capset-interop, test-webshell: five minutes between
# them) run on two only, to keep make test within its time.
ONE_CPU_TESTS := test-boot-run test-boot-ring test-boot-fuzz test-ipc test-threads test-services \
                 test-sessions test-shell test-terminal test-devices test-storage test-netstack \
                 test-virtio-net test-net-fault test-net-guest test-agent-shell test-store-qemu \
                 test-session-limits
## test-one-cpu                 QEMU (1 CPU): the kernel's, the network path's and the services' proofs again on -smp 1 (the rest runs on 2)
test-one-cpu: all
	$(call say,TEST,$@)for t in $(ONE_CPU_TESTS); do \
	    CAPOS_SMP=1 $(MAKE) --no-print-directory $$t || { echo "test-one-cpu: $$t FAILED on one CPU"; exit 1; }; done
QEMU_TESTS += test-one-cpu
