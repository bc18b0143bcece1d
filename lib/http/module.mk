# lib/http: sans-IO HTTP/1.1 server side (issue 17).  Its tests: tests/web.
HTTP_LIB_HDRS := $(wildcard lib/http/*.h)
HTTP_LIB_SRCS := $(sort $(wildcard lib/http/*.c))
HTTP_B        := $(BUILD)/lib/http
HTTP_LIB      := $(HTTP_B)/libcapos_http.a

$(HTTP_B):
	@mkdir -p $@

$(HTTP_B)/%.o: lib/http/%.c $(HTTP_LIB_HDRS) | $(HTTP_B)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(HTTP_LIB): $(patsubst lib/http/%.c,$(HTTP_B)/%.o,$(HTTP_LIB_SRCS))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

all: $(HTTP_LIB)
