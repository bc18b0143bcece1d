# manifests/: the boot manifest, compiled at build time.
#
# Exports (for the build that packs the boot package):
#   MANIFEST_SRC   the checked-in text, manifests/system.manifest
#   MANIFEST_BIN   the compiled SystemManifest message, $(BUILD)/manifest.bin
#   MKMANIFEST     the compiler (built by tools/mkmanifest/module.mk)
# Make reads kernel/ and lib/ before this file: there, name the path
# $(BUILD)/manifest.bin in prerequisites, or use the variable in recipes.

MANIFEST_SRC := manifests/system.manifest
MANIFEST_BIN := $(BUILD)/manifest.bin
MKMANIFEST   := $(BUILD)/mkmanifest/mkmanifest
# The programs of the default image, read off the manifest (user/module.mk
# packs exactly these).
IMAGE_PROGS  := $(sort $(shell awk -f manifests/image-programs.awk $(MANIFEST_SRC)))

$(MANIFEST_BIN): $(MANIFEST_SRC) $(MKMANIFEST)
	@mkdir -p $(dir $@)
	$(call say,MANIFEST,$@)$(MKMANIFEST) $(MANIFEST_SRC) $@

all: $(MANIFEST_BIN)
