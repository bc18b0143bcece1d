#!/bin/sh
# The freestanding objects of lib/manifest (with lib/fmt, lib/capnp and the
# code generated for the schema, which it calls) may need nothing from
# outside but what the guest runtime provides.
set -eu
allowed="memcpy memset memcmp strlen"
defined=$(nm --defined-only "$@" | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$(nm -u "$@" | awk 'NF == 2 { print $2 }' | sort -u)
bad=""
for s in $undefined; do
    if echo "$defined" | grep -qx "$s"; then continue; fi
    case " $allowed " in *" $s "*) continue;; esac
    bad="$bad $s"
done
if [ -n "$bad" ]; then
    echo "manifest-freestanding: FAIL: undefined symbols:$bad"
    echo "manifest-freestanding: 0 passed, 1 failed"
    exit 1
fi
echo "manifest-freestanding: $# objects, no outside symbols beyond: $allowed"
echo "manifest-freestanding: 1 passed, 0 failed"
