#!/bin/sh
# lib/http, lib/ws, lib/tls and lib/webauthn must run in the guest: built
# freestanding, they may need nothing from outside but BearSSL (br_*), libsodium's
# Ed25519 verification (lib/webauthn only) and the memory/string functions the
# guest runtime provides (lib/c).
set -eu
out=$1
shift
mkdir -p "$out"
for d in "$@"; do
    for f in lib/$d/*.c; do
        gcc -std=gnu11 -O2 -ffreestanding -fno-builtin -fno-stack-protector -mno-red-zone \
            -Wall -Werror -Ilib/http -Ilib/ws -Ilib/tls -Ilib/webauthn -c "$f" -o "$out/$d-$(basename "$f").o"
    done
done
ld -r -o "$out/lib-web.o" "$out"/*.c.o
bad=$(nm -u "$out/lib-web.o" | awk 'NF == 2 {print $2}' | sort -u |
      grep -v -E '^(memcpy|memset|memcmp|memmove|strlen|strchr|strcmp|strncmp|br_[a-z0-9_]+|crypto_sign_verify_detached|crypto_core_ed25519_is_valid_point)$' || true)
if [ -n "$bad" ]; then
    echo "test-web-freestanding: FAIL: $* need symbols the guest does not provide: $bad"
    exit 1
fi
echo "test-web-freestanding: 1 passed, 0 failed"
