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

# cycle [MIB]: checkpoint and restart of $PID; appends "ckpt_ms ckpt_kib
# rst_ms rst_kib write_gbs read_gbs" to $WORK/cycles. The checkpoint leaves
# the process running and it is killed outside the timing: freeing its
# memory at exit is the kernel's work, not the checkpoint's. With MIB, the
# machine's tmpfs bandwidth is measured right before each step, so the
# limit and the step meet the same conditions. On a virtual machine, memory
# freed a while ago may have gone back to the host and cost a fault on its
# next touch: an unmeasured write first makes sure the memory the measured
# write and then the checkpoint get is backed by the host.
cycle() {
	local c r w=0 rd=0
	rm -f "$WORK/img"
	if [ -n "${1:-}" ]; then
		"$B/tmpfs_bw" write "$WORK/bw" "$1" >/dev/null
		w=$("$B/tmpfs_bw" write "$WORK/bw" "$1")
	fi
	c=$("$B/measure" "$CKPT" checkpoint -o "$WORK/img" "$PID")
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	if [ -n "${1:-}" ]; then rd=$("$B/tmpfs_bw" read "$WORK/img"); fi
	r=$("$B/measure" "$CKPT" restart "$WORK/img")
	kill -KILL "$PID" 2>/dev/null
	while kill -0 "$PID" 2>/dev/null; do sleep 0.01; done
	set -- $c $r
	if [ "$3" != 0 ] || [ "$6" != 0 ]; then
		echo "  (a cycle failed: checkpoint status $3, restart status $6)" >&2
	fi
	echo "$1 $2 $4 $5 $w $rd" >>"$WORK/cycles"
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
	: >"$WORK/cycles"
	for i in $(seq "$runs"); do
		start "$B/memhog" "$mib"
		cycle "$mib"
	done
	echo "$mib MiB of touched anonymous memory, image on tmpfs, $runs runs:"
	# per run: GB/s of checkpoint and restart, and their ratios to the
	# tmpfs bandwidth measured next to them; medians of each
	awk -v mib="$mib" '{
		gb = mib * 1048576 / 1e9
		c = gb / ($1 / 1000); r = gb / ($3 / 1000)
		print c, r, $5, $6, 100 * c / $5, 100 * r / $5, 100 * r / $6, $1, $3, $2, $4
	}' "$WORK/cycles" >"$WORK/rates"
	m() { awk -v c="$1" '{ print $c }' "$WORK/rates" | median; }
	printf '  tmpfs write %6.2f GB/s   read %6.2f GB/s   (this machine, measured next to each run)\n' \
		"$(m 3)" "$(m 4)"
	printf '  checkpoint  %6.2f GB/s   %4.0f%% of tmpfs write   (%.0f ms, ckpt peak RSS %d MiB)\n' \
		"$(m 1)" "$(m 5)" "$(m 8)" "$(($(m 10) / 1024))"
	printf '  restart     %6.2f GB/s   %4.0f%% of tmpfs write, %4.0f%% of read   (%.0f ms, ckpt peak RSS %d MiB)\n' \
		"$(m 2)" "$(m 6)" "$(m 7)" "$(m 9)" "$(($(m 11) / 1024))"
	echo "  goals: each at 50% or more of tmpfs write bandwidth; ckpt memory bounded"
	echo
done
