# Line coverage of the host-built libraries and of the kernel and user-space
# files the fuzz targets build (tests/coverage/run.py): the
# unit suites and a short run of each fuzz target, built with clang's source
# coverage into build/cov.
.PHONY: coverage test-coverage
## coverage                     line coverage per library and per kernel / user folder built for the host (-v: per file)
coverage:
	$(call say,TEST,$@)$(PYTHON) tests/coverage/run.py -v
## test-coverage                no library or folder below its line-coverage floor (tests/coverage/floors.txt)
test-coverage:
	$(call say,TEST,$@)$(PYTHON) tests/coverage/run.py --check
HOST_TESTS += test-coverage
