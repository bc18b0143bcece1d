# bench/webshell: the web shell (headless Chromium through playwright-core)
# against the SSH gateway (the OpenSSH client), into the same capOS guest in
# the same run.
.PHONY: bench-webshell
## bench-webshell               web shell vs SSH gateway, same guest and run: page load -> shell prompt vs connect -> prompt, keystroke echo round trip; ratios (make bench)
bench-webshell: all $(WEB_NPM_STAMP)
	$(call say,TEST,$@)$(PYTHON) bench/webshell/bench.py $(WEBSHELL_BENCH_LOADS) $(WEBSHELL_BENCH_KEYS)

WEBSHELL_BENCH_LOADS ?= 11
WEBSHELL_BENCH_KEYS ?= 51
BENCHES += bench-webshell
