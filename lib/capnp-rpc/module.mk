# lib/capnp-rpc: the two-party Cap'n Proto RPC protocol, sans-IO, on
# lib/capnp.  Its tests: tests/capnp-rpc.
CRPC_HDRS := $(wildcard lib/capnp-rpc/*.h)
CRPC_SRCS := $(sort $(wildcard lib/capnp-rpc/*.c))
CRPC_INC  := -Ilib/capnp-rpc -Ilib/capnp
# (read before lib/capnp/module.mk: name its files directly)
CRPC_DEP_HDRS := $(CRPC_HDRS) $(wildcard lib/capnp/*.h)
CRPC_B    := $(BUILD)/lib/capnp-rpc
CRPC_LIB  := $(CRPC_B)/libcapnp_rpc.a

$(CRPC_B)/%.o: lib/capnp-rpc/%.c $(CRPC_DEP_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) $(CRPC_INC) -c $< -o $@

$(CRPC_LIB): $(patsubst lib/capnp-rpc/%.c,$(CRPC_B)/%.o,$(CRPC_SRCS))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

all: $(CRPC_LIB)
