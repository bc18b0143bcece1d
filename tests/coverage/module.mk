# Line coverage of the host-built libraries (tests/coverage/run.py): the
# unit suites and a short run of each fuzz target, built with clang's source
# coverage into build/cov.
.PHONY: coverage test-coverage
## coverage                     line coverage per library (-v: per file)
coverage:
	$(call say,TEST,$@)$(PYTHON) tests/coverage/run.py -v
## test-coverage                no library's line coverage below its floor (tests/coverage/floors.txt)
test-coverage:
	$(call say,TEST,$@)$(PYTHON) tests/coverage/run.py --check
HOST_TESTS += test-coverage
