#!/usr/bin/env bash
# scripts/compare-stacks.sh: the thesis' Prueba 2 (power off the director
# that serves) against both director stacks, keepalived (labs/lvs-nat-ha,
# experiment master_failover) and Corosync + Pacemaker + ldirectord
# (labs/thesis-pacemaker, experiment prueba2_master_off): the same cluster,
# the same load, the same fault, REPEAT (default 5) repetitions each, then
# one side-by-side report (outage, VIP move and MTTR with 95 % CIs).
#
#   make build && scripts/compare-stacks.sh          # re-runs itself in the sandbox
#   REPEAT=7 RESULTS=/tmp/stacks scripts/compare-stacks.sh
#   THESIS="prueba1_round_robin prueba3_servers_off prueba4_ldirectord_kills" \
#     scripts/compare-stacks.sh      # the thesis' other tests too, same lab up
#
# Writes RESULTS (default results/stacks-<UTC time>)/report.md and
# report.html. Each lab is brought up, measured and taken down in turn
# (labctl down), so at most 7 VMs run at once. Under TCG a repetition
# reboots a director: count 2-3 minutes each, 30-40 minutes in all.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPEAT=${REPEAT:-5}
RESULTS=${RESULTS:-$ROOT/results/stacks-$(date -u +%Y%m%dT%H%M%SZ)}
LABCTL=$ROOT/bin/labctl

if [ ! -x "$LABCTL" ]; then
	echo "compare-stacks: $LABCTL missing: run make build first" >&2
	exit 2
fi
if [ -z "${LABCTL_SANDBOX:-}" ]; then
	exec "$ROOT/sandbox/run.sh" "$ROOT/scripts/compare-stacks.sh" "$@"
fi
mkdir -p "$RESULTS"

# The same short load and fault timing on both stacks.
common=(--repeat "$REPEAT" --tool builtin --duration 5s --concurrency 4 --fault-hold 10s --fault-after 5s --results "$RESULTS")

run() { # LAB EXPERIMENT [MORE EXPERIMENTS, with their own repeat]
	local lab=$ROOT/labs/$1 x=$2
	shift 2
	echo "== $(basename "$lab"): up"
	"$LABCTL" down -q "$lab" || true
	"$LABCTL" up --yes -q "$lab"
	echo "== $(basename "$lab"): bench $x x $REPEAT"
	"$LABCTL" bench "$lab" "$x" "${common[@]}"
	for more in "$@"; do
		echo "== $(basename "$lab"): bench $more"
		"$LABCTL" bench "$lab" "$more" --results "$RESULTS" || echo "compare-stacks: $more failed (see above)" >&2
	done
	"$LABCTL" down -q "$lab"
}

run lvs-nat-ha master_failover
# shellcheck disable=SC2086 # THESIS is a list of experiment names
run thesis-pacemaker prueba2_master_off ${THESIS:-}

"$LABCTL" report --markdown "$RESULTS/report.md" --html "$RESULTS/report.html" \
	"$RESULTS"/lvs-nat-ha-master_failover-* "$RESULTS"/thesis-pacemaker-prueba2_master_off-*
echo "compare-stacks: report in $RESULTS/report.md and report.html"
