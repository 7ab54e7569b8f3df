#!/usr/bin/env bash
# scripts/bench-lifecycle.sh: wall time of labctl's lifecycle on this host.
#
#   sandbox/run.sh scripts/bench-lifecycle.sh [IMAGE]
#
# Measures, for a 1-VM and a 3-VM lab: `up` from nothing (and boot-to-SSH of
# each VM, from labctl's JSON), a no-op `up`, and `down`. Runs inside the
# sandbox namespace (sandbox/run.sh). Needs the base image in the store
# (LABCTL_IMAGE_DIR, default labctl's) and prints one line per figure.
# Reference (Vagrant, TCG, this machine class): 1 VM 91 s, 3 VMs 237 s,
# destroy 4-8 s. Targets: ≤ half of Vagrant; no-op up ≤ 2 s; down ≤ 10 s.
set -euo pipefail

IMAGE=${1:-${LABCTL_E2E_IMAGE:-bookworm-cloud}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/labctl-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LABCTL_STATE_DIR=$WORK/state

if [ -z "${LABCTL_SANDBOX:-}" ]; then
	echo "run me inside the sandbox: sandbox/run.sh $0" >&2
	exit 2
fi
LABCTL=${LABCTL:-$WORK/labctl}
if [ ! -x "$LABCTL" ]; then
	(cd "$ROOT" && go build -o "$LABCTL" ./cmd/labctl)
fi

# lab NAME COUNT: a lab of COUNT small VMs on one nat network.
lab() {
	mkdir -p "$WORK/$1"
	cat >"$WORK/$1/lab.hcl" <<HCL
lab "$1" {
  image = "$IMAGE"
}
network "net" {
  mode = "nat"
  cidr = "10.231.$2.0/24"
}
vm "vm" {
  count  = $2
  vcpus  = 1
  memory = "448MiB"
  nic "net" {
    ip      = cidrhost(network.net.cidr, 10 + count.index)
    gateway = network.net.host_ip
  }
}
HCL
	echo "$WORK/$1"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# figures from up's JSON: per-VM boot-to-SSH seconds
boots() {
	python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join("%s=%.1fs" % (v["name"], v.get("boot_seconds", 0)) for v in r["vms"]))'
}

for n in 1 3; do
	dir=$(lab "bench$n" "$n")
	"$LABCTL" down -q --name "bench$n" >/dev/null
	t=$(now)
	out=$("$LABCTL" up -q --yes -o json "$dir")
	echo "up ${n}vm: $(since "$t") s wall; boot-to-SSH: $(echo "$out" | boots)"
	t=$(now)
	"$LABCTL" up -q -o json "$dir" >/dev/null
	echo "no-op up ${n}vm: $(since "$t") s wall"
	t=$(now)
	"$LABCTL" down -q "$dir" >/dev/null
	echo "down ${n}vm: $(since "$t") s wall"
done
