#!/bin/sh
# Usage: check_freestanding.sh LABEL OBJECT...
# A freestanding library's objects (lib/capnp, lib/manifest with what it
# calls, and the code generated for the project schema) may need nothing from
# outside but what the guest runtime provides: memcpy, memset, memcmp,
# strlen.  Everything else they call must be defined among themselves.
set -eu
label=$1
shift
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
    echo "$label: FAIL: undefined symbols:$bad"
    echo "$label: 0 passed, 1 failed"
    exit 1
fi
echo "$label: $# objects, no outside symbols beyond: $allowed"
echo "$label: 1 passed, 0 failed"
