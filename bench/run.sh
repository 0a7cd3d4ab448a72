#!/usr/bin/env bash
# run.sh: `make bench`. How fast checkpoint and restart go, as medians of
# several runs, next to this machine's own limits measured in the same run:
# the bandwidth of simply writing and reading as many bytes to a tmpfs
# file. Figures and ratios only; nothing here passes or fails.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CKPT=$ROOT/$BUILD/ckpt
B=$ROOT/$BUILD/bench
. "$ROOT/tests/lib/common.sh"
WORK=$(mktemp -d /dev/shm/ckpt-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# start TARGET ARGS...: starts a target in $WORK, waits until it is ready
start() {
	rm -f "$WORK/ready"
	(cd "$WORK" && exec_clean "$@" </dev/null >/dev/null 2>&1) &
	PID=$!
	if [ "$1" = sleep ]; then
		sleep 0.05
	else
		while [ ! -e "$WORK/ready" ]; do sleep 0.01; done
	fi
}

# cycle: checkpoint and restart of $PID; appends "ckpt_ms ckpt_kib rst_ms
# rst_kib" to $WORK/cycles. The checkpoint leaves the process running and it
# is killed outside the timing: freeing its memory at exit is the kernel's
# work, not the checkpoint's.
cycle() {
	local c r
	rm -f "$WORK/img"
	c=$("$B/measure" "$CKPT" checkpoint -o "$WORK/img" "$PID")
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	r=$("$B/measure" "$CKPT" restart "$WORK/img")
	kill -KILL "$PID" 2>/dev/null
	while kill -0 "$PID" 2>/dev/null; do sleep 0.01; done
	set -- $c $r
	if [ "$3" != 0 ] || [ "$6" != 0 ]; then
		echo "  (a cycle failed: checkpoint status $3, restart status $6)" >&2
	fi
	echo "$1 $2 $4 $5" >>"$WORK/cycles"
}

col() { awk -v c="$1" '{ print $c }' "$WORK/cycles" | median; }

echo "ckpt benchmarks ($(nproc) cores, kernel $(uname -r)); medians of the runs shown"
echo

echo "trivial process (sleep), 20 runs:"
: >"$WORK/cycles"
for i in $(seq 20); do
	start sleep 1000
	cycle
done
printf '  checkpoint %7.2f ms   restart %7.2f ms   (goal: each under 10 ms)\n' "$(col 1)" "$(col 3)"
echo

for spec in "1024 5" "4096 3"; do
	set -- $spec
	mib=$1 runs=$2
	read -r wbw rbw < <("$B/tmpfs_bw" "$WORK/bw" "$mib")
	: >"$WORK/cycles"
	for i in $(seq "$runs"); do
		start "$B/memhog" "$mib"
		cycle
	done
	cms=$(col 1) rms=$(col 3)
	echo "$mib MiB of touched anonymous memory, image on tmpfs, $runs runs:"
	awk -v mib="$mib" -v cms="$cms" -v rms="$rms" -v wbw="$wbw" -v rbw="$rbw" \
		-v ckib="$(col 2)" -v rkib="$(col 4)" 'BEGIN {
		gb = mib * 1048576 / 1e9
		printf "  tmpfs write %6.2f GB/s   read %6.2f GB/s   (this machine, same run)\n", wbw, rbw
		c = gb / (cms / 1000); r = gb / (rms / 1000)
		printf "  checkpoint  %6.2f GB/s   %4.0f%% of tmpfs write, %4.0f%% of read   (%.0f ms, ckpt peak RSS %d MiB)\n", \
			c, 100 * c / wbw, 100 * c / rbw, cms, ckib / 1024
		printf "  restart     %6.2f GB/s   %4.0f%% of tmpfs write, %4.0f%% of read   (%.0f ms, ckpt peak RSS %d MiB)\n", \
			r, 100 * r / wbw, 100 * r / rbw, rms, rkib / 1024
		printf "  goals: each at 50%% or more of tmpfs write bandwidth; ckpt memory bounded\n\n"
	}'
done
