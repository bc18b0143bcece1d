# capOS top-level build.
#
# Each component keeps its own rules in a `module.mk` next to its code and
# appends to these lists (run in the order given, one at a time):
#   HOST_TESTS   host unit tests and fuzz smoke runs (fast, run first)
#   HOST_TESTS_LAST  host tests that read what HOST_TESTS left (coverage)
#   QEMU_TESTS   QEMU proof harnesses (each boots its own guests; make test
#                runs two side by side, see scripts/run-tests)
#   QEMU_TESTS_LONG  the QEMU proofs that take minutes: make test starts them
#                first, so the lanes end together
#   TEST_PREREQS what QEMU proofs need beyond `all` (test-only tools), built
#                before any test runs
#   BENCHES      benchmarks (`make bench`; reported, never asserted)
# Everything built goes under build/.

BUILD      := build
HOST_CC    ?= gcc
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
FUZZ_CC    ?= clang
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
PYTHON     := /usr/bin/python3

# A quiet build: one short line a step (`  CC  kernel/cap/endpoint.c`);
# `make V=1` prints the full commands. A recipe line starts with
# $(call say,TAG,WHAT) in place of the command's own echo.
V ?= 0
ifeq ($(V),1)
say =
else
say = @printf '  %-9s%s\n' '$(1)' '$(2)';
endif

HOST_TESTS :=
HOST_TESTS_LAST :=
QEMU_TESTS :=
QEMU_TESTS_LONG :=
TEST_PREREQS :=
BENCHES    :=

.PHONY: all setup run test bench clean host-tests qemu-tests help
all:

# Installs whatever Debian packages are missing (see scripts/packages/).
setup:
	@./scripts/setup

# Layers in order, lowest first, so a layer may use what those below define.
include $(sort $(wildcard lib/*/module.mk)) $(sort $(wildcard tools/*/module.mk)) kernel/module.mk \
        manifests/module.mk user/module.mk $(sort $(wildcard host/*/module.mk)) \
        $(sort $(wildcard tests/*/module.mk tests/*/*/module.mk)) $(sort $(wildcard bench/module.mk bench/*/module.mk))

test: setup
	@$(MAKE) --no-print-directory -j2 all $(TEST_PREREQS)
	@$(PYTHON) scripts/run-tests --host $(HOST_TESTS) --host-last $(HOST_TESTS_LAST) --qemu $(QEMU_TESTS) --long $(QEMU_TESTS_LONG)
	@echo "make test: all tests passed"

host-tests: $(HOST_TESTS) $(HOST_TESTS_LAST)
qemu-tests: $(QEMU_TESTS)

bench: setup
	@$(MAKE) --no-print-directory all
	@for b in $(BENCHES); do $(MAKE) --no-print-directory $$b || exit 1; done

clean:
	rm -rf $(BUILD)

# `make help`: the targets a person uses, from the `## ` lines beside them.
help:
	@echo "capOS make targets (V=1 shows the full commands):"
	@grep -h -E '^## [a-z]' $(MAKEFILE_LIST) | sed 's/^## /  /'

## all                          build the kernel, the runtime, the programs and the boot package
## run                          boot the default system in QEMU (the login prompt)
## test                         every test: host suites first, then the QEMU proofs
## bench                        the benchmarks, with ratios against a Linux guest
## clean                        remove build/
