#!/bin/sh
# Shows that labctl's built-in load generator is not the bottleneck: against a
# fast Go server on 127.0.0.1 it must reach at least ab's request rate at the
# same concurrency. Runs each tool RUNS times (default 3) and compares medians,
# once with keep-alive off in both (ab default, labctl-load default) and once
# with keep-alive on in both (ab -k, labctl-load -keepalive).
#
#   bench/scripts/compare-ab.sh            # from the repository root
#   N=20000 C=10 RUNS=3 bench/scripts/compare-ab.sh
set -eu
N=${N:-20000}
C=${C:-10}
RUNS=${RUNS:-3}
tmp=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

CGO_ENABLED=0 go build -trimpath -o "$tmp/labctl-load" ./bench/cmd/labctl-load
go build -o "$tmp/fastserver" ./bench/scripts/fastserver
"$tmp/fastserver" -addr 127.0.0.1:0 >"$tmp/addr" 2>"$tmp/server.log" &
srv_pid=$!
i=0
while [ ! -s "$tmp/addr" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
url="http://$(head -n1 "$tmp/addr")/"
echo "server $url  requests=$N concurrency=$C runs=$RUNS"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for ka in off on; do
	abflag=; lflag=
	[ "$ka" = on ] && { abflag=-k; lflag=-keepalive; }
	: >"$tmp/ab"; : >"$tmp/lg"
	r=1
	while [ $r -le "$RUNS" ]; do
		ab $abflag -q -c "$C" -n "$N" "$url" 2>/dev/null |
			awk '/^Requests per second:/ {print $4}' >>"$tmp/ab"
		"$tmp/labctl-load" $lflag -c "$C" -n "$N" -d 60s -url "$url" |
			awk -F'[:,]' '/"rps":/ {gsub(/ /, "", $2); print $2}' >>"$tmp/lg"
		r=$((r + 1))
	done
	ab_m=$(median <"$tmp/ab"); lg_m=$(median <"$tmp/lg")
	echo "keep-alive $ka: ab runs [$(tr '\n' ' ' <"$tmp/ab")] median $ab_m req/s;" \
		"labctl-load runs [$(tr '\n' ' ' <"$tmp/lg")] median $lg_m req/s;" \
		"ratio labctl-load/ab = $(awk -v a="$ab_m" -v b="$lg_m" 'BEGIN {printf "%.2f", b/a}')"
done
