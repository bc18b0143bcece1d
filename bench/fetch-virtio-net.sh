#!/bin/sh
# Fetch the Linux baseline guest's network into bench/cache (never
# committed): the kernel (fetch-linux.sh) with its virtio-net modules, in
# load order (the Debian kernel builds them as modules); bench/linux_net.py
# loads them in the guest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/fetch-linux.sh" virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
    failover net_failover virtio_net
