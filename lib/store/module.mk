# lib/store: the store's on-disk format (freestanding, sans-IO). Host tests
# and the fuzzer live in tests/storage; user/store links it.
