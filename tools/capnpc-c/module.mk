# tools/capnpc-c: the C code generator plugin for `capnp compile`.
#
# The variables it exports (CAPNPC_C, CAPNP_GEN_DIR, CAPOS_GEN_H/C) are set
# in lib/capnp/module.mk, which make reads before this file and tests/.
# Here: the plugin's build, and the pattern rule
#   $(BUILD)/gen/NAME.capnp.h and .c  <-  schema/NAME.capnp

CAPNPC_C_SRCS := $(wildcard tools/capnpc-c/*.c)
CAPNPC_C_HDRS := $(wildcard tools/capnpc-c/*.h)

$(CAPNPC_C): $(CAPNPC_C_SRCS) $(CAPNPC_C_HDRS) $(CAPNP_HOST_LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(CAPNP_INC) -Itools/capnpc-c $(CAPNPC_C_SRCS) $(CAPNP_HOST_LIB) -o $@

# One run of the plugin writes both files (a grouped pattern rule).
$(CAPNP_GEN_DIR)/%.capnp.h $(CAPNP_GEN_DIR)/%.capnp.c: schema/%.capnp $(CAPNPC_C)
	@mkdir -p $(CAPNP_GEN_DIR)
	$(call say,CAPNP,$<)capnp compile -o$(abspath $(CAPNPC_C)):$(CAPNP_GEN_DIR) $<
# The test-only schema of tests/guest, the same way (its own C prefix).
$(CAPNP_GEN_DIR)/%.capnp.h $(CAPNP_GEN_DIR)/%.capnp.c: tests/guest/%.capnp $(CAPNPC_C)
	@mkdir -p $(CAPNP_GEN_DIR)
	$(call say,CAPNP,$<)capnp compile -o$(abspath $(CAPNPC_C)):$(CAPNP_GEN_DIR) $<

# The generated code for the project schema must build freestanding too.
$(BUILD)/capnp/freestanding/capos.capnp.o: $(CAPOS_GEN_C) $(CAPOS_GEN_H) $(CAPNP_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(CAPNP_FREESTANDING_CFLAGS) $(CAPNP_INC) -I$(CAPNP_GEN_DIR) -c $< -o $@

all: $(CAPNPC_C) $(CAPOS_GEN_H) $(CAPOS_GEN_C)
