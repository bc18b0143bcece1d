# lib/tls: sans-IO TLS 1.2 server over Debian's static BearSSL (issue 17).
# The development certificate (ECDSA P-256, NOT FOR PRODUCTION) is made at
# build time under $(BUILD)/tls-dev.  Its tests: tests/web.
TLS_LIB_HDRS := $(wildcard lib/tls/*.h)
TLS_LIB_SRCS := $(sort $(wildcard lib/tls/*.c))
TLS_B        := $(BUILD)/lib/tls
TLS_LIB      := $(TLS_B)/libcapos_tls.a
TLS_DEV      := $(BUILD)/tls-dev
TLS_DEV_CERT := $(TLS_DEV)/dev-cert.pem

$(TLS_B) $(TLS_DEV):
	@mkdir -p $@

$(TLS_B)/%.o: lib/tls/%.c $(TLS_LIB_HDRS) | $(TLS_B)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(TLS_LIB): $(patsubst lib/tls/%.c,$(TLS_B)/%.o,$(TLS_LIB_SRCS))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# A development-only self-signed ECDSA P-256 certificate for localhost and
# 127.0.0.1 (NON-PRODUCTION: a fresh key each build, never trusted beyond the tests).
$(TLS_DEV_CERT): | $(TLS_DEV)
	$(call say,GEN,$@)openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout $(TLS_DEV)/dev-key.pem -out $@ -days 30 -subj "/O=capOS development (NOT FOR PRODUCTION)/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null && \
	openssl x509 -in $@ -outform DER -out $(TLS_DEV)/dev-cert.der && \
	openssl pkey -in $(TLS_DEV)/dev-key.pem -outform DER -out $(TLS_DEV)/dev-key.der

all: $(TLS_LIB) $(TLS_DEV_CERT)
