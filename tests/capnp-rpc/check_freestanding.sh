#!/bin/sh
# lib/capnp-rpc must run in the guest: built freestanding (no libc headers,
# no SSE, as kernel-adjacent code is), it may need nothing from outside but
# lib/capnp and the memory functions the guest runtime provides.
set -eu
out=$1
mkdir -p "$out"
inc=$(gcc -print-file-name=include)
for f in lib/capnp-rpc/*.c lib/capnp/*.c; do
    gcc -std=gnu11 -O2 -ffreestanding -fno-builtin -nostdinc -isystem "$inc" \
        -mgeneral-regs-only -mno-red-zone -fno-stack-protector \
        -Wall -Wextra -Werror -Wno-unused-parameter -Ilib/capnp-rpc -Ilib/capnp \
        -c "$f" -o "$out/$(basename "$(dirname "$f")")-$(basename "$f").o"
done
ld -r -o "$out/lib-capnp-rpc.o" "$out"/*.c.o
bad=$(nm -u "$out/lib-capnp-rpc.o" | awk 'NF == 2 {print $2}' | sort -u |
      grep -v -E '^(memcpy|memset|memcmp|memmove|strlen)$' || true)
if [ -n "$bad" ]; then
    echo "test-capnp-rpc-freestanding: FAIL: lib/capnp-rpc needs symbols the guest does not provide: $bad"
    exit 1
fi
echo "test-capnp-rpc-freestanding: 1 passed, 0 failed"
