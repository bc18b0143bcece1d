# host/web-devserver: lib/http, lib/ws, lib/tls and lib/webauthn over real TCP
# (static files, upload, WebSocket echo, passkey registration and login).
WEB_DEVSERVER := $(BUILD)/host/web-devserver/web-devserver
WEB_DEVSERVER_SRCS := host/web-devserver/main.c host/web-devserver/passkey.c
WEB_DEVSERVER_I := -Ilib/http -Ilib/ws -Ilib/tls -Ilib/webauthn

$(WEB_DEVSERVER): $(WEB_DEVSERVER_SRCS) host/web-devserver/passkey.h $(HTTP_LIB) $(WS_LIB) $(TLS_LIB) $(WEBAUTHN_LIB) \
    $(TLS_LIB_HDRS) $(HTTP_LIB_HDRS) $(WS_LIB_HDRS) $(WEBAUTHN_LIB_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) $(WEB_DEVSERVER_I) $(WEB_DEVSERVER_SRCS) $(TLS_LIB) $(WS_LIB) $(HTTP_LIB) $(WEBAUTHN_LIB) \
	    $(BEARSSL_LIBS) $(SODIUM_LIBS) -o $@

all: $(WEB_DEVSERVER)
