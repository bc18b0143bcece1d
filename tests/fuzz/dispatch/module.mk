# The generated server dispatch of every schema interface, with stub
# servers generated from the interface header (gen_stubs.py), on the host.
FUZZ_DISPATCH := $(BUILD)/tests/fuzz/fuzz_dispatch
FUZZ_DISPATCH_STUBS := $(BUILD)/tests/fuzz/dispatch_stubs.c
$(FUZZ_DISPATCH_STUBS): tests/fuzz/dispatch/gen_stubs.py $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)$(PYTHON) tests/fuzz/dispatch/gen_stubs.py $(BUILD)/gen/capos.capnp.h capos $@

$(FUZZ_DISPATCH): tests/fuzz/dispatch/fuzz_dispatch.c tests/fuzz/dispatch/dispatch_stubs.h $(FUZZ_DISPATCH_STUBS) \
    $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS) $(CAPNP_HDRS)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter -Wno-unused-function \
	    -Ilib/capnp -I$(BUILD)/gen -Itests/fuzz/dispatch tests/fuzz/dispatch/fuzz_dispatch.c $(FUZZ_DISPATCH_STUBS) \
	    $(BUILD)/gen/capos.capnp.c $(CAPNP_SRCS) -o $@

FUZZ_TARGETS += dispatch
FUZZ_BIN_dispatch := $(FUZZ_DISPATCH)
FUZZ_SEEDS_dispatch := tests/fuzz/dispatch/seeds
FUZZ_ARGS_dispatch := -max_len=4096
## test-fuzz-dispatch           a short libFuzzer run of every interface's generated server dispatch
HOST_TESTS += test-fuzz-dispatch
