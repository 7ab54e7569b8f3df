#!/bin/sh
# Shows that labctl's built-in load generator is not the bottleneck: against
# a fast Go server on 127.0.0.1 it must reach at least ab's request rate at
# the same concurrency and request count. For keep-alive off (ab default,
# labctl load-agent default: what the thesis ran) and on (ab -k, -keepalive) it
# runs ROUNDS rounds; each round runs both tools once, alternating which
# goes first so drift (other jobs, TIME_WAIT build-up) hits both alike. It
# prints every round's rates and the client's CPU per request, then the
# medians and the median of the per-round ratios generator/ab. The
# generator is `labctl load-agent`, what labctl bench runs on the client VM.
#
#   bench/scripts/compare-ab.sh                       # from the repository root
#   N=20000 N_ON=100000 C=10 ROUNDS=7 MODES="off on" bench/scripts/compare-ab.sh
#
# N requests per run with keep-alive off, N_ON with it on (a run of N would
# last a fraction of a second there).
#   PIN=1 bench/scripts/compare-ab.sh                 # server on CPU 0, client on CPU 1
#   SERVER=nethttp bench/scripts/compare-ab.sh        # net/http server instead of -lean
#
# The server (bench/scripts/fastserver) runs -lean by default: prebuilt
# responses, so the client's cost decides the rate. Each round prints the
# CPUs each side kept busy: with PIN=1 a client near 1.00 and a server
# below it means the client is the limit, so the ratio compares clients.
#
# Each series holds LOCK (default /tmp/labctl-vms.lock, "" = none) so it does
# not run while VMs boot on the same host; it waits for the lock.
set -eu
N=${N:-20000}
N_ON=${N_ON:-100000}
C=${C:-10}
ROUNDS=${ROUNDS:-7}
MODES=${MODES:-off on}
PIN=${PIN:-}
SERVER=${SERVER:-lean}
LOCK=${LOCK-/tmp/labctl-vms.lock}
tmp=$(mktemp -d)
srv_pid=
cleanup() {
	[ -z "$srv_pid" ] || kill "$srv_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

for tool in ab go awk; do
	command -v "$tool" >/dev/null || { echo "compare-ab: $tool not found" >&2; exit 1; }
done
CGO_ENABLED=0 go build -trimpath -o "$tmp/labctl" ./cmd/labctl
go build -o "$tmp/fastserver" ./bench/scripts/fastserver

srv_cpu= cli_cpu=
if [ -n "$PIN" ]; then
	srv_cpu="taskset -c 0" cli_cpu="taskset -c 1"
fi
lean=-lean
[ "$SERVER" = lean ] || lean=
$srv_cpu "$tmp/fastserver" $lean -addr 127.0.0.1:0 >"$tmp/addr" 2>"$tmp/server.log" &
srv_pid=$!
i=0
while [ ! -s "$tmp/addr" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
url="http://$(head -n1 "$tmp/addr")/"
echo "server $url  requests=$N (keep-alive on: $N_ON) concurrency=$C rounds=$ROUNDS server=$SERVER pin=${PIN:-no} $(nproc) CPUs"

# cpu_ticks PID: user+system clock ticks used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# measure NAME CMD...: runs CMD, appends "rate client_us server_us" to
# $tmp/NAME. Client CPU comes from the shell's children times.
measure() {
	name=$1
	shift
	s0=$(cpu_ticks "$srv_pid")
	c0=$(awk '{print $16 + $17}' /proc/$$/stat)
	"$@" >"$tmp/out" 2>"$tmp/err" || { echo "compare-ab: $name failed:" >&2; cat "$tmp/err" >&2; exit 1; }
	c1=$(awk '{print $16 + $17}' /proc/$$/stat)
	s1=$(cpu_ticks "$srv_pid")
	# ab prints text, the agent one line of JSON (its first "rps" and
	# "errors" are the run's totals).
	rate=$(awk '/^Requests per second:/ {print $4} /"rps":/ {match($0, /"rps":[0-9.eE+-]+/); print substr($0, RSTART + 6, RLENGTH - 6)}' "$tmp/out")
	[ -n "$rate" ] || { echo "compare-ab: $name printed no rate" >&2; cat "$tmp/out" >&2; exit 1; }
	failed=$(awk '/^Failed requests:/ {print $3} /"errors":/ {match($0, /"errors":[0-9]+/); print substr($0, RSTART + 9, RLENGTH - 9)}' "$tmp/out")
	echo "$rate $(((c1 - c0) * 1000000 / hz / n)) $(((s1 - s0) * 1000000 / hz / n)) ${failed:-?}" >>"$tmp/$name"
}

busy() { awk -v r="$1" -v us="$2" 'BEGIN {print r * us / 1e6}'; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

series() {
	ka=$1
	abflag= lflag= n=$N
	[ "$ka" = on ] && { abflag=-k; lflag=-keepalive; n=$N_ON; }
	: >"$tmp/ab"
	: >"$tmp/lg"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		if [ $((r % 2)) -eq 1 ]; then
			measure ab $cli_cpu ab $abflag -q -c "$C" -n "$n" "$url"
			measure lg $cli_cpu "$tmp/labctl" load-agent $lflag -c "$C" -n "$n" -d 120s -url "$url"
		else
			measure lg $cli_cpu "$tmp/labctl" load-agent $lflag -c "$C" -n "$n" -d 120s -url "$url"
			measure ab $cli_cpu ab $abflag -q -c "$C" -n "$n" "$url"
		fi
		set -- $(sed -n "${r}p" "$tmp/ab") $(sed -n "${r}p" "$tmp/lg")
		# CPU per request × rate = CPUs busy: near 1.00 for the client
		# (pinned) means the client, not the server, is the limit.
		printf 'keep-alive %-3s round %d: ab %6.0f req/s (CPU µs/req client %2d server %2d; CPUs busy client %.2f server %.2f; failed %s)  load-agent %6.0f req/s (client %2d server %2d; busy %.2f %.2f; errors %s)  ratio %.2f\n' \
			"$ka" "$r" "$1" "$2" "$3" "$(busy "$1" "$2")" "$(busy "$1" "$3")" "$4" \
			"$5" "$6" "$7" "$(busy "$5" "$6")" "$(busy "$5" "$7")" "$8" "$(awk -v a="$1" -v b="$5" 'BEGIN {print b / a}')"
		echo "$1 $5" | awk '{print $2 / $1}' >>"$tmp/ratio"
		r=$((r + 1))
	done
	ab_m=$(awk '{print $1}' "$tmp/ab" | median)
	lg_m=$(awk '{print $1}' "$tmp/lg" | median)
	ratio_m=$(tail -n "$ROUNDS" "$tmp/ratio" | median)
	printf 'keep-alive %-3s MEDIAN: ab %.0f req/s, load-agent %.0f req/s, ratio of medians %.2f, median ratio %.2f (client CPU median: ab %s µs/req, load-agent %s µs/req)\n' \
		"$ka" "$ab_m" "$lg_m" "$(awk -v a="$ab_m" -v b="$lg_m" 'BEGIN {print b / a}')" "$ratio_m" \
		"$(awk '{print $2}' "$tmp/ab" | median)" "$(awk '{print $2}' "$tmp/lg" | median)"
}

for ka in $MODES; do
	if [ -n "$LOCK" ]; then
		exec 9>"$LOCK"
		echo "waiting for $LOCK …"
		flock 9
	fi
	series "$ka"
	[ -z "$LOCK" ] || flock -u 9
done
