# User space: the runtime (user/rt) and the programs packed into the boot image.
USER_CC     := gcc
USER_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
               -fno-builtin -fno-strict-aliasing -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
               -D__capos__ -Iabi -Ilib -Iuser -Ilib/capnp -I$(BUILD)/gen -MMD -MP
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,--no-dynamic-linker -Wl,-z,max-page-size=4096 \
                -Wl,-z,noexecstack -Wl,--build-id=none -T user/rt/user.ld
RT_SRCS     := $(wildcard user/rt/*.c) user/rt/crt0.S lib/c/string.c lib/fmt/fmt.c lib/alloc/alloc.c \
               $(wildcard lib/capnp/*.c)
RT_OBJS     := $(patsubst %,$(BUILD)/uobj/%.o,$(RT_SRCS)) $(BUILD)/uobj/gen/capos.capnp.c.o
# Programs that link Debian's static libsodium (the runtime's posix.c gives
# it what it needs from a libc)
LIBSODIUM := $(shell $(USER_CC) -print-file-name=libsodium.a)
EXTRA_credentials := $(LIBSODIUM)
EXTRA_accounts := $(LIBSODIUM)
EXTRA_hostkey := $(LIBSODIUM)
# the SSH gateway runs lib/ssh unchanged
EXTRA_ssh-gateway := $(LIBSODIUM) $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard lib/ssh/*.c))
$(BUILD)/uobj/lib/ssh/%.c.o: USER_CFLAGS += -Ilib/ssh
# the remote session CapSet gateway runs lib/capnp-rpc (and libsodium's randomness)
EXTRA_remote-capset-gateway := $(LIBSODIUM) $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard lib/capnp-rpc/*.c))
$(BUILD)/uobj/lib/capnp-rpc/%.c.o $(BUILD)/uobj/user/remote-capset-gateway/%.c.o: USER_CFLAGS += -Ilib/capnp-rpc
# the web shell gateway runs lib/http, lib/ws and lib/tls unchanged over
# Debian's static BearSSL, with its page (and xterm.js from npm, pinned in
# user/webshell-gateway/page/package-lock.json) and the development TLS
# certificate (NOT FOR PRODUCTION, lib/tls/module.mk) embedded at build time
WEBSHELL_B    := $(BUILD)/webshell
WEBSHELL_PAGE := user/webshell-gateway/page
WEBSHELL_NPM  := $(WEBSHELL_B)/npm/node_modules/.capos-installed
LIBBEARSSL    := $(shell $(USER_CC) -print-file-name=libbearssl.a)
EXTRA_webshell-gateway := $(LIBSODIUM) $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard lib/http/*.c lib/ws/*.c lib/tls/*.c)) \
                          $(WEBSHELL_B)/assets.o $(LIBBEARSSL)
$(BUILD)/uobj/lib/http/%.c.o $(BUILD)/uobj/lib/ws/%.c.o $(BUILD)/uobj/lib/tls/%.c.o \
$(BUILD)/uobj/user/webshell-gateway/%.c.o: USER_CFLAGS += -Ilib/http -Ilib/ws -Ilib/tls
$(WEBSHELL_NPM): $(WEBSHELL_PAGE)/package.json $(WEBSHELL_PAGE)/package-lock.json
	@mkdir -p $(WEBSHELL_B)/npm
	$(call say,NPM,@xterm/xterm)cp $^ $(WEBSHELL_B)/npm/ && cd $(WEBSHELL_B)/npm && \
	    npm ci --no-audit --no-fund --silent && touch node_modules/.capos-installed
# Files embedded in a program at build time: $(call incbin,PREFIX,NAME:FILE ...)
# writes an assembly file defining PREFIX_NAME and PREFIX_NAME_end around each.
incbin = ( echo '.section .rodata'; for a in $(2); do n=$${a%%:*}; f=$${a\#*:}; \
	    printf '.global $(1)_%s\n.global $(1)_%s_end\n.balign 16\n$(1)_%s:\n.incbin "%s"\n$(1)_%s_end:\n' \
	        $$n $$n $$n $$f $$n; done; echo '.section .note.GNU-stack,"",@progbits' )
# name in the image <- file: the page, xterm.js, the certificate (public;
# its key is the TLS key service's, user/tlskey)
WEBSHELL_ASSETS := index_html:$(WEBSHELL_PAGE)/index.html app_js:$(WEBSHELL_PAGE)/app.js \
    app_css:$(WEBSHELL_PAGE)/app.css xterm_js:$(WEBSHELL_B)/npm/node_modules/@xterm/xterm/lib/xterm.js \
    xterm_css:$(WEBSHELL_B)/npm/node_modules/@xterm/xterm/css/xterm.css \
    fit_js:$(WEBSHELL_B)/npm/node_modules/@xterm/addon-fit/lib/addon-fit.js
$(WEBSHELL_B)/assets.S: user/module.mk $(WEBSHELL_NPM) $(wildcard $(WEBSHELL_PAGE)/*)
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)$(call incbin,webshell,$(WEBSHELL_ASSETS)) > $@
$(WEBSHELL_B)/assets.o: $(WEBSHELL_B)/assets.S $(patsubst %,$(WEBSHELL_PAGE)/%,index.html app.js app.css)
	$(call say,AS,$<)$(USER_CC) -c $< -o $@
# the TLS key service (sign only) signs with BearSSL: the development
# certificate and its key (NOT FOR PRODUCTION, lib/tls/module.mk) embedded
TLSKEY_B := $(BUILD)/tlskey
EXTRA_tlskey := $(TLSKEY_B)/assets.o $(LIBBEARSSL)
$(TLSKEY_B)/assets.S: user/module.mk $(TLS_DEV_CERT)
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)$(call incbin,tlskey,cert_der:$(TLS_DEV)/dev-cert.der key_der:$(TLS_DEV)/dev-key.der) > $@
$(TLSKEY_B)/assets.o: $(TLSKEY_B)/assets.S $(TLS_DEV_CERT)
	$(call say,AS,$<)$(USER_CC) -c $< -o $@
# the session manager's passkey admission runs lib/webauthn (BearSSL's
# SHA-256 and ECDSA, libsodium's Ed25519)
EXTRA_session-manager := $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard lib/webauthn/*.c)) $(LIBBEARSSL) $(LIBSODIUM)
$(BUILD)/uobj/lib/webauthn/%.c.o $(BUILD)/uobj/user/session-manager/%.c.o: USER_CFLAGS += -Ilib/webauthn
# the network stack links lib/net (which uses libsodium's SipHash)
EXTRA_netstack := $(LIBSODIUM) $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard lib/net/*.c))
# the shell's agent mode hashes what it audits (keyed, never the content)
EXTRA_capos-shell := $(BUILD)/uobj/lib/siphash/siphash.c.o
# init also validates the boot manifest
# the store links lib/store
EXTRA_store := $(BUILD)/uobj/lib/store/store.c.o
EXTRA_init  := $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard lib/manifest/*.c))
$(BUILD)/uobj/user/init/%.c.o: USER_CFLAGS += -Ilib/manifest
$(BUILD)/uobj/lib/manifest/%.c.o: USER_CFLAGS += -Ilib/manifest -Ilib/fmt
# Every folder of user/ but the runtime is a program of the product.
USER_PROGS  := $(sort $(filter-out rt,$(notdir $(patsubst %/,%,$(dir $(wildcard user/*/*.c))))))

$(BUILD)/uobj/%.c.o: %.c | $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(USER_CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/uobj/gen/capos.capnp.c.o: $(BUILD)/gen/capos.capnp.c $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(USER_CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/uobj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(USER_CC) $(USER_CFLAGS) -c $< -o $@

# DIR/<prog>/*.c -> build/<out>/<prog>: user_prog(DIR,OUT,PROG); tests/guest
# builds its programs with the same rule. The linked program keeps its debug
# information in build/debug/<out>/<prog> (for gdb); what goes into a boot
# package is that without it: the package stays in guest memory for the
# system's life, and the debug sections are four fifths of each file.
define user_prog
$(BUILD)/debug/$(2)/$(3): $(patsubst %,$(BUILD)/uobj/%.o,$(wildcard $(1)/$(3)/*.c)) $$(EXTRA_$(3)) $(RT_OBJS) user/rt/user.ld
	@mkdir -p $$(dir $$@)
	$(call say,LD,$$@)$(USER_CC) $(USER_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(filter %.a,$$^) -lgcc
$(BUILD)/$(2)/$(3): $(BUILD)/debug/$(2)/$(3)
	@mkdir -p $$(dir $$@)
	$(call say,STRIP,$$@)objcopy --strip-debug $$< $$@
endef
$(foreach p,$(USER_PROGS),$(eval $(call user_prog,user,user,$(p))))

# The default image holds init and the programs its manifest names, nothing
# else (manifests/module.mk lists them: IMAGE_PROGS).
USER_BINS := $(addprefix $(BUILD)/user/,$(USER_PROGS))
BOOTPKG   := $(BUILD)/boot.pkg
$(BOOTPKG): $(addprefix $(BUILD)/user/,$(IMAGE_PROGS)) $(MKPKG) $(BUILD)/manifest.bin
	$(call say,PKG,$@)$(MKPKG) $@ manifest=$(BUILD)/manifest.bin $(foreach p,$(IMAGE_PROGS),$(p)=$(BUILD)/user/$(p))

all: $(BOOTPKG) $(USER_BINS)
-include $(shell find $(BUILD)/uobj -name '*.d' 2>/dev/null)
