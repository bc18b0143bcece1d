# host/web-devserver: lib/http and lib/ws over real TCP (static files, upload, WebSocket echo).
WEB_DEVSERVER := $(BUILD)/host/web-devserver/web-devserver

$(WEB_DEVSERVER): host/web-devserver/main.c $(HTTP_LIB) $(WS_LIB) $(TLS_LIB) $(TLS_LIB_HDRS) $(HTTP_LIB_HDRS) $(WS_LIB_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib/http -Ilib/ws -Ilib/tls host/web-devserver/main.c $(TLS_LIB) $(WS_LIB) $(HTTP_LIB) $(BEARSSL_LIBS) -o $@

all: $(WEB_DEVSERVER)
