# cow.sh: memory shared copy on write stays shared through checkpoint and
# restart (sourced by bench/run.sh). A forking server (bench/cowserver.c)
# fills a heap of BENCH_COW_MIB (256) and forks BENCH_COW_CHILDREN (8)
# children that read it and each write 1% of its pages. The tree's memory
# is measured while it runs, then it is checkpointed with --kill and
# restarted, and measured again, two ways:
#
#   - Pss summed over the tree (/proc/PID/smaps_rollup): each page counts
#     once, split among the processes that map it;
#   - system-wide, the growth of AnonPages + PageTables (/proc/meminfo)
#     from just before the tree is created to just after: each anonymous
#     page counts once however many processes map it. ("used", from
#     MemFree, is no measure on this machine's virtual hardware: it has
#     been seen moving by a fraction of what a process allocates.)
#
# Prints after/before ratios (goal: at most 1.10), and the image's size
# against the heap's: one heap plus the pages the children wrote, not one
# heap per process. Also the time of the two steps.

cow_mib=${BENCH_COW_MIB:-256}
cow_kids=${BENCH_COW_CHILDREN:-8}
cow_permille=10
cow_runs=7

# anon_kib: anonymous memory and page tables in use on the machine, in KiB
anon_kib() { awk '/^(AnonPages|PageTables):/ { s += $2 } END { print s }' /proc/meminfo; }

# pss_kib PID...: the sum of the processes' Pss, in KiB
pss_kib() {
	local p s=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

# cow_cycle: one run; appends "pss_before pss_after sys_before sys_after
# image_bytes ckpt_ms rst_ms" (KiB, bytes, ms) to $WORK/cycles
cow_cycle() {
	local a0 a1 a2 a3 p1 p3 c r pids p n
	rm -f "$WORK/img"
	a0=$(anon_kib)
	start "$B/cowserver" "$cow_mib" "$cow_kids" "$cow_permille"
	# checkpoint --kill kills it, so this shell does not report on it
	disown "$PID"
	a1=$(anon_kib)
	pids=$(tree_pids "$PID")
	p1=$(pss_kib $pids)
	c=$("$B/measure" "$CKPT" checkpoint --kill -o "$WORK/img" "$PID")
	# a checkpoint that failed left the tree running
	if [ "$(set -- $c; echo "$3")" != 0 ]; then kill_tree "$PID"; fi
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.01; done
	done
	a2=$(anon_kib)
	r=$("$B/measure" "$CKPT" restart "$WORK/img")
	a3=$(anon_kib)
	pids=$(tree_pids "$PID")
	p3=$(pss_kib $pids)
	n=$(echo $pids | wc -w)
	if [ "$n" != $((cow_kids + 1)) ]; then
		echo "  (a restart returned with $n of the $((cow_kids + 1)) processes)" >&2
	fi
	kill_tree "$PID"
	set -- $c $r
	if [ "$3" != 0 ] || [ "$6" != 0 ]; then
		echo "  (a cycle failed: checkpoint status $3, restart status $6)" >&2
	fi
	echo "$p1 $p3 $((a1 - a0)) $((a3 - a2)) $(stat -c %s "$WORK/img" 2>/dev/null || echo 0) $1 $4" \
		>>"$WORK/cycles"
}

echo "copy on write: a server's $cow_mib MiB heap shared with $cow_kids children that each write" \
	"$((cow_permille / 10))% of it, $cow_runs runs:"
: >"$WORK/cycles"
for i in $(seq "$cow_runs"); do
	cow_cycle
done
# per run: the ratios, and the image in heaps; medians of each
awk -v heap="$cow_mib" '{
	print $1, $2, $3, $4, ($1 > 0 ? $2 / $1 : 0), ($3 > 0 ? $4 / $3 : 0), $5 / (heap * 1048576), $5, $6, $7
}' "$WORK/cycles" >"$WORK/rates"
m() { awk -v c="$1" '{ print $c }' "$WORK/rates" | median; }
printf '  %-40s %7s %7s %7s\n' "memory of the tree" before after ratio
printf '  %-40s %3d MiB %3d MiB %7.3f\n' "Pss summed over its processes" \
	"$(($(m 1) / 1024))" "$(($(m 2) / 1024))" "$(m 5)"
printf '  %-40s %3d MiB %3d MiB %7.3f\n' "system-wide: AnonPages + PageTables" \
	"$(($(m 3) / 1024))" "$(($(m 4) / 1024))" "$(m 6)"
printf '  image %d MiB, %.3f heaps   (one heap plus the written pages: %.3f; a copy per process: %d)\n' \
	"$(($(m 8) / 1048576))" "$(m 7)" \
	"$(echo "$cow_kids $cow_permille" | awk '{ print 1 + $1 * $2 / 1000 }')" "$((cow_kids + 1))"
printf '  checkpoint --kill %.0f ms, restart %.0f ms\n' "$(m 9)" "$(m 10)"
echo "  goal: after/before at most 1.10 both ways"
echo
