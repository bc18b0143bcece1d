# Every libFuzzer target behind one interface (tests/fuzz/README.md).
#
# A module that builds a target registers it by name:
#   FUZZ_TARGETS += NAME
#   FUZZ_BIN_NAME   the binary (a make target)
#   FUZZ_SEEDS_NAME its seed corpus: a folder kept in the tree, or one a
#                   prerequisite writes under $(BUILD)
#   FUZZ_ARGS_NAME  libFuzzer flags (-max_len=...)
#   FUZZ_DEPS_NAME  optional: targets made first (seed generation)
#   FUZZ_TIME_NAME  optional: the long run's default length when SECONDS is
#                   not given (targets that had their own TIME variable)
# and gets `make fuzz-NAME SECONDS=N` (a long run; its corpus grows under
# $(BUILD)/fuzz/NAME-corpus, a finding is saved as $(BUILD)/fuzz/NAME-crash-*).
# Targets added through here also get `make test-fuzz-NAME`, the smoke run
# `make test` does (FUZZ_SMOKE_SECONDS, fresh corpus, fixed seed).
# The make calls in the recipes run after every module.mk has been read, so
# a module may register after this file.
FUZZ_DIR ?= $(BUILD)/fuzz
FUZZ_SMOKE_SECONDS ?= 10
fuzz_seconds = $(or $(SECONDS),$(FUZZ_TIME_$(1)),600)

.PHONY: fuzz-list
## fuzz-NAME                    a long libFuzzer run of one target: SECONDS=N (default 600); NAME from fuzz-list
## fuzz-list                    the fuzz targets, their binaries and seed corpora
fuzz-list:
	@$(foreach t,$(sort $(FUZZ_TARGETS)),printf '  %-16s %-44s %s\n' '$(t)' '$(FUZZ_BIN_$(t))' '$(FUZZ_SEEDS_$(t))';)

fuzz-%:
	@test -n "$(FUZZ_BIN_$*)" || { echo "fuzz-$*: no such fuzz target (make fuzz-list)"; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_BIN_$*) $(FUZZ_DEPS_$*)
	@mkdir -p $(FUZZ_DIR)/$*-corpus
	$(call say,FUZZ,$* for $(call fuzz_seconds,$*) s)$(FUZZ_BIN_$*) -max_total_time=$(call fuzz_seconds,$*) \
	    $(FUZZ_ARGS_$*) -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/$*- \
	    $(FUZZ_DIR)/$*-corpus $(FUZZ_SEEDS_$*) 2>$(FUZZ_DIR)/$*.log \
	    || { tail -n 60 $(FUZZ_DIR)/$*.log; echo "fuzz-$*: 0 passed, 1 failed"; exit 1; }
	@grep -E "^Done [0-9]+ runs|stat::(number_of_executed_units|peak_rss_mb)" $(FUZZ_DIR)/$*.log
	@echo "fuzz-$*: 1 passed, 0 failed"

test-fuzz-%:
	@test -n "$(FUZZ_BIN_$*)" || { echo "test-fuzz-$*: no such fuzz target (make fuzz-list)"; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_BIN_$*) $(FUZZ_DEPS_$*)
	@rm -rf $(FUZZ_DIR)/$*-smoke && mkdir -p $(FUZZ_DIR)/$*-smoke
	$(call say,TEST,$@)$(FUZZ_BIN_$*) -max_total_time=$(FUZZ_SMOKE_SECONDS) -seed=1 $(FUZZ_ARGS_$*) \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/$*-smoke- \
	    $(FUZZ_DIR)/$*-smoke $(FUZZ_SEEDS_$*) 2>$(FUZZ_DIR)/$*-smoke.log \
	    || { tail -n 60 $(FUZZ_DIR)/$*-smoke.log; echo "test-fuzz-$*: 0 passed, 1 failed"; exit 1; }
	@grep -E "^Done [0-9]+ runs" $(FUZZ_DIR)/$*-smoke.log
	@echo "test-fuzz-$*: 1 passed, 0 failed"
