#!/usr/bin/env bash
# sandbox/teardown.sh: stop the sandbox's libvirtd and virtlogd (by pid, only
# those inside the namespace) and delete the namespace. Lab objects defined in
# libvirt persist on disk; run `labctl down` first to remove them.
set -euo pipefail
NS=${LABCTL_NETNS:-labctl-sandbox}
[ -e "/run/netns/$NS" ] || exit 0
ns_inode=$(stat -L -c %i "/run/netns/$NS")
for name in libvirtd virtlogd; do
	for pid in $(pgrep -x "$name" || true); do
		if [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$ns_inode" ]; then
			kill "$pid"
		fi
	done
done
ip netns delete "$NS"
