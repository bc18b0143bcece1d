.PHONY: test-storage
## test-storage                 QEMU: the virtio-blk driver: sectors byte-exact on a raw image, flush, refusals, its caps
test-storage: all
	$(call say,TEST,$@)$(PYTHON) tests/storage/test_storage.py
QEMU_TESTS += test-storage

# Host tests of lib/store (the store's format): a simulated disk that loses
# power at any write or flush, damage detection, bounds, a full disk; a
# libFuzzer run over images; the library builds freestanding.
STORE_T      := $(BUILD)/store-tests
STORE_SRCS   := lib/store/store.c
STORE_HDRS   := lib/store/store.h
STORE_T_SAN  := -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wno-unused-parameter -Ilib
STORE_CRASH_RUNS ?= 3000
STORE_FUZZ_TIME  ?= 10

$(STORE_T)/test_store: tests/storage/test_store.c $(STORE_SRCS) $(STORE_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(STORE_T_SAN) $< $(STORE_SRCS) -o $@

$(STORE_T)/fuzz_store: tests/storage/fuzz_store.c $(STORE_SRCS) $(STORE_HDRS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter -Ilib $< $(STORE_SRCS) -o $@

$(STORE_T)/free/store.o: lib/store/store.c $(STORE_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding \
		-fno-builtin -nostdinc -isystem $(shell $(HOST_CC) -print-file-name=include) -c $< -o $@

.PHONY: test-store test-store-fuzz test-store-freestanding
## test-store                   lib/store on a simulated disk: thousands of power losses (torn sectors too), damage, bounds, full disk
test-store: $(STORE_T)/test_store
	$(call say,TEST,$@)$(STORE_T)/test_store $(STORE_CRASH_RUNS)

## test-store-fuzz              a short libFuzzer run of lib/store opening damaged and random images
test-store-fuzz: $(STORE_T)/fuzz_store
	@mkdir -p $(STORE_T)/fuzz-corpus
	@$(STORE_T)/fuzz_store -max_total_time=$(STORE_FUZZ_TIME) -max_len=4096 -rss_limit_mb=2048 \
		-artifact_prefix=$(STORE_T)/ $(STORE_T)/fuzz-corpus > $(STORE_T)/fuzz.log 2>&1 \
		|| { tail -n 60 $(STORE_T)/fuzz.log; echo "store-fuzz: 0 passed, 1 failed"; exit 1; }
	@grep -E '^#[0-9]+.*DONE' $(STORE_T)/fuzz.log | tail -n 1
	@echo "store-fuzz: 1 passed, 0 failed"

# `make fuzz-store SECONDS=N` (STORE_FUZZ_TIME= on the command line still sets it); no
# seed corpus: the target builds its images from the input
FUZZ_TARGETS += store
FUZZ_BIN_store := $(STORE_T)/fuzz_store
FUZZ_ARGS_store := -max_len=4096 -rss_limit_mb=2048
FUZZ_TIME_store = $(if $(filter command line environment,$(origin STORE_FUZZ_TIME)),$(STORE_FUZZ_TIME))

## test-store-freestanding      lib/store builds freestanding, needs only memcpy/memset/memcmp
test-store-freestanding: $(STORE_T)/free/store.o
	@bad=$$(nm -u $< | awk '{print $$2}' | grep -vxE 'memcpy|memset|memcmp'); \
	if [ -n "$$bad" ]; then echo "store-freestanding: FAIL: unexpected symbols: $$bad"; exit 1; fi; \
	echo "store-freestanding: 1 passed, 0 failed"

HOST_TESTS += test-store test-store-fuzz test-store-freestanding

.PHONY: test-store-qemu
## test-store-qemu              QEMU: the store on virtio-blk: reboot, kills at random moments, torn tail, damage, full disk, namespaces
test-store-qemu: all
	$(call say,TEST,$@)$(PYTHON) tests/storage/test_store_qemu.py
QEMU_TESTS += test-store-qemu

.PHONY: test-store-credentials
## test-store-credentials       QEMU: the CredentialStore on the store: setup, reboot, log in with the same password
test-store-credentials: all
	$(call say,TEST,$@)$(PYTHON) tests/storage/test_store_credentials.py
QEMU_TESTS += test-store-credentials

.PHONY: test-store-run
## test-store-run               QEMU: the default system on a kept disk: setup, reboot, log in; an account and an SSH key survive a reboot
test-store-run: all
	$(call say,TEST,$@)$(PYTHON) tests/storage/test_store_run.py
QEMU_TESTS += test-store-run
