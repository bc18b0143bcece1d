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
