#!/bin/sh
# The freestanding objects of lib/capnp (and of the code generated for the
# project schema) may need nothing from outside but what the guest runtime
# provides: memcpy, memset, memcmp, strlen.  Everything else they call must
# be defined among themselves.
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
    echo "capnp-freestanding: FAIL: undefined symbols:$bad"
    echo "capnp-freestanding: 0 passed, 1 failed"
    exit 1
fi
echo "capnp-freestanding: $# objects, no outside symbols beyond: $allowed"
echo "capnp-freestanding: 1 passed, 0 failed"
