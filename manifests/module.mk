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

# make run-agent-shell: the same system with the deterministic LanguageModel
# (manifests/agent.manifest) and agent mode for operators.
AGENT_MANIFEST_SRC := manifests/agent.manifest
AGENT_MANIFEST_BIN := $(BUILD)/agent-manifest.bin
AGENT_PROGS        := $(sort $(shell awk -f manifests/image-programs.awk $(AGENT_MANIFEST_SRC)))
AGENT_BOOTPKG      := $(BUILD)/agent-boot.pkg
$(AGENT_MANIFEST_BIN): $(AGENT_MANIFEST_SRC) $(MKMANIFEST)
	@mkdir -p $(dir $@)
	$(call say,MANIFEST,$@)$(MKMANIFEST) $(AGENT_MANIFEST_SRC) $@
$(AGENT_BOOTPKG): $(AGENT_MANIFEST_BIN) $(MKPKG) $(addprefix $(BUILD)/user/,$(AGENT_PROGS))
	$(call say,PKG,$@)$(MKPKG) $@ manifest=$(AGENT_MANIFEST_BIN) $(foreach p,$(AGENT_PROGS),$(p)=$(BUILD)/user/$(p))
all: $(AGENT_BOOTPKG)
