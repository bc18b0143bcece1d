# lib/ssh: sans-IO SSH-2 server library (issue 6).
SSH_LIB_HDRS := $(wildcard lib/ssh/*.h)
SSH_LIB_SRCS := lib/ssh/ssh_server.c lib/ssh/ssh_crypto.c
SSH_B        := $(BUILD)/lib/ssh
SSH_LIB      := $(SSH_B)/libcapos_ssh.a
# Debian's static libsodium
SODIUM_LIBS  := -l:libsodium.a
SSH_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SSHC_SRCS    := lib/ssh/test/sshc.c
SSHC_HDRS    := lib/ssh/test/sshc.h

$(SSH_B):
	@mkdir -p $@

$(SSH_B)/%.o: lib/ssh/%.c $(SSH_LIB_HDRS) | $(SSH_B)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(SSH_LIB): $(SSH_B)/ssh_server.o $(SSH_B)/ssh_crypto.o
	ar rcs $@ $^

# Unit tests run under ASan/UBSan.
$(SSH_B)/test_ssh: lib/ssh/test/test_ssh.c $(SSHC_SRCS) $(SSHC_HDRS) $(SSH_LIB_SRCS) $(SSH_LIB_HDRS) | $(SSH_B)
	$(HOST_CC) $(HOST_CFLAGS) -O1 $(SSH_SAN) -Ilib/ssh lib/ssh/test/test_ssh.c $(SSHC_SRCS) $(SSH_LIB_SRCS) $(SODIUM_LIBS) -o $@

.PHONY: ssh-unit
ssh-unit: $(SSH_B)/test_ssh
	$(SSH_B)/test_ssh

all: $(SSH_LIB)
HOST_TESTS += ssh-unit
