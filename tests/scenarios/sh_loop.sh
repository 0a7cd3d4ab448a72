#!/bin/bash
# sh_loop.sh: a bash script counting in a loop, keeping the counter in a
# variable, an array and the file "count", throttled by `read -t 0.05` on
# its stdin FIFO (pselect6 with a signal mask inside bash). Only builtins
# run in the loop: a forked child would make the checkpoint refuse. It
# follows the scenario protocol: it creates "ready" and, on the runner's
# SIGTERM after the restart, checks that it has its own PID, that the
# counter, the array and the file agree, that counting goes on, and exits 0
# (or 1, saying why).
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pid=$BASHPID
n=0
told=0
sq=()
trap 'told=1' TERM
[ -p /dev/stdin ] || fail "stdin is not a FIFO"
: >ready
while [ "$told" = 0 ]; do
	n=$((n + 1))
	sq[n]=$((n * n))
	read -t 0.05 -r line
	# after the read, which the SIGTERM ends: the file is the variable
	# even when the original (mode leave) wrote it last
	echo "$n" >count
done
[ "$BASHPID" = "$pid" ] || fail "pid $BASHPID, was $pid"
[ "$n" -ge 1 ] || fail "the loop never ran"
read -r saved <count
[ "$saved" = "$n" ] || fail "the file says $saved, the variable $n"
[ "${#sq[@]}" = "$n" ] || fail "the array has ${#sq[@]} elements, not $n"
for ((i = 1; i <= n; i++)); do
	[ "${sq[i]}" = $((i * i)) ] || fail "sq[$i] is ${sq[i]}"
done
last=$n
for ((i = 0; i < 10; i++)); do
	n=$((n + 1))
	read -t 0.01 -r line
	echo "$n" >count
done
read -r saved <count
[ "$n" = $((last + 10)) ] && [ "$saved" = "$n" ] || fail "counting does not go on: $n, $saved"
echo PASS >&2
exit 0
