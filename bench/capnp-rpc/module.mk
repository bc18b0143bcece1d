# bench/capnp-rpc: lib/capnp-rpc against Debian's C++ server on the host's
# loopback, the same C++ client driving both.
CRPC_BENCH_DEV := $(BUILD)/capnp-rpc/devserver-fast

$(CRPC_BENCH_DEV): tests/capnp-rpc/devserver.c $(CRPCT_SRCS) $(CRPCT_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(CRPCT_INC) $< $(CRPCT_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: bench-capnp-rpc-loopback
## bench-capnp-rpc-loopback     Cap'n Proto RPC round trip and calls/s on loopback: lib/capnp-rpc vs the C++ EzRpcServer
bench-capnp-rpc-loopback: $(CRPC_BENCH_DEV) $(CRPC_CXX)/server $(CRPC_CXX)/client
	$(call say,BENCH,$@)$(PYTHON) bench/capnp-rpc/bench.py $(CRPC_BENCH_DEV) $(CRPC_CXX)/server $(CRPC_CXX)/client
BENCHES += bench-capnp-rpc-loopback

# Into the guests: the capOS gateway against the C++ EzRpcServer in the Linux
# baseline guest (bench/linux_net.py), the same client. The server is linked
# statically against Debian's libcapnp/libkj archives, so the guest's
# initramfs needs no shared library (ld warns that getaddrinfo would want
# glibc's at run time: the server binds a numeric address, no lookup).
CRPC_GUEST_SERVER := $(BUILD)/bench/capnp-rpc/server-static

$(CRPC_GUEST_SERVER): tests/capnp-rpc/cxx/server.c++ $(CRPC_CXX)/capos.capnp.c++ $(CRPC_CXX)/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,CXX,$@ (static))g++ -std=c++17 -O2 -I$(CRPC_CXX) -static $< $(CRPC_CXX)/capos.capnp.c++ \
	    -lcapnp-rpc -lcapnp -lkj-async -lkj -pthread -o $@

.PHONY: bench-capnp-rpc-guest
## bench-capnp-rpc-guest        Cap'n Proto RPC host->guest->host: the capOS gateway vs a C++ EzRpcServer in the Linux guest, round trip and 16 in flight, -icount (CRPC_GUEST_CALLS=N)
bench-capnp-rpc-guest: all $(CRPC_GUEST_SERVER) $(CRPC_CXX)/client
	$(call say,BENCH,$@)$(PYTHON) bench/capnp-rpc/guest.py $(CRPC_GUEST_SERVER) $(CRPC_CXX)/client
BENCHES += bench-capnp-rpc-guest
