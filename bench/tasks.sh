# tasks.sh: the time checkpoint and restart take per task (sourced by
# bench/run.sh), on two shapes of BENCH_TASKS (100) tasks: a tree of
# processes shaped like a preforking server (bench/tree.c: a root, 40%
# workers, helpers and helpers' helpers, all blocked in wait4, pause or
# nanosleep), and one process with as many threads, shaped like a thread
# pool (bench/threads.c). The tree is checkpointed left running, killed
# whole outside the timing, and restarted; restart must bring back every
# task. Prints the totals, the time per task and its ratio to the goal.

tasks=${BENCH_TASKS:-100}
task_runs=10
task_goal_ms=1

# task_report: the figures of $WORK/cycles, total and per task
task_report() {
	local step col t
	for step in checkpoint:1 restart:3; do
		col=${step#*:}
		t=$(col "$col")
		printf '  %-10s %8.1f ms   %6.2f ms per task   %5.2fx the goal\n' "${step%:*}" "$t" \
			"$(echo "$t $tasks" | awk '{ print $1 / $2 }')" \
			"$(echo "$t $tasks $task_goal_ms" | awk '{ print $1 / $2 / $3 }')"
	done
	echo "  goal: under $task_goal_ms ms per task (1.00x)"
	echo
}

echo "a tree of $tasks processes (a server's root, workers and their helpers), $task_runs runs:"
: >"$WORK/cycles"
for i in $(seq "$task_runs"); do
	start "$B/tree" "$tasks"
	cycle "" "$tasks"
done
task_report

echo "one process with $tasks threads (a thread pool), $task_runs runs:"
: >"$WORK/cycles"
for i in $(seq "$task_runs"); do
	start "$B/threads" "$tasks"
	cycle "" "$tasks" threads
done
task_report
