#!/bin/sh
# Runs the TAP tests inside a network namespace of their own, removed on exit.
# Usage: run.sh PYTHON NET_TAP_BINARY [driver arguments]
set -eu
if [ "$(id -u)" -ne 0 ]; then
    exec sudo -n "$0" "$@"
fi
python=$1
bin=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
ns="capos-net-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
tmp=$(mktemp -d)
cleanup() {
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
    sleep 0.3
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$ns"
ip netns exec "$ns" "$python" "$here/driver.py" --bin "$bin" --tmp "$tmp" "$@"
