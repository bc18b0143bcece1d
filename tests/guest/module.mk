# tests/guest: the guest side of the QEMU proofs. Every folder is a test
# program (build/guest/<name>), built like a program of user/ but packed only
# into test images (tests/lib/capos_qemu.py boot_package), never into the
# default image. proof/ is the program a test manifest starts to run a proof.
# include/ holds what several programs link (authority.c), not a program.
GUEST_PROGS := $(filter-out include,$(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tests/guest/*/*.c))))))
GUEST_BINS  := $(addprefix $(BUILD)/guest/,$(GUEST_PROGS))
EXTRA_cryptotest := $(LIBSODIUM)
EXTRA_sshauth-client := $(LIBSODIUM)
# The test-only schema (capos_test.capnp: IpcProbe) is linked into every
# test program; its header exists before any of them compiles.
GUEST_GEN_H   := $(BUILD)/gen/capos_test.capnp.h
GUEST_GEN_OBJ := $(BUILD)/uobj/gen/capos_test.capnp.c.o
$(GUEST_GEN_OBJ): $(BUILD)/gen/capos_test.capnp.c $(GUEST_GEN_H) $(CAPOS_GEN_H)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(USER_CC) $(USER_CFLAGS) -c $< -o $@
$(patsubst %,$(BUILD)/uobj/%.o,$(wildcard tests/guest/*/*.c)): | $(GUEST_GEN_H)
$(foreach p,$(GUEST_PROGS),$(eval EXTRA_$(p) += $(GUEST_GEN_OBJ)))
GUEST_AUTHORITY_OBJ := $(BUILD)/uobj/tests/guest/include/authority.c.o
$(foreach p,proof svcctl tcpecho,$(eval EXTRA_$(p) += $(GUEST_AUTHORITY_OBJ)))
$(foreach p,$(GUEST_PROGS),$(eval $(call user_prog,tests/guest,guest,$(p))))

# The default image holds no test program, and init no test mode.
.PHONY: test-image-product
## test-image-product           the default image holds no test program, init no test mode
test-image-product: $(BOOTPKG) $(BUILD)/user/init
	$(call say,TEST,$@)$(PYTHON) tests/guest/check_product.py
all: $(GUEST_BINS)
HOST_TESTS += test-image-product
