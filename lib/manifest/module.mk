# lib/manifest: decode and validate the boot manifest, compute spawn order.
#
# Exports:
#   MANIFEST_INC   include flags for manifest.h and what its sources include
#                  (add -I$(BUILD)/gen for the generated capos.capnp.h)
#   MANIFEST_SRCS  the library's sources; a build of it also needs
#                  lib/capnp, lib/fmt/fmt.c and $(BUILD)/gen/capos.capnp.c
#
# The generated header is made by tools/capnpc-c's rule; name it by path
# ($(BUILD)/gen/capos.capnp.h) in prerequisites.

MANIFEST_INC  := -Ilib/manifest -Ilib/capnp -Ilib/fmt
MANIFEST_SRCS := $(sort $(wildcard lib/manifest/*.c))
MANIFEST_HDRS := $(wildcard lib/manifest/*.h)

# Freestanding build check, with the flags lib/capnp's check uses (no libc
# headers, no SSE, no red zone): lib/manifest plus lib/fmt, which it calls.
MANIFEST_FS_OBJS := $(patsubst lib/manifest/%.c,$(BUILD)/manifest/freestanding/%.o,$(MANIFEST_SRCS)) \
	$(BUILD)/manifest/freestanding/fmt.o

$(BUILD)/manifest/freestanding/%.o: lib/manifest/%.c $(MANIFEST_HDRS) $(BUILD)/gen/capos.capnp.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(CAPNP_FREESTANDING_CFLAGS) $(MANIFEST_INC) -I$(BUILD)/gen -c $< -o $@

$(BUILD)/manifest/freestanding/fmt.o: lib/fmt/fmt.c lib/fmt/fmt.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) $(CAPNP_FREESTANDING_CFLAGS) -Ilib/fmt -c $< -o $@
