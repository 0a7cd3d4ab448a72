#!/bin/bash
# sh_jobs.sh: a bash script with background jobs, checkpointed while they
# run. With job control on (set -m) each job is a process group of its
# own: `sleep 4` (ends with 0), a subshell `(sleep 4; exit 3)` leading a
# group with its sleep in it (3), a subshell that kills itself with
# SIGKILL after `sleep 4` (137), `(exit 5)`, which ended and was reaped
# before the checkpoint (its status is in bash's memory only), and
# `sleep 1000`, which the script kills after the restart (143); with job
# control off, `sleep 4` in the shell's own group (0). The shell runs a
# loop of builtins meanwhile (`read -t 0.05` on its stdin FIFO, a counter).
#
# It follows the scenario protocol: it creates "ready" and, on the
# runner's SIGTERM after the restart, checks that it has its own PID, that
# every job has its PID, parent, group and session, that `$!` and
# `jobs -p` still name them, that `wait` collects each with its status,
# that no job is left, and that a new job still works; it exits 0 (or 1,
# saying why).
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ids PID: sets IDS to "ppid pgid sid" of the process (builtins only)
ids() {
	local s
	read -r s <"/proc/$1/stat" || fail "no process $1"
	s=${s##*) }
	set -- $s
	IDS="$2 $3 $4"
}

pid=$BASHPID
ids "$pid"
read -r _ shell_pgid shell_sid <<<"$IDS"
n=0
told=0
trap 'told=1' TERM
[ -p /dev/stdin ] || fail "stdin is not a FIFO"

set -m
sleep 4 &
j1=$!
(
	sleep 4
	exit 3
) &
j2=$!
(
	sleep 4
	kill -KILL $BASHPID
) &
j3=$!
(exit 5) &
j4=$!
set +m
sleep 4 &
j5=$!
set -m
sleep 1000 &
j6=$!

# the finished job is reaped (by bash, on SIGCHLD) before the checkpoint
while kill -0 "$j4" 2>/dev/null; do
	read -t 0.01 -r _
done
# every job has its group, and the subshell of j2 its sleep
for ((i = 0; i < 500; i++)); do
	read -r j2_kid _ <"/proc/$j2/task/$j2/children"
	[ -n "$j2_kid" ] && break
	read -t 0.01 -r _
done
[ -n "$j2_kid" ] || fail "the subshell of job 2 has no child"
declare -A was
for j in "$j1" "$j2" "$j2_kid" "$j3" "$j5" "$j6"; do
	ids "$j"
	was[$j]=$IDS
done
[ "${was[$j1]}" = "$pid $j1 $shell_sid" ] || fail "job 1 is ${was[$j1]}"
[ "${was[$j2_kid]}" = "$j2 $j2 $shell_sid" ] || fail "the sleep of job 2 is ${was[$j2_kid]}"
[ "${was[$j5]}" = "$pid $shell_pgid $shell_sid" ] || fail "job 5 is ${was[$j5]}"
last=$!

: >ready
while [ "$told" = 0 ]; do
	n=$((n + 1))
	read -t 0.05 -r _
done

[ "$BASHPID" = "$pid" ] || fail "pid $BASHPID, was $pid"
[ "$n" -ge 1 ] || fail "the loop never ran"
ids "$pid"
read -r _ pgid sid <<<"$IDS"
[ "$pgid $sid" = "$shell_pgid $shell_sid" ] || fail "the shell's group and session are $pgid $sid"
for j in "${!was[@]}"; do
	ids "$j"
	[ "$IDS" = "${was[$j]}" ] || fail "process $j: ppid/pgid/sid $IDS, were ${was[$j]}"
done
[ "$!" = "$last" ] && [ "$last" = "$j6" ] || fail "\$! is $!, was $last (job 6 is $j6)"
running=" $(jobs -p | tr '\n' ' ')"
for j in "$j1" "$j2" "$j3" "$j5" "$j6"; do
	[[ $running == *" $j "* ]] || fail "jobs -p does not name $j: $running"
done

kill -TERM "$j6" || fail "cannot signal job 6"
wait "$j6"
st=$?
[ "$st" = 143 ] || fail "job 6 (sleep 1000, SIGTERM) ended with $st, not 143"
wait "$j1"
st=$?
[ "$st" = 0 ] || fail "job 1 (sleep 4) ended with $st, not 0"
wait "$j2"
st=$?
[ "$st" = 3 ] || fail "job 2 (exit 3) ended with $st, not 3"
wait "$j3"
st=$?
[ "$st" = 137 ] || fail "job 3 (SIGKILL) ended with $st, not 137"
wait "$j4"
st=$?
[ "$st" = 5 ] || fail "job 4 (exit 5, reaped before the checkpoint) ended with $st, not 5"
wait "$j5"
st=$?
[ "$st" = 0 ] || fail "job 5 (sleep 4, no job control) ended with $st, not 0"
wait
[ -z "$(jobs -p)" ] || fail "jobs left: $(jobs -p)"
[ ! -d "/proc/$j2_kid" ] || fail "the sleep of job 2 is still there"

# a new job, after the restart
(exit 9) &
wait $!
st=$?
[ "$st" = 9 ] || fail "a new job ended with $st, not 9"
echo PASS >&2
exit 0
