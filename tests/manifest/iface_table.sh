#!/bin/sh
# The interface table capnpc-c emits (what mkmanifest resolves interface
# names with): nested interfaces keep their schema spelling, a file without
# interfaces gets a count of 0 and no array, and both outputs compile.
# usage: iface_table.sh PLUGIN OUTDIR CC
set -u
plugin=$1 out=$2 cc=$3
dir=tests/manifest/iface_table
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

mkdir -p "$out"
for s in nested none; do
    if capnp compile -o"$plugin:$out" "$dir/$s.capnp" &&
       $cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Ilib/capnp -I"$out" \
           -c "$out/$s.capnp.c" -o "$out/$s.o"; then
        ok "$s.capnp: generated code compiles"
    else
        bad "$s.capnp: generated code compiles"
    fi
done

want='    { "Top", nested_Top_ID },
    { "Top.Inner", nested_Top_Inner_ID },
    { "Holder.Deep", nested_Holder_Deep_ID },'
got=$(grep '^    { "' "$out/nested.capnp.c")
if [ "$got" = "$want" ]; then ok "nested names: Top, Top.Inner, Holder.Deep"
else bad "nested names: got: $got"; fi
if grep -q '^#define nested_INTERFACE_COUNT 3$' "$out/nested.capnp.h"; then ok "nested count 3"
else bad "nested count 3"; fi
if grep -q '^#define none_INTERFACE_COUNT 0$' "$out/none.capnp.h" &&
   ! grep -q 'none_interfaces' "$out/none.capnp.h" "$out/none.capnp.c"; then
    ok "no interface: count 0, no array"
else
    bad "no interface: count 0, no array"
fi
echo "manifest-iface-table: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
