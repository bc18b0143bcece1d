#!/bin/sh
# Fetch the Linux baseline guest's parts from Debian's packages into
# bench/cache (never committed): the linux-image-amd64 kernel, unpacked to an
# uncompressed vmlinux (QEMU boots it directly through its PVH note), and
# busybox-static for the guest's shell.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$here/cache
mkdir -p "$cache"
cd "$cache"
[ -f vmlinux ] && [ -f busybox ] && exit 0
img=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$img" ] || { echo "fetch-linux: cannot resolve linux-image-amd64" >&2; exit 1; }
rm -rf pkg && mkdir pkg
apt-get download "$img" busybox-static >/dev/null 2>&1 || {
    # apt's sandbox user may not write here; fetch into a scratch dir it can
    tmp=$(mktemp -d); chmod 777 "$tmp"
    (cd "$tmp" && apt-get download "$img" busybox-static)
    mv "$tmp"/*.deb . && rmdir "$tmp"
}
for d in ./*.deb; do dpkg-deb -x "$d" pkg; done
cp pkg/bin/busybox busybox
/usr/bin/python3 "$here/extract_vmlinux.py" pkg/boot/vmlinuz-* vmlinux
rm -rf pkg ./*.deb
echo "fetch-linux: $img ready in bench/cache"
