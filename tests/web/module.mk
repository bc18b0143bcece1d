# tests/web: lib/http and lib/ws's tests.  unit/ (the libraries in memory,
# hostile tables fed whole and byte by byte), fuzz/ (libFuzzer, seeds in the
# tree), the freestanding check, and real peers (curl, Python websockets,
# headless Chromium, hostile raw clients) against host/web-devserver on loopback.
WEB_T      := $(BUILD)/tests/web
WEB_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
WEB_TEST_I := -Ilib/http -Ilib/ws -Ilib/tls
WEB_FUZZ_TIME ?= 300
WEB_FUZZ_SMOKE_TIME ?= 15

$(WEB_T):
	@mkdir -p $@

# Unit tests run under ASan/UBSan.
$(WEB_T)/test_http: tests/web/unit/test_http.c $(HTTP_LIB_SRCS) $(HTTP_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -O1 $(WEB_SAN) $(WEB_TEST_I) tests/web/unit/test_http.c $(HTTP_LIB_SRCS) -o $@

.PHONY: test-http-unit
## test-http-unit               lib/http: valid requests, smuggling/limit/timeout tables (ASan/UBSan)
test-http-unit: $(WEB_T)/test_http
	$(call say,TEST,$@)$(WEB_T)/test_http
HOST_TESTS += test-http-unit

# libFuzzer targets: a short smoke in `make test`, `make fuzz-http SECONDS=N` (and
# fuzz-ws, fuzz-tls) for long runs (WEB_FUZZ_TIME= still sets their default).
$(WEB_T)/fuzz_http: tests/web/fuzz/fuzz_http.c $(HTTP_LIB_SRCS) $(HTTP_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) $(WEB_TEST_I) tests/web/fuzz/fuzz_http.c $(HTTP_LIB_SRCS) -o $@

.PHONY: test-http-fuzz
## test-http-fuzz               a short libFuzzer run of lib/http
test-http-fuzz: $(WEB_T)/fuzz_http
	@rm -rf $(WEB_T)/fuzz-http-corpus && mkdir -p $(WEB_T)/fuzz-http-corpus
	$(call say,TEST,$@)$(WEB_T)/fuzz_http -max_total_time=$(WEB_FUZZ_SMOKE_TIME) -seed=1 -max_len=4096 -print_final_stats=1 \
	    $(WEB_T)/fuzz-http-corpus tests/web/fuzz/seeds-http 2>$(WEB_T)/fuzz-http.log || { tail -60 $(WEB_T)/fuzz-http.log; exit 1; }
	@grep -E "stat::number_of_executed_units" $(WEB_T)/fuzz-http.log | tail -1
	@echo "http fuzz smoke: 1 passed, 0 failed"
HOST_TESTS += test-http-fuzz

FUZZ_TARGETS += http
FUZZ_BIN_http := $(WEB_T)/fuzz_http
FUZZ_SEEDS_http := tests/web/fuzz/seeds-http
FUZZ_ARGS_http := -max_len=16384
FUZZ_TIME_http = $(WEB_FUZZ_TIME)

.PHONY: test-web-freestanding
## test-web-freestanding        lib/http, lib/ws, lib/tls and lib/webauthn need only what the guest provides
test-web-freestanding:
	@./tests/web/check_freestanding.sh $(BUILD)/web/freestanding $(WEB_FREESTANDING_LIBS)
HOST_TESTS += test-web-freestanding
WEB_FREESTANDING_LIBS := http ws tls webauthn

# lib/ws
$(WEB_T)/test_ws: tests/web/unit/test_ws.c $(WS_LIB_SRCS) $(WS_LIB_HDRS) $(HTTP_LIB_SRCS) $(HTTP_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -O1 $(WEB_SAN) $(WEB_TEST_I) tests/web/unit/test_ws.c $(WS_LIB_SRCS) $(HTTP_LIB_SRCS) $(BEARSSL_LIBS) -o $@

.PHONY: test-ws-unit
## test-ws-unit                 lib/ws: handshake, frames, hostile frame and UTF-8 tables, send queue (ASan/UBSan)
test-ws-unit: $(WEB_T)/test_ws
	$(call say,TEST,$@)$(WEB_T)/test_ws
HOST_TESTS += test-ws-unit

$(WEB_T)/fuzz_ws: tests/web/fuzz/fuzz_ws.c $(WS_LIB_SRCS) $(WS_LIB_HDRS) $(HTTP_LIB_SRCS) $(HTTP_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) $(WEB_TEST_I) tests/web/fuzz/fuzz_ws.c $(WS_LIB_SRCS) $(HTTP_LIB_SRCS) $(BEARSSL_LIBS) -o $@

.PHONY: test-ws-fuzz
## test-ws-fuzz                 a short libFuzzer run of lib/ws
test-ws-fuzz: $(WEB_T)/fuzz_ws
	@rm -rf $(WEB_T)/fuzz-ws-corpus && mkdir -p $(WEB_T)/fuzz-ws-corpus
	$(call say,TEST,$@)$(WEB_T)/fuzz_ws -max_total_time=$(WEB_FUZZ_SMOKE_TIME) -seed=1 -max_len=4096 -print_final_stats=1 \
	    $(WEB_T)/fuzz-ws-corpus tests/web/fuzz/seeds-ws 2>$(WEB_T)/fuzz-ws.log || { tail -60 $(WEB_T)/fuzz-ws.log; exit 1; }
	@grep -E "stat::number_of_executed_units" $(WEB_T)/fuzz-ws.log | tail -1
	@echo "ws fuzz smoke: 1 passed, 0 failed"
HOST_TESTS += test-ws-fuzz

FUZZ_TARGETS += ws
FUZZ_BIN_ws := $(WEB_T)/fuzz_ws
FUZZ_SEEDS_ws := tests/web/fuzz/seeds-ws
FUZZ_ARGS_ws := -max_len=65536
FUZZ_TIME_ws = $(WEB_FUZZ_TIME)

# The interop harness drives a dev server built with ASan/UBSan (aborts on any finding).
WEB_DEVSERVER_SAN := $(WEB_T)/web-devserver-asan

$(WEB_DEVSERVER_SAN): $(WEB_DEVSERVER_SRCS) host/web-devserver/passkey.h $(HTTP_LIB_SRCS) $(HTTP_LIB_HDRS) $(WS_LIB_SRCS) $(WS_LIB_HDRS) \
    $(TLS_LIB_SRCS) $(TLS_LIB_HDRS) $(WEBAUTHN_LIB_SRCS) $(WEBAUTHN_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(WEB_SAN) $(WEB_DEVSERVER_I) $(WEB_DEVSERVER_SRCS) $(TLS_LIB_SRCS) $(WS_LIB_SRCS) \
	    $(HTTP_LIB_SRCS) $(WEBAUTHN_LIB_SRCS) $(BEARSSL_LIBS) $(SODIUM_LIBS) -o $@

# playwright-core from npm (tests/web/package-lock.json), driving /usr/bin/chromium; no browser download.
WEB_NPM_STAMP := tests/web/node_modules/.capos-installed

$(WEB_NPM_STAMP): tests/web/package.json tests/web/package-lock.json
	$(call say,NPM,playwright-core)cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent && touch node_modules/.capos-installed

.PHONY: web-npm test-web-interop
## web-npm                      install the browser test's npm tooling (playwright-core) under tests/web
web-npm: $(WEB_NPM_STAMP)

## test-web-interop             curl, Python websockets, openssl s_client, headless Chromium (pages, passkeys with a virtual authenticator) and hostile clients against the dev server on loopback
test-web-interop: $(WEB_DEVSERVER_SAN) $(WEB_NPM_STAMP) $(TLS_DEV_CERT)
	$(call say,TEST,$@)$(PYTHON) tests/web/run_tests.py $(BUILD) $(WEB_DEVSERVER_SAN) tests/web $(TLS_DEV)
HOST_TESTS += test-web-interop

# lib/tls: an in-memory handshake against a BearSSL client, with the development certificate.
$(WEB_T)/test_tls: tests/web/unit/test_tls.c $(TLS_LIB_SRCS) $(TLS_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -O1 $(WEB_SAN) $(WEB_TEST_I) tests/web/unit/test_tls.c $(TLS_LIB_SRCS) $(BEARSSL_LIBS) -o $@

.PHONY: test-tls-unit
## test-tls-unit                lib/tls: handshake, data both ways, back-pressure, close_notify, plaintext refused (ASan/UBSan)
test-tls-unit: $(WEB_T)/test_tls $(TLS_DEV_CERT)
	$(call say,TEST,$@)$(WEB_T)/test_tls $(TLS_DEV)/dev-cert.der $(TLS_DEV)/dev-key.der
HOST_TESTS += test-tls-unit

$(WEB_T)/fuzz_tls: tests/web/fuzz/fuzz_tls.c $(TLS_LIB_SRCS) $(TLS_LIB_HDRS) | $(WEB_T)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) $(WEB_TEST_I) tests/web/fuzz/fuzz_tls.c $(TLS_LIB_SRCS) $(BEARSSL_LIBS) -o $@

.PHONY: test-tls-fuzz
## test-tls-fuzz                a short libFuzzer run of lib/tls (client records from a real ClientHello on)
test-tls-fuzz: $(WEB_T)/fuzz_tls
	@rm -rf $(WEB_T)/fuzz-tls-corpus && mkdir -p $(WEB_T)/fuzz-tls-corpus
	$(call say,TEST,$@)$(WEB_T)/fuzz_tls -max_total_time=$(WEB_FUZZ_SMOKE_TIME) -seed=1 -max_len=4096 -print_final_stats=1 \
	    $(WEB_T)/fuzz-tls-corpus tests/web/fuzz/seeds-tls 2>$(WEB_T)/fuzz-tls.log || { tail -60 $(WEB_T)/fuzz-tls.log; exit 1; }
	@grep -E "stat::number_of_executed_units" $(WEB_T)/fuzz-tls.log | tail -1
	@echo "tls fuzz smoke: 1 passed, 0 failed"
HOST_TESTS += test-tls-fuzz

FUZZ_TARGETS += tls
FUZZ_BIN_tls := $(WEB_T)/fuzz_tls
FUZZ_SEEDS_tls := tests/web/fuzz/seeds-tls
FUZZ_ARGS_tls := -max_len=16384
FUZZ_TIME_tls = $(WEB_FUZZ_TIME)

# lib/webauthn: a software authenticator (tests/web/unit/wa_authenticator.h) against the library.
WA_TEST_I := -Ilib/webauthn -Itests/web/unit
WA_TEST_DEPS := $(WEBAUTHN_LIB_SRCS) $(WEBAUTHN_LIB_HDRS) tests/web/unit/wa_authenticator.h tests/web/fuzz/fuzz_webauthn_fixture.h

$(WEB_T)/test_webauthn: tests/web/unit/test_webauthn.c $(WA_TEST_DEPS) | $(WEB_T)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -O1 $(WEB_SAN) $(WA_TEST_I) tests/web/unit/test_webauthn.c $(WEBAUTHN_LIB_SRCS) $(BEARSSL_LIBS) $(SODIUM_LIBS) -o $@

.PHONY: test-webauthn-unit
## test-webauthn-unit           lib/webauthn: ceremonies, every refusal's reason, hostile CBOR/JSON, challenges, rate limits (ASan/UBSan)
test-webauthn-unit: $(WEB_T)/test_webauthn
	$(call say,TEST,$@)$(WEB_T)/test_webauthn
HOST_TESTS += test-webauthn-unit

$(WEB_T)/fuzz_webauthn: tests/web/fuzz/fuzz_webauthn.c $(WA_TEST_DEPS) | $(WEB_T)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) $(WA_TEST_I) tests/web/fuzz/fuzz_webauthn.c $(WEBAUTHN_LIB_SRCS) $(BEARSSL_LIBS) $(SODIUM_LIBS) -o $@

.PHONY: test-webauthn-fuzz
## test-webauthn-fuzz           a short libFuzzer run of lib/webauthn (from valid ceremonies on)
test-webauthn-fuzz: $(WEB_T)/fuzz_webauthn
	@rm -rf $(WEB_T)/fuzz-webauthn-corpus && mkdir -p $(WEB_T)/fuzz-webauthn-corpus
	$(call say,TEST,$@)$(WEB_T)/fuzz_webauthn -max_total_time=$(WEB_FUZZ_SMOKE_TIME) -seed=1 -max_len=4096 -print_final_stats=1 \
	    $(WEB_T)/fuzz-webauthn-corpus tests/web/fuzz/seeds-webauthn 2>$(WEB_T)/fuzz-webauthn.log || { tail -60 $(WEB_T)/fuzz-webauthn.log; exit 1; }
	@grep -E "stat::number_of_executed_units" $(WEB_T)/fuzz-webauthn.log | tail -1
	@echo "webauthn fuzz smoke: 1 passed, 0 failed"
HOST_TESTS += test-webauthn-fuzz

FUZZ_TARGETS += webauthn
FUZZ_BIN_webauthn := $(WEB_T)/fuzz_webauthn
FUZZ_SEEDS_webauthn := tests/web/fuzz/seeds-webauthn
FUZZ_ARGS_webauthn := -max_len=8192
FUZZ_TIME_webauthn = $(WEB_FUZZ_TIME)
