#!/bin/sh
# Fetch the Linux baseline guest's parts from Debian's packages into
# bench/cache (never committed): the linux-image-amd64 kernel, unpacked to an
# uncompressed vmlinux (QEMU boots it directly through its PVH note), and
# busybox-static for the guest's shell.
# Usage: fetch-linux.sh [MODULE...]: also the named modules of that kernel
# (the Debian kernel builds its virtio drivers and file systems as modules),
# decompressed to bench/cache/modules/MODULE.ko for busybox insmod. A module
# whose `depends=` (its .modinfo section) names one not on the list is an
# error: the caller lists every module, in load order.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$here/cache
mkdir -p "$cache/modules"
cd "$cache"
need=0
[ -f vmlinux ] && [ -f busybox ] || need=1
for m in "$@"; do [ -f modules/$m.ko ] || need=1; done
[ $need = 0 ] && exit 0
img=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$img" ] || { echo "fetch-linux: cannot resolve linux-image-amd64" >&2; exit 1; }
rm -rf pkg && mkdir pkg
# apt's sandbox user may not write here; fetch into a scratch dir it can
tmp=$(mktemp -d); chmod 777 "$tmp"
(cd "$tmp" && apt-get download "$img" busybox-static >/dev/null)
for d in "$tmp"/*.deb; do dpkg-deb -x "$d" pkg; done
rm -rf "$tmp"
cp pkg/bin/busybox busybox
/usr/bin/python3 "$here/extract_vmlinux.py" pkg/boot/vmlinuz-* vmlinux
for m in "$@"; do
    f=$(find pkg/lib/modules pkg/usr/lib/modules -name "$m.ko*" 2>/dev/null | head -n1)
    [ -n "$f" ] || { echo "fetch-linux: no module $m in $img" >&2; exit 1; }
    case $f in
    *.xz) xz -dc "$f" > modules/$m.ko ;;
    *.zst) zstd -qdc "$f" > modules/$m.ko ;;
    *) cp "$f" modules/$m.ko ;;
    esac
    deps=$(objcopy -O binary --only-section=.modinfo modules/$m.ko /dev/stdout | tr '\0' '\n' \
        | sed -n 's/^depends=//p' | tr ',' ' ')
    for d in $deps; do
        case " $* " in
        *" $d "*) ;;
        *) echo "fetch-linux: module $m depends on $d, which is not listed" >&2; exit 1 ;;
        esac
    done
done
rm -rf pkg
echo "fetch-linux: $img ready in bench/cache${1:+ (modules: $*)}"
