# tools/mkmanifest: the boot manifest's text -> a SystemManifest message.
# Make reads tools/ before manifests/, so its path is set here (and used by
# manifests/module.mk and tests/).
MKMANIFEST := $(BUILD)/mkmanifest/mkmanifest

MKMANIFEST_SRCS := $(wildcard tools/mkmanifest/*.c)
MKMANIFEST_HDRS := $(wildcard tools/mkmanifest/*.h) lib/manifest/manifest.h

$(MKMANIFEST): $(MKMANIFEST_SRCS) $(MKMANIFEST_HDRS) $(CAPNP_HOST_LIB) \
		$(BUILD)/gen/capos.capnp.h $(BUILD)/gen/capos.capnp.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(CAPNP_INC) -Ilib/manifest -I$(BUILD)/gen -Itools/mkmanifest \
		$(MKMANIFEST_SRCS) $(BUILD)/gen/capos.capnp.c $(CAPNP_HOST_LIB) -o $@
