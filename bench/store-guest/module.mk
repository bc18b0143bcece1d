# bench/store-guest: the store (user/store on user/virtio-blk) against ext4
# with fsync in the Linux baseline guest, both on the same virtio-blk-pci
# device flags and a raw image under build/bench-store: commits per second
# (64-byte values, flushed each), sequential write and read MB/s.
.PHONY: bench-store-guest
## bench-store-guest            the store on virtio-blk vs ext4 + fsync in the Linux guest: commits/s, sequential write and read MB/s (make bench)
bench-store-guest: all $(BUILD)/bench/linux_store
	$(call say,TEST,$@)$(PYTHON) bench/store-guest/bench.py $(STORE_GUEST_COMMITS) $(STORE_GUEST_MIB) $(STORE_GUEST_DISK_MIB) $(STORE_GUEST_CACHE) $(STORE_GUEST_ROUNDS)

# commits in the commit row; MiB written, then read, in the sequential rows;
# the size of each guest's disk image; QEMU's cache mode for both images
# (writeback: a flush reaches the host's disk; unsafe: flushes are ignored);
# how many times each guest runs (a row is the median)
STORE_GUEST_COMMITS ?= 1000
STORE_GUEST_MIB ?= 3
STORE_GUEST_DISK_MIB ?= 32
STORE_GUEST_CACHE ?= writeback
STORE_GUEST_ROUNDS ?= 3
BENCHES += bench-store-guest

$(BUILD)/bench/linux_store: bench/store-guest/linux_store.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(HOST_CC) -O2 -static -Wall -Wextra -o $@ $<
