# host/capos-remote: the command-line client of the remote session CapSet.
# (paths spelled out: lib/capnp-rpc's and lib/capnp's variables are set,
# but the generated header is a build product)
CAPOS_REMOTE := $(BUILD)/host/capos-remote/capos-remote
CAPOS_REMOTE_SRCS := host/capos-remote/main.c host/capos-remote/sshkey.c

$(CAPOS_REMOTE): $(CAPOS_REMOTE_SRCS) host/capos-remote/sshkey.h $(CRPC_LIB) $(CAPNP_HOST_LIB) $(CAPOS_GEN_C) $(CAPOS_GEN_H)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(CRPC_INC) -I$(CAPNP_GEN_DIR) -Ihost/capos-remote $(CAPOS_REMOTE_SRCS) \
		$(CAPOS_GEN_C) $(CRPC_LIB) $(CAPNP_HOST_LIB) -l:libsodium.a -o $@

all: $(CAPOS_REMOTE)
