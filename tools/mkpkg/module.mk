MKPKG := $(BUILD)/tools/mkpkg
$(MKPKG): tools/mkpkg/mkpkg.c abi/capos/bootpkg.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) $(HOST_CFLAGS) -Iabi -o $@ $<
