#!/bin/sh
# Fetch the Linux baseline guest's network into bench/cache (never
# committed): the virtio-net modules of the kernel fetch-linux.sh unpacked
# (the Debian kernel builds them as modules), decompressed to plain .ko for
# busybox insmod. bench/linux_net.py loads them in the guest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$here/cache
"$here/fetch-linux.sh"
cd "$cache"
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
have=1
for m in $mods; do [ -f modules/$m.ko ] || have=0; done
[ $have = 1 ] && exit 0
img=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$img" ] || { echo "fetch-virtio-net: cannot resolve linux-image-amd64" >&2; exit 1; }
rm -rf dpkg && mkdir dpkg
tmp=$(mktemp -d); chmod 777 "$tmp"
(cd "$tmp" && apt-get download "$img" >/dev/null)
for d in "$tmp"/*.deb; do dpkg-deb -x "$d" dpkg; done
rm -rf "$tmp"
mkdir -p modules
for m in $mods; do
    f=$(find dpkg/lib/modules dpkg/usr/lib/modules -name "$m.ko*" 2>/dev/null | head -n1)
    [ -n "$f" ] || { echo "fetch-virtio-net: no module $m in $img" >&2; exit 1; }
    case $f in
    *.xz) xz -dc "$f" > modules/$m.ko ;;
    *.zst) zstd -qdc "$f" > modules/$m.ko ;;
    *) cp "$f" modules/$m.ko ;;
    esac
done
rm -rf dpkg
echo "fetch-virtio-net: the virtio-net modules of $img ready in bench/cache"
