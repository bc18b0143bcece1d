# lib/webauthn: sans-IO WebAuthn relying-party checks (issue 17); SHA-256 and
# ECDSA P-256 from Debian's static BearSSL, Ed25519 from its static libsodium.
# Its tests: tests/web.
WEBAUTHN_LIB_HDRS := $(wildcard lib/webauthn/*.h)
WEBAUTHN_LIB_SRCS := $(sort $(wildcard lib/webauthn/*.c))
WEBAUTHN_B        := $(BUILD)/lib/webauthn
WEBAUTHN_LIB      := $(WEBAUTHN_B)/libcapos_webauthn.a

$(WEBAUTHN_B):
	@mkdir -p $@

$(WEBAUTHN_B)/%.o: lib/webauthn/%.c $(WEBAUTHN_LIB_HDRS) | $(WEBAUTHN_B)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(WEBAUTHN_LIB): $(patsubst lib/webauthn/%.c,$(WEBAUTHN_B)/%.o,$(WEBAUTHN_LIB_SRCS))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

all: $(WEBAUTHN_LIB)
