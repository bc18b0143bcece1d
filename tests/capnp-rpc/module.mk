# tests/capnp-rpc: lib/capnp-rpc's tests.
#   test-capnp-rpc-unit          our client against the test server in memory, hostile
#                                frames, messages the C++ library produced (ASan/UBSan)
#   test-fuzz-capnp-rpc          libFuzzer smoke run of a server connection
#   test-capnp-rpc-freestanding  the library needs nothing the guest lacks
#   test-capnp-rpc-interop       Debian's C++ client (libcapnp-rpc) against the dev server
CRPCT       := $(BUILD)/capnp-rpc
CRPCT_SAN   := -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wno-unused-parameter
CRPCT_INC   := $(CRPC_INC) -I$(CAPNP_GEN_DIR) -Itests/capnp-rpc
CRPCT_SRCS  := tests/capnp-rpc/testsrv.c $(CRPC_SRCS) $(CAPNP_SRCS) $(CAPOS_GEN_C)
CRPCT_HDRS  := tests/capnp-rpc/testsrv.h tests/capnp-rpc/pair.h $(CRPC_HDRS) $(CAPNP_HDRS) $(CAPOS_GEN_H)

$(CRPCT)/unit: tests/capnp-rpc/unit.c tests/capnp-rpc/vectors.h tests/capnp/testutil.h $(CRPCT_SRCS) $(CRPCT_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(CRPCT_SAN) $(CRPCT_INC) -Itests/capnp $< $(CRPCT_SRCS) -o $@

.PHONY: test-capnp-rpc-unit
## test-capnp-rpc-unit          lib/capnp-rpc: pipelining, tables, denials, hostile frames, C++ vectors (ASan/UBSan)
test-capnp-rpc-unit: $(CRPCT)/unit
	$(call say,TEST,$@)$<
HOST_TESTS += test-capnp-rpc-unit

# libFuzzer (ASan/UBSan): the input is a byte stream to a server connection.
$(CRPCT)/fuzz: tests/capnp-rpc/fuzz.c $(CRPCT_SRCS) $(CRPCT_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter $(CRPCT_INC) \
		$< $(CRPCT_SRCS) -o $@

FUZZ_TARGETS += capnp-rpc
FUZZ_BIN_capnp-rpc := $(CRPCT)/fuzz
FUZZ_SEEDS_capnp-rpc := tests/capnp-rpc/seeds
FUZZ_ARGS_capnp-rpc := -max_len=4096
## test-fuzz-capnp-rpc          a short libFuzzer run of lib/capnp-rpc (a byte stream to a server connection)
HOST_TESTS += test-fuzz-capnp-rpc

.PHONY: test-capnp-rpc-freestanding
## test-capnp-rpc-freestanding  lib/capnp-rpc builds freestanding and needs no outside symbol
test-capnp-rpc-freestanding:
	@sh tests/capnp-rpc/check_freestanding.sh $(CRPCT)/freestanding
HOST_TESTS += test-capnp-rpc-freestanding

# The loopback dev server (ASan/UBSan) and the C++ peers.
$(CRPCT)/devserver: tests/capnp-rpc/devserver.c $(CRPCT_SRCS) $(CRPCT_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(CRPCT_SAN) $(CRPCT_INC) $< $(CRPCT_SRCS) $(SODIUM_LIBS) -o $@

CRPC_CXX     := $(CRPCT)/cxx
CRPC_CXXFLAGS := -std=c++17 -O1 -I$(CRPC_CXX)
CRPC_CXXLIBS := -lcapnp-rpc -lcapnp -lkj-async -lkj -lpthread

$(CRPC_CXX)/capos.capnp.c++ $(CRPC_CXX)/capos.capnp.h &: schema/capos.capnp
	@mkdir -p $(CRPC_CXX)
	$(call say,CAPNP,$< (c++))capnp compile -oc++:$(CRPC_CXX) --src-prefix=schema $<

$(CRPC_CXX)/capos.o: $(CRPC_CXX)/capos.capnp.c++ $(CRPC_CXX)/capos.capnp.h
	$(call say,CXX,$<)g++ $(CRPC_CXXFLAGS) -c $< -o $@

$(CRPC_CXX)/client: tests/capnp-rpc/cxx/client.c++ $(CRPC_CXX)/capos.o
	$(call say,CXX,$<)g++ $(CRPC_CXXFLAGS) $< $(CRPC_CXX)/capos.o $(CRPC_CXXLIBS) -lsodium -o $@

$(CRPC_CXX)/server: tests/capnp-rpc/cxx/server.c++ $(CRPC_CXX)/capos.o
	$(call say,CXX,$<)g++ $(CRPC_CXXFLAGS) $< $(CRPC_CXX)/capos.o $(CRPC_CXXLIBS) -o $@

.PHONY: test-capnp-rpc-interop capnp-rpc-vectors
## test-capnp-rpc-interop       the C++ client (libcapnp-rpc 0.9.2) and capos-remote against lib/capnp-rpc on loopback
test-capnp-rpc-interop: $(CRPCT)/devserver $(CRPC_CXX)/client $(CAPOS_REMOTE)
	$(call say,TEST,$@)$(PYTHON) tests/capnp-rpc/interop.py $(CRPCT)/devserver $(CRPC_CXX)/client $(CAPOS_REMOTE)
HOST_TESTS += test-capnp-rpc-interop

## capnp-rpc-vectors            re-capture tests/capnp-rpc/vectors.h from the C++ library
capnp-rpc-vectors: $(CRPCT)/devserver $(CRPC_CXX)/client $(CRPC_CXX)/server
	$(PYTHON) tests/capnp-rpc/capture.py $(CRPCT)/devserver $(CRPC_CXX)/server $(CRPC_CXX)/client \
		tests/capnp-rpc/vectors.h
