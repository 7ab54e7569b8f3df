#!/usr/bin/env bash
# sandbox/run.sh CMD...: run CMD inside the labctl sandbox namespace (see
# setup.sh), with LABCTL_SANDBOX set so the e2e tests know where they are.
set -euo pipefail
NS=${LABCTL_NETNS:-labctl-sandbox}
if [ $# -eq 0 ]; then
	echo "usage: sandbox/run.sh CMD [ARGS...]" >&2
	exit 2
fi
if ! ip netns list | awk '{print $1}' | grep -qx "$NS"; then
	echo "sandbox: namespace $NS missing; run sandbox/setup.sh first" >&2
	exit 1
fi
exec ip netns exec "$NS" env LABCTL_SANDBOX="$NS" "$@"
