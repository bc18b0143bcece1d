# host/ssh-devserver: lib/ssh over real TCP with a demo shell.
# (paths spelled out: this file is included before lib/ssh/module.mk)
SSH_DEVSERVER := $(BUILD)/host/ssh-devserver/ssh-devserver

$(SSH_DEVSERVER): host/ssh-devserver/main.c $(BUILD)/lib/ssh/libcapos_ssh.a $(wildcard lib/ssh/*.h)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Ilib/ssh host/ssh-devserver/main.c $(BUILD)/lib/ssh/libcapos_ssh.a -l:libsodium.a -o $@

all: $(SSH_DEVSERVER)
