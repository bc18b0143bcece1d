# Benchmarks: every bench/cases/<name>.c is built twice, as the capOS
# program bench-<name> (packed with init and the proof program into build/bench.pkg) and as a static
# Linux program for the baseline guest; bench/run.py runs both guests under
# -icount shift=0 and prints the pairs side by side, then runs both again on
# two CPUs under -accel tcg,thread=multi for the wall-clock "mt-" rows (a
# contended mutex, the 2-thread speed-up: bench/cases/smp.c). Adding a
# benchmark pair is adding one file under bench/cases/.
BENCH_CASES := $(basename $(notdir $(wildcard bench/cases/*.c)))
BENCH_CAPOS := $(addprefix $(BUILD)/bench/capos/bench-,$(BENCH_CASES))
BENCH_LINUX := $(addprefix $(BUILD)/bench/linux/,$(BENCH_CASES))
BENCH_PKG   := $(BUILD)/bench.pkg

# RT_OBJS is defined by user/module.mk, which make reads after this file:
# expand it when the rule runs, not now.
.SECONDEXPANSION:
$(BUILD)/bench/capos/bench-%: bench/cases/%.c bench/bench.h $$(RT_OBJS) $$(GUEST_GEN_OBJ) user/rt/user.ld
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(USER_CC) $(USER_CFLAGS) -D__capos__ -c $< -o $@.o
	$(call say,LD,$@)$(USER_CC) $(USER_LDFLAGS) -o $@ $@.o $(RT_OBJS) $(GUEST_GEN_OBJ) $(LIBSODIUM) -lgcc

$(BUILD)/bench/linux/%: bench/cases/%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) -O2 -static -pthread -o $@ $< -lsodium

# The bench image: init starts the proof program (tests/guest) in mode
# "bench bench-<case>...", which runs each case in turn.
# bench/cases itself: a case added or removed changes the list
$(BUILD)/bench/bench.manifest: tests/guest/proof.manifest bench/cases
	@mkdir -p $(dir $@)
	@sed 's/@ARGS@/bench $(addprefix bench-,$(BENCH_CASES))/' $< > $@
$(BUILD)/bench/manifest.bin: $(BUILD)/bench/bench.manifest $$(MKMANIFEST)
	$(call say,MANIFEST,$@)$(MKMANIFEST) $< $@
$(BENCH_PKG): $(BUILD)/user/init $(BUILD)/guest/proof $(BUILD)/user/model $(BENCH_CAPOS) $(BUILD)/bench/manifest.bin $$(MKPKG)
	$(call say,PKG,$@)$(MKPKG) $@ manifest=$(BUILD)/bench/manifest.bin init=$(BUILD)/user/init \
	    proof=$(BUILD)/guest/proof model=$(BUILD)/user/model $(foreach b,$(BENCH_CAPOS),$(notdir $(b))=$(b))

.PHONY: bench-guests
## bench-guests                 capOS against a Linux guest under -icount (make bench)
bench-guests: $(BENCH_PKG) $(BENCH_LINUX) $(KERNEL_BIN)
	$(call say,TEST,$@)$(PYTHON) bench/run.py $(BENCH_CASES)
BENCHES += bench-guests

$(BUILD)/bench/linux_init: bench/linux_init.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) -O2 -static -o $@ $<
bench-guests: $(BUILD)/bench/linux_init $(BOOTPKG)
