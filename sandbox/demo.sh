#!/usr/bin/env bash
# sandbox/demo.sh [LAB]: the main job. On a fresh Debian 12 machine, as root:
# brings the lab (default labs/lvs-nat-ha, the thesis cluster) up inside the
# sandbox namespace, verifies it, runs its experiments and writes a report.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=${1:-labs/lvs-nat-ha}
labctl=$PWD/bin/labctl

sandbox/setup.sh
"$labctl" image build
in_sandbox() { sandbox/run.sh "$@"; }
in_sandbox "$labctl" up --yes "$LAB"
in_sandbox "$labctl" verify "$LAB"
if "$labctl" bench --help >/dev/null 2>&1; then
	in_sandbox "$labctl" bench "$LAB" --results results
	in_sandbox "$labctl" report --html results/report.html results/latest
	echo "demo: report written to results/report.html"
fi
echo "demo: $LAB is up; try: sandbox/run.sh $labctl status $LAB, and $labctl down $LAB when done"
