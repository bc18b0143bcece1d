#!/bin/sh
# Runs a TAP test or benchmark script inside network namespaces of its own
# (the main one, and a second one, named in NET_NS_B, whose Linux kernel is the
# reference behind a veth pair: the benchmark's baseline, the raw cases' comparison),
# removed on exit with every process in them.
# Usage: run.sh PYTHON SCRIPT NET_TAP_BINARY [script arguments]
set -eu
if [ "$(id -u)" -ne 0 ]; then
    exec sudo -n "$0" "$@"
fi
python=$1
script=$2
bin=$3
shift 3
ns="capos-net-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
tmp=$(mktemp -d)
nsb="$ns-b"
cleanup() {
    for n in "$ns" "$nsb"; do
        pids=$(ip netns pids "$n" 2>/dev/null || true)
        [ -n "$pids" ] && kill $pids 2>/dev/null || true
    done
    sleep 0.3
    for n in "$ns" "$nsb"; do
        pids=$(ip netns pids "$n" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip netns del "$n" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$ns"
ip netns add "$nsb"
NET_NS_B="$nsb" ip netns exec "$ns" "$python" "$script" --bin "$bin" --tmp "$tmp" "$@"
