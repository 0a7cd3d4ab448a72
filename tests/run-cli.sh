#!/usr/bin/env bash
# run-cli.sh: the checkpoint command line, against live targets: options
# after the PID, the PIDs ckpt must refuse with a clear reason (a thread ID,
# PID 1, an ancestor of ckpt, a process traced from outside the tree, a PID
# that does not exist) and their exit
# statuses, SIGINT during a checkpoint that waits for a vfork, and a vfork
# child the kernel attached to ckpt while ckpt seized its parent. One line
# per check, then "cli: N passed, N failed"; counts go to $RESULT_FILE.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CKPT=$ROOT/$BUILD/ckpt
SCEN=$ROOT/$BUILD/tests/scenarios
. "$ROOT/tests/lib/common.sh"
DIR=$(mktemp -d /tmp/ckpt-cli.XXXXXX)
pass=0
fail=0
PIDS=

ok() {
	pass=$((pass + 1))
	printf 'PASS  cli %s\n' "$1"
}

bad() {
	fail=$((fail + 1))
	printf 'FAIL  cli %s: %s\n' "$1" "$2"
}

# start CMD...: a target with a clean descriptor table, in $DIR; PID in T
start() {
	(cd "$DIR" && exec_clean "$@" </dev/null >>"$DIR/log" 2>&1) &
	T=$!
	PIDS="$PIDS $T"
}

# expect NAME CODE TEXT CKPT-ARGS...: ckpt exits CODE saying TEXT
expect() {
	local name=$1 code=$2 text=$3 st
	shift 3
	"$CKPT" "$@" >"$DIR/out" 2>"$DIR/err" </dev/null
	st=$?
	if [ "$st" != "$code" ]; then
		bad "$name" "exited $st, expected $code: $(tr '\n' ' ' <"$DIR/err")"
	elif ! grep -qF -- "$text" "$DIR/err"; then
		bad "$name" "no '$text' in: $(tr '\n' ' ' <"$DIR/err")"
	else
		ok "$name"
	fi
}

start /bin/sleep 100
sleeper=$T
for i in $(seq 100); do [ "$(readlink /proc/$sleeper/exe)" = /bin/sleep ] && break; sleep 0.01; done

# options after the PID (GNU order)
rm -f "$DIR/img"
if "$CKPT" checkpoint "$sleeper" -o "$DIR/img" 2>"$DIR/err" && [ -s "$DIR/img" ] &&
	kill -0 "$sleeper" 2>/dev/null; then
	ok "options after the pid"
else
	bad "options after the pid" "$(tr '\n' ' ' <"$DIR/err")"
fi
if "$CKPT" show "$DIR/img" --json >/dev/null 2>"$DIR/err"; then
	ok "options after the file"
else
	bad "options after the file" "$(tr '\n' ' ' <"$DIR/err")"
fi

# a thread ID
start /usr/bin/python3 -c 'import threading, time
threading.Thread(target=time.sleep, args=(100,)).start()
time.sleep(100)'
py=$T
tid=
for i in $(seq 300); do
	tid=$(ls "/proc/$py/task" 2>/dev/null | grep -vx "$py" | head -n 1)
	[ -n "$tid" ] && break
	sleep 0.01
done
expect "thread id" 1 "pid $tid is a thread of process $py" checkpoint -o "$DIR/x" "$tid"

expect "pid 1" 1 "pid 1: is the init of ckpt's pid namespace" checkpoint -o "$DIR/x" 1
expect "an ancestor" 1 "pid $$: is an ancestor of ckpt" checkpoint -o "$DIR/x" $$
# traced by a process outside the tree: refused, naming the tracer
start /bin/sleep 100
traced=$T
for i in $(seq 100); do [ "$(readlink /proc/$traced/exe)" = /bin/sleep ] && break; sleep 0.01; done
start /usr/bin/python3 -c 'import ctypes, sys, time
if ctypes.CDLL(None, use_errno=True).ptrace(0x4206, int(sys.argv[1]), 0, 0):
	sys.exit(1)
open("traced", "w").close()
time.sleep(100)' "$traced"
tracer=$T
for i in $(seq 300); do [ -e "$DIR/traced" ] && break; sleep 0.01; done
expect "traced" 3 "pid $traced tid $traced: is traced by pid $tracer, outside the tree" \
	checkpoint -o "$DIR/x" "$traced"
{
	kill -KILL "$tracer"
	wait "$tracer"
} 2>/dev/null

gone=$sleeper
kill -KILL "$gone"
wait "$gone" 2>/dev/null
expect "no such process" 6 "pid $gone: no such process" checkpoint -o "$DIR/x" "$gone"

# SIGINT while the freeze waits for a vfork parent: interrupted, the tree
# left as it was (the vfork child then ends on SIGUSR1, the root passes)
mkdir "$DIR/vf"
(cd "$DIR/vf" && exec_clean "$SCEN/tree_refuse" vfork </dev/null >"$DIR/vf/log" 2>&1) &
root=$!
PIDS="$PIDS $root"
for i in $(seq 1000); do [ -e "$DIR/vf/ready" ] && break; sleep 0.01; done
"$CKPT" checkpoint -o "$DIR/vf/img" "$root" 2>"$DIR/err" &
c=$!
sleep 1
kill -INT "$c"
wait "$c"
st=$?
kill -TERM "$root"
wait "$root"
rst=$?
if [ "$st" != 1 ] || ! grep -qF "checkpoint interrupted" "$DIR/err"; then
	bad "sigint" "exited $st: $(tr '\n' ' ' <"$DIR/err")"
elif [ -e "$DIR/vf/img" ]; then
	bad "sigint" "an interrupted checkpoint left an image"
elif [ "$rst" != 0 ]; then
	bad "sigint" "the tree was harmed (root status $rst): $(tail -n 3 "$DIR/vf/log")"
else
	ok "sigint"
fi

# a vfork child attached to ckpt as it is cloned (CLONE_PTRACE) while ckpt
# has seized its parent: the parent waits for it, ckpt lets it go
mkdir "$DIR/vp"
(cd "$DIR/vp" && exec_clean "$SCEN/freeze" vfork-ptrace </dev/null >"$DIR/vp/log" 2>&1) &
root=$!
PIDS="$PIDS $root"
for i in $(seq 1000); do [ -e "$DIR/vp/ready" ] && break; sleep 0.01; done
CKPT_FAULT=freeze-seize-slow timeout 60 "$CKPT" checkpoint -o "$DIR/vp/img" "$root" \
	2>"$DIR/err"
st=$?
kill -TERM "$root"
wait "$root"
rst=$?
if [ "$st" != 0 ]; then
	bad "vfork child attached" "checkpoint exited $st: $(tr '\n' ' ' <"$DIR/err")"
elif [ "$rst" != 0 ]; then
	bad "vfork child attached" "the tree was harmed (root status $rst): $(tail -n 3 "$DIR/vp/log")"
else
	ok "vfork child attached"
fi

{
	for p in $PIDS; do kill -KILL "$p"; done
	wait
} 2>/dev/null
echo "cli: $pass passed, $fail failed"
if [ "$fail" = 0 ]; then rm -rf "$DIR"; else echo "      (kept in $DIR)"; fi
if [ -n "${RESULT_FILE:-}" ]; then echo "$pass $fail" >>"$RESULT_FILE"; fi
[ "$fail" = 0 ]
