#!/usr/bin/env bash
# scripts/bench-class.sh: classroom figures on this host, in one run.
#
#   sandbox/run.sh scripts/bench-class.sh [LAB_DIR ...]     (default: labs/lvs-dr)
#
# For each lab: `up` of one copy, `up --copies 3` (copies 2 and 3 cloned
# from copy 1's "up" snapshot), `reset` of one copy and of all three (each
# includes the verify checks), and the ratios; then `down`. Runs inside the
# sandbox namespace (sandbox/run.sh) with its own key directory, so it never
# touches another state. Targets (issue 14): 3 copies ≤ 1.5 × one copy;
# reset of one copy ≤ 10 s. Wall times: the host is shared, so run it when
# it is quiet and read the ratios.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/labctl-bench-class.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LABCTL_STATE_DIR=$WORK/state

if [ -z "${LABCTL_SANDBOX:-}" ]; then
	echo "run me inside the sandbox: sandbox/run.sh $0" >&2
	exit 2
fi
LABCTL=${LABCTL:-$ROOT/bin/labctl}
[ -x "$LABCTL" ] || { echo "build labctl first: make build" >&2; exit 2; }

# timed NAME CMD...: runs CMD quietly (its output to the log) and prints
# the wall time in seconds.
timed() {
	local name=$1 start end
	shift
	start=$(date +%s.%N)
	if ! "$@" >>"$WORK/log" 2>&1; then
		echo "$name failed; log:" >&2
		tail -40 "$WORK/log" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' 
}

for lab in "${@:-$ROOT/labs/lvs-dr}"; do
	name=$(basename "$lab")
	"$LABCTL" down "$lab" >>"$WORK/log" 2>&1
	one=$(timed "up of one copy" "$LABCTL" up --yes --copies 1 "$lab")
	"$LABCTL" down "$lab" >>"$WORK/log" 2>&1
	three=$(timed "up --copies 3" "$LABCTL" up --yes --copies 3 "$lab")
	reset1=$(timed "reset of one copy" "$LABCTL" reset --copy 1 "$lab")
	reset3=$(timed "reset of all copies" "$LABCTL" reset "$lab")
	"$LABCTL" down "$lab" >>"$WORK/log" 2>&1
	printf 'FIGURE %s up of one copy %.1fs\n' "$name" "$one"
	printf 'FIGURE %s up --copies 3 %.1fs (ratio %.2f, target <= 1.5)\n' "$name" "$three" "$(awk -v a="$three" -v b="$one" 'BEGIN { print a / b }')"
	printf 'FIGURE %s reset of one copy %.1fs, verify included (target <= 10 s)\n' "$name" "$reset1"
	# reset prints "lab X: reverted to up in Ns, checked in Ms" per copy.
	grep -o "lab $name-[^:]*: reverted to up in [0-9.]*s, checked in [0-9.]*s" "$WORK/log" | sed 's/^/FIGURE /' 
	printf 'FIGURE %s reset of 3 copies %.1fs (ratio to one %.2f)\n' "$name" "$reset3" "$(awk -v a="$reset3" -v b="$reset1" 'BEGIN { print a / b }')"
done
