# lib.sh: shell helpers shared by the benchmark scripts (sourced by
# bench/run.sh): medians, starting a target and waiting until it is ready,
# finding and killing a whole process tree, and one checkpoint-and-restart
# cycle. Expects CKPT, B (the benchmark programs) and WORK (a directory on
# tmpfs) to be set.

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

# tree_pids ROOT: ROOT and every process below it, one PID a line
tree_pids() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p
				while (q in parent && q != root)
					q = parent[q]
				if (q == root)
					print p
			}
		}'
}

# kill_tree ROOT: kills ROOT and every process below it at once, and waits
# until all of them are gone and reaped (restart needs their PIDs free). A
# restarted tree keeps its original PIDs, and its root is no child of this
# shell: the processes are listed first, then killed together, before any
# of them can be reparented out of sight. Orphans come to this shell, a
# subreaper (bench/run.sh), which reaps them.
kill_tree() {
	local pids p
	pids=$(tree_pids "$1")
	[ -n "$pids" ] || return 0
	kill -KILL $pids 2>/dev/null
	wait "$1" 2>/dev/null
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.01; done
	done
}

# count_tasks ROOT: how many processes the tree at ROOT has, or with
# "threads", how many threads the process ROOT has
count_tasks() {
	if [ "${2:-}" = threads ]; then
		awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
	else
		tree_pids "$1" | wc -l
	fi
}

# cycle [MIB] [TASKS [threads]]: checkpoint and restart of the tree at
# $PID; appends "ckpt_ms ckpt_kib rst_ms rst_kib write_gbs read_gbs" to
# $WORK/cycles. The checkpoint leaves the tree running and it is killed
# outside the timing: freeing its memory at exit is the kernel's work, not
# the checkpoint's. With MIB, the machine's tmpfs bandwidth is measured
# right before each step, so the limit and the step meet the same
# conditions. On a virtual machine, memory freed a while ago may have gone
# back to the host and cost a fault on its next touch: an unmeasured write
# first makes sure the memory the measured write and then the checkpoint
# get is backed by the host. With TASKS, the restarted tree must have that
# many processes (or threads) when restart returns.
cycle() {
	local c r w=0 rd=0 n
	rm -f "$WORK/img"
	if [ -n "${1:-}" ]; then
		"$B/tmpfs_bw" write "$WORK/bw" "$1" >/dev/null
		w=$("$B/tmpfs_bw" write "$WORK/bw" "$1")
	fi
	c=$("$B/measure" "$CKPT" checkpoint -o "$WORK/img" "$PID")
	kill_tree "$PID"
	if [ -n "${1:-}" ]; then rd=$("$B/tmpfs_bw" read "$WORK/img"); fi
	r=$("$B/measure" "$CKPT" restart "$WORK/img")
	if [ -n "${2:-}" ] && [ "$(set -- $r; echo "$3")" = 0 ]; then
		n=$(count_tasks "$PID" "${3:-}")
		if [ "$n" != "$2" ]; then
			echo "  (a restart returned with $n of the $2 tasks)" >&2
		fi
	fi
	kill_tree "$PID"
	set -- $c $r
	if [ "$3" != 0 ] || [ "$6" != 0 ]; then
		echo "  (a cycle failed: checkpoint status $3, restart status $6)" >&2
	fi
	echo "$1 $2 $4 $5 $w $rd" >>"$WORK/cycles"
}

col() { awk -v c="$1" '{ print $c }' "$WORK/cycles" | median; }
