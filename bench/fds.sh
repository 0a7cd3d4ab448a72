# fds.sh: the time checkpoint and restart take per descriptor (sourced by
# bench/run.sh): a process with BENCH_FDS (10,000) descriptors of the usual
# kinds (bench/fds.c: separate opens of one file, dups of them, pipe ends
# with data, /dev/null), next to a trivial process, which gives the fixed
# cost to take away; and a process holding one pipe of the largest
# capacity the machine allows, full: the cost of its data, against the
# same trivial process.

nfds=${BENCH_FDS:-10000}
fd_runs=7

echo "a process with $nfds descriptors, $fd_runs runs (per descriptor: the difference to a trivial process):"
: >"$WORK/cycles"
for i in $(seq "$fd_runs"); do
	start sleep 1000
	cycle
done
base_c=$(col 1)
base_r=$(col 3)
: >"$WORK/cycles"
for i in $(seq "$fd_runs"); do
	start "$B/fds" fds "$nfds"
	cycle
done
for step in checkpoint:1:$base_c restart:3:$base_r; do
	t=$(col "$(echo "$step" | cut -d: -f2)")
	b=${step##*:}
	printf '  %-10s %8.1f ms   (trivial %5.1f ms)   %6.2f us per descriptor\n' "${step%%:*}" "$t" "$b" \
		"$(echo "$t $b $nfds" | awk '{ print ($1 - $2) * 1000 / $3 }')"
done
echo "  image $(($(stat -c %s "$WORK/img") / 1024)) KiB; checkpoint's peak memory $(col 2) KiB"
echo

echo "a pipe of $(($(cat /proc/sys/fs/pipe-max-size) / 1024)) KiB, full, $fd_runs runs:"
: >"$WORK/cycles"
for i in $(seq "$fd_runs"); do
	start "$B/fds" pipe
	cycle
done
for step in checkpoint:1:$base_c restart:3:$base_r; do
	t=$(col "$(echo "$step" | cut -d: -f2)")
	b=${step##*:}
	printf '  %-10s %8.1f ms   (trivial %5.1f ms)   %6.2f ms for its data\n' "${step%%:*}" "$t" "$b" \
		"$(echo "$t $b" | awk '{ print $1 - $2 }')"
done
echo
