#!/bin/sh
# Fetch the Linux guest's SSH server for bench-ssh-guest into bench/cache
# (never committed): Debian's dropbear-bin (dropbear, dropbearkey; dynamically
# linked: bench.py copies the shared libraries ldd names from the host), and
# through fetch-linux.sh the kernel with its virtio-net modules.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$here/cache
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
"$here/fetch-linux.sh" $mods
cd "$cache"
[ -f dropbear/dropbear ] && [ -f dropbear/dropbearkey ] && exit 0
rm -rf dpkg && mkdir dpkg
tmp=$(mktemp -d); chmod 777 "$tmp"
(cd "$tmp" && apt-get download dropbear-bin >/dev/null)
for d in "$tmp"/*.deb; do dpkg-deb -x "$d" dpkg; done
rm -rf "$tmp"
mkdir -p dropbear
cp dpkg/usr/sbin/dropbear dpkg/usr/bin/dropbearkey dropbear/
rm -rf dpkg
echo "fetch-dropbear: dropbear-bin ready in bench/cache"
