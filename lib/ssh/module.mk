# lib/ssh: sans-IO SSH-2 server library (issue 6).  Its tests: tests/ssh.
SSH_LIB_HDRS := $(wildcard lib/ssh/*.h)
SSH_LIB_SRCS := $(sort $(wildcard lib/ssh/*.c))
SSH_B        := $(BUILD)/lib/ssh
SSH_LIB      := $(SSH_B)/libcapos_ssh.a
# Debian's static libsodium
SODIUM_LIBS  := -l:libsodium.a

$(SSH_B):
	@mkdir -p $@

$(SSH_B)/%.o: lib/ssh/%.c $(SSH_LIB_HDRS) | $(SSH_B)
	$(call say,CC,$<)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(SSH_LIB): $(patsubst lib/ssh/%.c,$(SSH_B)/%.o,$(SSH_LIB_SRCS))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

all: $(SSH_LIB)
