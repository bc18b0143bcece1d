# tools/mkmanifest: the boot manifest's text -> a SystemManifest message.
# MKMANIFEST (its path) is set in manifests/module.mk, which make reads
# before this file and tests/.

MKMANIFEST_SRCS := $(wildcard tools/mkmanifest/*.c)
MKMANIFEST_HDRS := $(wildcard tools/mkmanifest/*.h) lib/manifest/manifest.h

$(MKMANIFEST): $(MKMANIFEST_SRCS) $(MKMANIFEST_HDRS) $(CAPNP_HOST_LIB) \
		$(BUILD)/gen/capos.capnp.h $(BUILD)/gen/capos.capnp.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(CAPNP_INC) -Ilib/manifest -I$(BUILD)/gen -Itools/mkmanifest \
		$(MKMANIFEST_SRCS) $(BUILD)/gen/capos.capnp.c $(CAPNP_HOST_LIB) -o $@
