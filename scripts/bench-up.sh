#!/usr/bin/env bash
# scripts/bench-up.sh [LAB]: how long `labctl up` takes on this host, in one run.
#
#   make build && scripts/bench-up.sh            # re-runs itself in the sandbox
#   BUSY=2 scripts/bench-up.sh                   # also with 2 CPU hogs beside it
#
# Prints:
#   1. boot-to-SSH of one guest (a 1-VM lab, median of 5 ups, --no-configure);
#   2. `up` of LAB (default labs/lvs-nat-ha) from nothing, split into boot
#      (start of up → last VM answers SSH) and the roles' tail after it (the
#      roles start while later VMs boot), all guests at once
#      (--boot-parallel 99) and in waves (the default admission), on an idle
#      host and, with BUSY=N, with N CPU hogs running;
#   3. provisioning alone: `labctl provision` of LAB booted with
#      --no-configure (every role from scratch, nothing booting beside it);
#   4. a no-op `labctl provision` of LAB (every step unchanged).
# Targets (issue 11): boot-to-SSH ≤ 20 s, LAB up ≤ 180 s idle, provisioning
# ≤ 60 s, no-op provision ≤ 10 s.
#
# It boots many VMs (minutes under TCG) and removes LAB and its own 1-VM lab
# (`labctl down`) before and after. It takes labctl from bin/ (make build)
# and runs inside the sandbox namespace (sandbox/run.sh); the base image must
# be in the store (labctl image build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=${1:-labs/lvs-nat-ha}
BUSY=${BUSY:-0}
RUNS=${RUNS:-5}
LABCTL=$ROOT/bin/labctl

if [ ! -x "$LABCTL" ]; then
	echo "bench-up: $LABCTL missing: run make build first" >&2
	exit 2
fi
if [ -z "${LABCTL_SANDBOX:-}" ]; then
	exec "$ROOT/sandbox/run.sh" "$ROOT/scripts/bench-up.sh" "$@"
fi
case $LAB in /*) ;; *) LAB=$ROOT/$LAB ;; esac
command -v python3 >/dev/null || { echo "bench-up: needs python3 (reads labctl's JSON)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/labctl-bench-up.XXXXXX)
HOGS=()
cleanup() {
	stop_hogs
	"$LABCTL" down -q "$WORK/one" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# start_hogs N / stop_hogs: N CPU-bound processes beside labctl.
start_hogs() {
	local i
	for ((i = 0; i < $1; i++)); do
		sh -c 'while :; do :; done' &
		HOGS+=($!)
	done
}
stop_hogs() {
	local p
	for p in "${HOGS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${HOGS[@]}"; do wait "$p" 2>/dev/null || true; done
	HOGS=()
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# boot_of: the first VM's boot-to-SSH from up's JSON (stdin).
boot_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)["vms"][0].get("boot_seconds", 0))'; }

# split LABEL WALL: one line from up's JSON (stdin): boot = start of up →
# the last VM answers SSH, roles after = the rest of up (the roles run from
# the first VM's SSH on, so this is only their tail).
SPLIT='import json, sys
r = json.load(sys.stdin)
label, wall = sys.argv[1:3]
boot = max((v.get("seconds", 0) for v in r["vms"]), default=0)
restarts = sum(v.get("restarts", 0) for v in r["vms"])
print("up %-26s %6.1f s (wall %s s): boot %6.1f s, roles after the last boot %6.1f s, restarts %d"
      % (label + ":", r["seconds"], wall, boot, r["seconds"] - boot, restarts))'
split() { python3 -c "$SPLIT" "$1" "$2"; }

# The 1-VM lab: the image and guest size of LAB's VMs.
IMAGE=$(sed -n 's/^ *image *= *"\([^"]*\)".*/\1/p' "$LAB/lab.hcl" | head -1)
mkdir -p "$WORK/one"
cat >"$WORK/one/lab.hcl" <<HCL
lab "bench-up-one" {
  image = "${IMAGE:-bookworm-cloud}"
}
network "net" {
  mode = "nat"
  cidr = "10.232.0.0/24"
}
vm "vm" {
  vcpus  = 1
  memory = "448MiB"
  nic "net" {
    ip      = cidrhost(network.net.cidr, 10)
    gateway = network.net.host_ip
  }
}
HCL

echo "bench-up: $(nproc) CPUs, labctl $("$LABCTL" version 2>/dev/null | head -1), lab $LAB"

# 1. boot-to-SSH of one guest.
boots=()
"$LABCTL" down -q "$WORK/one" >/dev/null 2>&1 || true
for ((i = 1; i <= RUNS; i++)); do
	out=$("$LABCTL" up -q --yes --no-configure -o json "$WORK/one")
	boots+=("$(echo "$out" | boot_of)")
	"$LABCTL" down -q "$WORK/one" >/dev/null
done
median=$(printf '%s\n' "${boots[@]}" | python3 -c 'import statistics, sys; print("%.1f" % statistics.median(float(x) for x in sys.stdin))')
echo "boot-to-SSH, 1 guest: median ${median} s of ${RUNS} (${boots[*]})"

# 2. up of LAB: all at once vs waves, idle (and busy).
# up_once LABEL ARGS...: one up from nothing, split into boot and provisioning.
up_once() {
	local label=$1 t out wall
	shift
	"$LABCTL" down -q "$LAB" >/dev/null 2>&1 || true
	t=$(now)
	out=$("$LABCTL" up -q --yes -o json "$@" "$LAB")
	wall=$(since "$t")
	echo "$out" | split "$label" "$wall"
}
loads=(0)
[ "$BUSY" -gt 0 ] && loads+=("$BUSY")
for hogs in "${loads[@]}"; do
	host="idle"
	[ "$hogs" -gt 0 ] && host="$hogs CPU hogs"
	start_hogs "$hogs"
	up_once "all at once, $host" --boot-parallel 99
	up_once "waves, $host"
	stop_hogs
done

# 3. provisioning alone, from scratch.
"$LABCTL" down -q "$LAB" >/dev/null 2>&1 || true
"$LABCTL" up -q --yes --no-configure "$LAB" >/dev/null
t=$(now)
"$LABCTL" provision -q -l "$LAB" >/dev/null
echo "provisioning alone (roles from scratch, all VMs up): $(since "$t") s"

# 4. no-op provision of the lab just configured.
t=$(now)
"$LABCTL" provision -q -l "$LAB" >/dev/null
echo "no-op provision: $(since "$t") s"

"$LABCTL" down -q "$LAB" >/dev/null
