#!/bin/sh
# lib/ssh must run in the guest: built freestanding, it may need nothing from
# outside but libsodium and the memory/string functions the guest runtime
# provides (lib/c).
set -eu
out=$1
shift
mkdir -p "$out"
for f in lib/ssh/*.c; do
    gcc -std=gnu11 -O2 -ffreestanding -fno-builtin -fno-stack-protector -mno-red-zone \
        -Wall -Werror -Ilib/ssh -c "$f" -o "$out/$(basename "$f").o"
done
ld -r -o "$out/lib-ssh.o" "$out"/ssh_*.c.o
bad=$(nm -u "$out/lib-ssh.o" | awk 'NF == 2 {print $2}' | sort -u |
      grep -v -E '^(memcpy|memset|memcmp|memmove|strlen|strchr|strcmp|strncmp|sodium_[a-z0-9_]+|crypto_[a-z0-9_]+|randombytes_[a-z0-9_]+)$' || true)
if [ -n "$bad" ]; then
    echo "test-ssh-freestanding: FAIL: lib/ssh needs symbols the guest does not provide: $bad"
    exit 1
fi
echo "test-ssh-freestanding: 1 passed, 0 failed"
