#!/bin/sh
# Boots a labctl base image with a provision/cloudinit seed and checks it
# over SSH (TestBootSeed). QEMU (TCG) and all traffic stay inside a private
# network namespace with two taps; the namespace is removed afterwards.
# Usage (root, repo root): provision/ssh/testdata/boot-vm.sh IMAGE_DIR
# IMAGE_DIR holds disk.qcow2, vmlinuz and initrd.img (labctl image build).
set -eu
img=$(realpath "$1")
ns=labctl-sshboot-$$
bin=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$bin"' EXIT
go test -c -tags realvm -o "$bin/ssh.test" ./provision/ssh
ip netns add "$ns"
ip netns exec "$ns" sh -eu -c '
ip link set lo up
ip tuntap add lctap0 mode tap && ip addr add 10.77.0.1/24 dev lctap0 && ip link set lctap0 mtu 1400 up
ip tuntap add lctap1 mode tap && ip addr add 10.78.0.1/24 dev lctap1 && ip link set lctap1 up
'
ip netns exec "$ns" env LABCTL_BOOT_IMAGE="$img" "$bin/ssh.test" -test.run TestBootSeed -test.v -test.timeout 10m
