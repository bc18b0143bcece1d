# bench/ssh-guest: capOS's SSH gateway against dropbear in the Linux
# baseline guest, same QEMU flags, same OpenSSH client and key; HTTP
# request latency of webstatus against busybox httpd and TCP throughput each
# way in the same guests.
.PHONY: bench-ssh-guest
## bench-ssh-guest              capOS SSH gateway vs dropbear in the Linux guest: connect to prompt, keystroke echo, memory per session; webstatus vs busybox httpd; TCP throughput each way (make bench)
bench-ssh-guest: all
	$(call say,TEST,$@)$(PYTHON) bench/ssh-guest/bench.py $(SSH_GUEST_CONNECTS) $(SSH_GUEST_KEYS)

.PHONY: profile-net
## profile-net                  where the guest's time goes in a bulk TCP transfer into it: RIP sampled through QEMU's gdb stub, by process and function (PROFILE_NET=down for the other way)
profile-net: all
	$(call say,TEST,$@)$(PYTHON) bench/ssh-guest/profile.py $(PROFILE_NET)

SSH_GUEST_CONNECTS ?= 21
SSH_GUEST_KEYS ?= 101
BENCHES += bench-ssh-guest
