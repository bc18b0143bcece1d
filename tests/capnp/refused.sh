#!/bin/sh
# Schemas the generator must refuse, each with the message it must give (the
# "# expect:" line of the schema), leaving no output files behind.
# usage: refused.sh PLUGIN OUTDIR SCHEMA...
set -u
plugin=$1 out=$2
shift 2
passed=0 failed=0
for f in "$@"; do
    want=$(sed -n 's/^# expect: //p' "$f")
    rm -rf "$out" && mkdir -p "$out"
    if capnp compile -o"$plugin:$out" "$f" 2>"$out.err"; then
        echo "FAIL $f: generated code, want refusal \"$want\""
        failed=$((failed + 1))
    elif ! grep -qF "$want" "$out.err"; then
        echo "FAIL $f: want \"$want\", got: $(cat "$out.err")"
        failed=$((failed + 1))
    elif [ -n "$(ls "$out")" ]; then
        echo "FAIL $f: left files behind: $(ls "$out")"
        failed=$((failed + 1))
    else
        echo "ok   $f: $want"
        passed=$((passed + 1))
    fi
done
echo "capnp-refused: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
