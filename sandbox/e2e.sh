#!/usr/bin/env bash
# sandbox/e2e.sh: the end-to-end half of `make test`. As root on Debian 12:
# prepares the sandbox (packages, namespace, libvirtd inside it), builds the
# base image if it is not cached, then runs the e2e tests inside the
# namespace, where every lab network, VM and packet stays.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: must run as root (libvirt, debootstrap, network namespaces)" >&2
	exit 1
fi
sandbox/setup.sh
# The "remote client" namespace of e2e/remote_test.go (qemu+ssh).
sandbox/remote.sh up
trap 'sandbox/remote.sh down' EXIT
# The image build reaches the Debian mirror, so it runs in the host
# namespace; it is a no-op when an image with the same inputs exists.
bin/labctl image build
# Compile in the host namespace (the module proxy is not reachable from
# inside the sandbox), run inside it.
go test -c -tags e2e -o bin/e2e.test ./e2e
LABCTL_BIN=$PWD/bin/labctl sandbox/run.sh bin/e2e.test -test.v -test.count=1 -test.timeout=70m ${E2E_RUN:+-test.run "$E2E_RUN"}
