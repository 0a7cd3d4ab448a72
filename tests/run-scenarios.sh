#!/usr/bin/env bash
# run-scenarios.sh: drives the scenarios listed in tests/scenarios/*.list
# through checkpoint and restart in each of their modes, one line per test.
#
# List lines are "name | command | modes | options". The command's first
# word is a program in build/tests/scenarios or a path. Modes:
#   kill      checkpoint --kill, restart --wait, SIGTERM, expect the status
#   leave     checkpoint leaving it running: the original must pass, then
#             a restart of the image must pass too
#   stream    checkpoint --kill -o - | restart -
#   refuse    checkpoint must fail with exit 3 and the message 'expect=';
#             the target then passes (it was left intact)
#   changed   checkpoint leaving it running; the original passes (its check
#             changes a file it holds); then the restart must fail with exit
#             1 and the message 'expect=', and leave nothing behind
#   pidtaken  restart while the original runs: exit 5, nothing created
#   tidtaken  restart while a thread ID of the image is taken: exit 5,
#             nothing created; then a restart once it is free
#   trunc     restart of a truncated image: exit 4, nothing left behind
#   flip      restart of an image with a flipped byte in its page data
#   fault-ckpt:POINT  CKPT_FAULT=POINT at checkpoint: fails, target intact
#   fault-rst:POINT   CKPT_FAULT=POINT at restart: fails, nothing left
#   pidns     checkpoint leaving it running, restart --pidns --wait beside
#             the original: the copy (signalled through ckpt, which passes
#             the signal on to the namespace's init, and init to the root)
#             must pass, then the original must pass too
#   pidns-stream  the same through a pipe (checkpoint -o - | restart
#             --pidns -), the copy signalled directly at its --pidfile PID
#   pidns2    two copies with --pidns beside the original, all running at
#             once; each must pass, then the original
#   fault-pidns:POINT  CKPT_FAULT=POINT at restart --pidns beside the
#             original: fails with 1, leaves no process; the original passes
#   pidns-busy  restart --pidns beside the original, which holds what the
#             copy needs (file locks): fails with 1 and the message
#             'expect=', leaves no process; the original passes
#   pidns-pid1  the command also runs as PID 1 of a namespace of its own,
#             checkpointed from inside: restart --pidns of that image must
#             fail with 5 (PID 1 is the new namespace's init); both pass
# Options: self (ends by itself, no SIGTERM), stdin=fifo, feed=TEXT
# (written to the fifo after each resume), expect=TEXT, status=N.
#
# Usage: tests/run-scenarios.sh [NAME-FILTER]. Counts go to $RESULT_FILE.
# SCEN_LISTS names other list files to run instead (a scenario repeated in
# many modes, to chase a race).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CKPT=$ROOT/$BUILD/ckpt
SCEN=$ROOT/$BUILD/tests/scenarios
TIMEOUT=${SCEN_TIMEOUT:-30}
FILTER=${1:-}
pass=0
fail=0
# bash reports targets killed by signals (which is what checkpoint --kill
# does) on stderr; keep that out of the results but not lost
mkdir -p "$ROOT/$BUILD/tests"
exec 2>>"$ROOT/$BUILD/tests/run-scenarios.err"

. "$ROOT/tests/lib/common.sh"

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }

# wait_for COND_CMD... : polls until the command succeeds or TIMEOUT.
wait_for() {
	local i
	for ((i = 0; i < TIMEOUT * 100; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

alive() { kill -0 "$1" 2>/dev/null; }

# the restart wrote its pidfile ($2, or $DIR/pid), or ended without
pidfile_or_gone() { test -s "${2:-$DIR/pid}" || ! alive "$1"; }

# reap PID: waits for our child PID, killing it after TIMEOUT seconds;
# its status goes to REAPED.
reap() {
	local wd
	(
		s=
		trap 'if [ -n "$s" ]; then kill "$s" 2>/dev/null; fi; exit 0' TERM
		sleep "$TIMEOUT" &
		s=$!
		wait "$s"
		kill -KILL "$1" 2>/dev/null
	) &
	wd=$!
	wait "$1" 2>/dev/null
	REAPED=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
}

# Per-test state
DIR= PID= REASON= REAPED= OPT_SELF= OPT_FIFO= OPT_FEED= OPT_EXPECT= OPT_STATUS=0 FEEDFD=
INITS= # the --pidns inits of this test, killed (with their namespaces) if it fails

start_target() {
	local -a cmd=($1)
	if [ -x "$SCEN/${cmd[0]}" ]; then cmd[0]=$SCEN/${cmd[0]}; fi
	if [ -n "$OPT_FIFO" ]; then
		mkfifo "$DIR/in"
		exec {FEEDFD}<>"$DIR/in"
	fi
	local in=/dev/null
	if [ -n "$OPT_FIFO" ]; then in=$DIR/in; fi
	(cd "$DIR" && exec_clean "${cmd[@]}" <"$in" >"$DIR/log" 2>&1) &
	PID=$!
	if ! wait_for test -e "$DIR/ready"; then
		REASON="never became ready"
		return 1
	fi
	if ! alive "$PID"; then
		REASON="exited before the checkpoint"
		return 1
	fi
}

feed() {
	if [ -n "$OPT_FEED" ]; then echo "$OPT_FEED" >&"$FEEDFD"; fi
}

# check_status WHO STATUS: the status a target ended with
check_status() {
	if [ "$2" != "$OPT_STATUS" ]; then
		REASON="$1 ended with status $2, expected $OPT_STATUS"
		return 1
	fi
}

# finish PID: lets a running target check itself; its status goes to REAPED.
finish() {
	feed
	if [ -z "$OPT_SELF" ]; then kill -TERM "$1" 2>/dev/null; fi
	reap "$1"
}

# restart_check: restart $DIR/img with --wait and check the result.
restart_check() {
	local in=/dev/null rpid
	if [ -n "$OPT_FIFO" ]; then in=$DIR/in; fi
	rm -f "$DIR/pid"
	"$CKPT" restart --wait --pidfile "$DIR/pid" "$DIR/img" <"$in" >"$DIR/ckpt.out" \
		2>"$DIR/ckpt.err" &
	rpid=$!
	if ! wait_for pidfile_or_gone "$rpid"; then
		REASON="restart timed out"
		kill -KILL "$rpid" 2>/dev/null
	fi
	if [ ! -s "$DIR/pid" ]; then
		wait "$rpid" 2>/dev/null
		REASON="restart failed: $(tail -n 3 "$DIR/ckpt.err" | tr '\n' ' ')"
		return 1
	fi
	if [ "$(cat "$DIR/pid")" != "$PID" ]; then
		REASON="restarted with pid $(cat "$DIR/pid"), not $PID"
		kill -KILL "$(cat "$DIR/pid")" 2>/dev/null
		wait "$rpid" 2>/dev/null
		return 1
	fi
	feed
	if [ -z "$OPT_SELF" ]; then kill -TERM "$PID" 2>/dev/null; fi
	reap "$rpid"
	if [ "$REAPED" = 137 ]; then kill -KILL "$PID" 2>/dev/null; fi
	check_status restarted "$REAPED"
}

checkpoint() {
	if ! "$CKPT" checkpoint "$@" >"$DIR/ckpt.out" 2>"$DIR/ckpt.err"; then
		REASON="checkpoint failed: $(tail -n 3 "$DIR/ckpt.err" | tr '\n' ' ')"
		return 1
	fi
}

# expect_fail CODE CMD...: the command must fail with exit CODE
expect_fail() {
	local code=$1 st
	shift
	"$@" >"$DIR/ckpt.out" 2>"$DIR/ckpt.err" </dev/null
	st=$?
	if [ "$st" != "$code" ]; then
		REASON="'$*' exited $st, expected $code: $(tail -n 2 "$DIR/ckpt.err" | tr '\n' ' ')"
		return 1
	fi
}

nothing_left() {
	if alive "$PID"; then
		REASON="a process with pid $PID was left behind"
		kill -KILL "$PID" 2>/dev/null
		return 1
	fi
}

mode_kill() {
	checkpoint --kill -o "$DIR/img" "$PID" || return 1
	reap "$PID"
	restart_check
}

mode_leave() {
	checkpoint -o "$DIR/img" "$PID" || return 1
	finish "$PID"
	check_status original "$REAPED" || return 1
	restart_check
}

mode_stream() {
	local rpid
	("$CKPT" checkpoint --kill -o - "$PID" 2>"$DIR/ckpt-c.err" |
		"$CKPT" restart --wait --pidfile "$DIR/pid" - >"$DIR/ckpt.out" 2>"$DIR/ckpt.err") &
	rpid=$!
	reap "$PID"
	wait_for pidfile_or_gone "$rpid"
	if [ ! -s "$DIR/pid" ]; then
		wait "$rpid"
		REASON="stream restart failed: $(cat "$DIR/ckpt-c.err" "$DIR/ckpt.err" | tr '\n' ' ')"
		return 1
	fi
	feed
	if [ -z "$OPT_SELF" ]; then kill -TERM "$PID"; fi
	reap "$rpid"
	check_status restarted "$REAPED"
}

mode_refuse() {
	expect_fail 3 "$CKPT" checkpoint -o "$DIR/img" "$PID" || return 1
	if ! grep -qF -- "$OPT_EXPECT" "$DIR/ckpt.err"; then
		REASON="refused without '$OPT_EXPECT': $(tr '\n' ' ' <"$DIR/ckpt.err")"
		return 1
	fi
	if [ -e "$DIR/img" ]; then
		REASON="a refused checkpoint left an image file"
		return 1
	fi
	finish "$PID"
	check_status original "$REAPED"
}

mode_changed() {
	checkpoint -o "$DIR/img" "$PID" || return 1
	finish "$PID"
	check_status original "$REAPED" || return 1
	expect_fail 1 "$CKPT" restart "$DIR/img" || return 1
	if ! grep -qF -- "$OPT_EXPECT" "$DIR/ckpt.err"; then
		REASON="restart refused without '$OPT_EXPECT': $(tr '\n' ' ' <"$DIR/ckpt.err")"
		return 1
	fi
	nothing_left
}

mode_pidtaken() {
	checkpoint -o "$DIR/img" "$PID" || return 1
	expect_fail 5 "$CKPT" restart "$DIR/img" || return 1
	if ! grep -qF "pid $PID: the pid is in use" "$DIR/ckpt.err"; then
		REASON="unclear error: $(tr '\n' ' ' <"$DIR/ckpt.err")"
		return 1
	fi
	finish "$PID"
	check_status original "$REAPED"
}

# A thread ID of the image taken by another process: exit 5, nothing
# created; once it is free again, the restart goes through.
mode_tidtaken() {
	local tid st
	tid=$(ls "/proc/$PID/task" | grep -vx "$PID" | head -n 1)
	if [ -z "$tid" ]; then
		REASON="the target has no thread besides its main one"
		return 1
	fi
	checkpoint --kill -o "$DIR/img" "$PID" || return 1
	reap "$PID"
	"$ROOT/$BUILD/tests/holdpid" "$tid" || { REASON="cannot hold tid $tid"; return 1; }
	expect_fail 5 "$CKPT" restart "$DIR/img"
	st=$?
	kill -KILL "$tid"
	if [ "$st" != 0 ]; then return 1; fi
	if ! grep -qF "tid $tid: the tid is in use" "$DIR/ckpt.err"; then
		REASON="unclear error: $(tr '\n' ' ' <"$DIR/ckpt.err")"
		return 1
	fi
	nothing_left || return 1
	restart_check
}

# damaged_restart: restart of $DIR/img must fail with 4 and leave nothing.
damaged_restart() {
	expect_fail 4 "$CKPT" restart "$DIR/img" || return 1
	nothing_left
}

mode_trunc() {
	local size
	checkpoint --kill -o "$DIR/img" "$PID" || return 1
	reap "$PID"
	size=$(stat -c %s "$DIR/img")
	cp "$DIR/img" "$DIR/img.whole"
	for cut in 100 $((size / 3)) $((size * 3 / 4)) $((size - 8)); do
		head -c "$cut" "$DIR/img.whole" >"$DIR/img"
		damaged_restart || { REASON="cut at $cut: $REASON"; return 1; }
	done
}

mode_flip() {
	local size off
	checkpoint --kill -o "$DIR/img" "$PID" || return 1
	reap "$PID"
	size=$(stat -c %s "$DIR/img")
	cp "$DIR/img" "$DIR/img.orig"
	off=$((size - 4096 - 100))
	byte=$(od -An -tu1 -j "$off" -N1 "$DIR/img")
	printf "\\$(printf '%03o' $((byte ^ 0xff)))" |
		dd of="$DIR/img" bs=1 seek="$off" conv=notrunc status=none
	if cmp -s "$DIR/img" "$DIR/img.orig" 2>/dev/null; then
		REASON="the byte did not change"
		return 1
	fi
	damaged_restart
}

mode_fault_ckpt() {
	expect_fail 1 env CKPT_FAULT="$1" "$CKPT" checkpoint -o "$DIR/img" "$PID" || return 1
	finish "$PID"
	check_status original "$REAPED"
}

mode_fault_rst() {
	checkpoint --kill -o "$DIR/img" "$PID" || return 1
	reap "$PID"
	expect_fail 1 env CKPT_FAULT="$1" "$CKPT" restart "$DIR/img" || return 1
	nothing_left
}

# in_dir: how many processes run in $DIR (the original tree, its copies)
in_dir() {
	local p n=0
	for p in /proc/[0-9]*; do
		if [ "$(readlink "$p/cwd" 2>/dev/null)" = "$DIR" ]; then n=$((n + 1)); fi
	done
	echo "$n"
}

# copy_started RPID PIDFILE: the restart --pidns RPID wrote PIDFILE, and
# the copy's root it names runs beside the original, with the original's
# PID inside its namespace. Its init goes to INITS.
copy_started() {
	local rpid=$1 pidfile=$2 cpid nspid
	if ! wait_for pidfile_or_gone "$rpid" "$pidfile"; then
		REASON="restart --pidns timed out"
		kill -KILL "$rpid" 2>/dev/null
	fi
	if [ ! -s "$pidfile" ]; then
		wait "$rpid" 2>/dev/null
		REASON="restart --pidns failed: $(tail -n 3 "$DIR/ckpt.err" | tr '\n' ' ')"
		return 1
	fi
	cpid=$(cat "$pidfile")
	INITS="$INITS $(awk '{ print $4 }' "/proc/$cpid/stat" 2>/dev/null)"
	if [ "$cpid" = "$PID" ] || ! alive "$cpid"; then
		REASON="the copy's pid $cpid is not a live process beside the original"
		return 1
	fi
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$cpid/status")
	if [ -z "$OPT_SELF" ] && [ "$nspid" != "$PID" ]; then
		REASON="the copy has pid '$nspid' in its namespace, not $PID"
		return 1
	fi
	if [ -z "$OPT_SELF" ] && ! alive "$PID"; then
		REASON="the original is gone"
		return 1
	fi
}

# copy_passes RPID TARGET: signals TARGET (unless self), reaps the restart
# --pidns --wait RPID: the copy must have passed.
copy_passes() {
	feed
	if [ -z "$OPT_SELF" ]; then kill -TERM "$2" 2>/dev/null; fi
	reap "$1"
	check_status copy "$REAPED"
}

# original_passes: the original, still running beside its copies, passes.
original_passes() {
	if [ -z "$OPT_SELF" ] && ! alive "$PID"; then
		REASON="the original did not outlive its copy"
		return 1
	fi
	finish "$PID"
	check_status original "$REAPED"
}

mode_pidns() {
	local rpid
	checkpoint -o "$DIR/img" "$PID" || return 1
	"$CKPT" restart --pidns --wait --pidfile "$DIR/pid" "$DIR/img" </dev/null \
		>"$DIR/ckpt.out" 2>"$DIR/ckpt.err" &
	rpid=$!
	copy_started "$rpid" "$DIR/pid" || return 1
	copy_passes "$rpid" "$rpid" || return 1
	original_passes
}

mode_pidns_stream() {
	local rpid
	("$CKPT" checkpoint -o - "$PID" 2>"$DIR/ckpt-c.err" |
		"$CKPT" restart --pidns --wait --pidfile "$DIR/pid" - >"$DIR/ckpt.out" \
			2>"$DIR/ckpt.err") &
	rpid=$!
	copy_started "$rpid" "$DIR/pid" ||
		{ REASON="$REASON $(tr '\n' ' ' <"$DIR/ckpt-c.err")"; return 1; }
	copy_passes "$rpid" "$(cat "$DIR/pid")" || return 1
	original_passes
}

mode_pidns2() {
	local a b
	checkpoint -o "$DIR/img" "$PID" || return 1
	"$CKPT" restart --pidns --wait --pidfile "$DIR/pid.a" "$DIR/img" </dev/null \
		>"$DIR/ckpt.out" 2>"$DIR/ckpt.err" &
	a=$!
	"$CKPT" restart --pidns --wait --pidfile "$DIR/pid.b" "$DIR/img" </dev/null \
		>"$DIR/ckpt.out" 2>>"$DIR/ckpt.err" &
	b=$!
	copy_started "$a" "$DIR/pid.a" || return 1
	copy_started "$b" "$DIR/pid.b" || return 1
	if [ "$(cat "$DIR/pid.a")" = "$(cat "$DIR/pid.b")" ]; then
		REASON="both copies have pid $(cat "$DIR/pid.a")"
		return 1
	fi
	copy_passes "$a" "$(cat "$DIR/pid.a")" || return 1
	if [ -z "$OPT_SELF" ] && ! alive "$(cat "$DIR/pid.b")"; then
		REASON="the second copy did not outlive the first"
		return 1
	fi
	copy_passes "$b" "$(cat "$DIR/pid.b")" || return 1
	original_passes || return 1
	roles_are copy copy original
}

# roles_are ROLE...: the roles the roots of pidns.c found themselves in,
# each in a PID namespace of its own (other scenarios write no roles)
roles_are() {
	if [ ! -e "$DIR/roles" ]; then return 0; fi
	local want got
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	got=$(awk '{ print $1 }' "$DIR/roles" 2>/dev/null | sort | tr '\n' ' ')
	if [ "$got" != "$want" ]; then
		REASON="roles '$got', expected '$want'"
		return 1
	fi
	if [ "$(awk '{ print $2 }' "$DIR/roles" | sort -u | wc -l)" != $# ]; then
		REASON="two roots shared a pid namespace: $(tr '\n' ' ' <"$DIR/roles")"
		return 1
	fi
}

mode_pidns_pid1() {
	local -a cmd=($1)
	local u inner
	if [ -x "$SCEN/${cmd[0]}" ]; then cmd[0]=$SCEN/${cmd[0]}; fi
	mkdir "$DIR/ns"
	(cd "$DIR/ns" && exec_clean unshare --pid --fork --mount-proc "${cmd[@]}" </dev/null \
		>"$DIR/ns/log" 2>&1) &
	u=$!
	if ! wait_for test -e "$DIR/ns/ready"; then
		REASON="the target never became ready as pid 1 of a namespace"
		return 1
	fi
	inner=$(cat "/proc/$u/task/$u/children")
	inner=${inner%% *}
	if ! nsenter -t "$inner" -p -m "$CKPT" checkpoint -o "$DIR/img" 1 >"$DIR/ckpt.out" \
		2>"$DIR/ckpt.err"; then
		REASON="checkpoint of pid 1 failed: $(tail -n 3 "$DIR/ckpt.err" | tr '\n' ' ')"
		return 1
	fi
	expect_fail 5 "$CKPT" restart --pidns "$DIR/img" || return 1
	if ! grep -qF "pid 1: cannot restart pid 1 in a new pid namespace" "$DIR/ckpt.err"; then
		REASON="unclear error: $(tr '\n' ' ' <"$DIR/ckpt.err")"
		return 1
	fi
	kill -TERM "$inner"
	reap "$u"
	check_status "pid 1 of its namespace" "$REAPED" || return 1
	original_passes
}

mode_fault_pidns() {
	local before after
	checkpoint -o "$DIR/img" "$PID" || return 1
	before=$(in_dir)
	expect_fail 1 env CKPT_FAULT="$1" "$CKPT" restart --pidns "$DIR/img" || return 1
	after=$(in_dir)
	if [ "$after" != "$before" ]; then
		REASON="$before process(es) ran in the test directory before the restart, $after after"
		return 1
	fi
	original_passes
}

mode_pidns_busy() {
	local before after
	checkpoint -o "$DIR/img" "$PID" || return 1
	before=$(in_dir)
	expect_fail 1 "$CKPT" restart --pidns "$DIR/img" || return 1
	after=$(in_dir)
	if [ "$after" != "$before" ]; then
		REASON="$before process(es) ran in the test directory before the restart, $after after"
		return 1
	fi
	if ! grep -qF -- "$OPT_EXPECT" "$DIR/ckpt.err"; then
		REASON="failed without '$OPT_EXPECT': $(tr '\n' ' ' <"$DIR/ckpt.err")"
		return 1
	fi
	original_passes
}

# kill_inits: what a failed --pidns test left runs on in its namespaces
kill_inits() {
	local init
	for init in $INITS; do
		if [ "$(cat "/proc/$init/comm" 2>/dev/null)" = ckpt ]; then
			kill -KILL "$init" 2>/dev/null
		fi
	done
}

run_case() {
	local name=$1 mode=$2 cmd=$3 ok=0
	DIR=$(mktemp -d /tmp/ckpt-scen.XXXXXX)
	chmod 777 "$DIR"
	REASON= PID= FEEDFD= INITS=
	if start_target "$cmd"; then
		case $mode in
		kill) mode_kill ;;
		leave) mode_leave ;;
		stream) mode_stream ;;
		refuse) mode_refuse ;;
		changed) mode_changed ;;
		pidtaken) mode_pidtaken ;;
		tidtaken) mode_tidtaken ;;
		trunc) mode_trunc ;;
		flip) mode_flip ;;
		fault-ckpt:*) mode_fault_ckpt "${mode#*:}" ;;
		fault-rst:*) mode_fault_rst "${mode#*:}" ;;
		pidns) mode_pidns ;;
		pidns-stream) mode_pidns_stream ;;
		pidns2) mode_pidns2 ;;
		pidns-pid1) mode_pidns_pid1 "$cmd" ;;
		fault-pidns:*) mode_fault_pidns "${mode#*:}" ;;
		pidns-busy) mode_pidns_busy ;;
		*) REASON="unknown mode $mode"; false ;;
		esac
		ok=$?
	else
		ok=1
	fi
	if [ -n "$PID" ] && alive "$PID"; then kill -KILL "$PID" 2>/dev/null; fi
	if [ "$ok" != 0 ]; then kill_inits; fi
	wait 2>/dev/null
	if [ -n "$FEEDFD" ]; then exec {FEEDFD}>&-; fi
	if [ "$ok" = 0 ]; then
		pass=$((pass + 1))
		printf 'PASS  %s [%s]\n' "$name" "$mode"
		rm -rf "$DIR"
	else
		fail=$((fail + 1))
		printf 'FAIL  %s [%s]: %s\n' "$name" "$mode" "$REASON"
		if [ -s "$DIR/log" ]; then tail -n 5 "$DIR/log" | sed 's/^/      | /'; fi
		echo "      (kept in $DIR)"
	fi
}

while IFS='|' read -r name cmd modes opts; do
	name=$(trim "$name")
	case $name in '' | '#'*) continue ;; esac
	if [ -n "$FILTER" ] && [[ $name != *$FILTER* ]]; then continue; fi
	cmd=$(trim "$cmd")
	opts=$(trim "${opts:-}")
	OPT_SELF= OPT_FIFO= OPT_FEED= OPT_EXPECT= OPT_STATUS=0
	while [ -n "$opts" ]; do
		opt=${opts%%;*}
		case $(trim "$opt") in
		self) OPT_SELF=1 ;;
		stdin=fifo) OPT_FIFO=1 ;;
		feed=*) OPT_FEED=${opt#*=} ;;
		expect=*) OPT_EXPECT=${opt#*=} ;;
		status=*) OPT_STATUS=${opt#*=} ;;
		esac
		[ "$opt" = "$opts" ] && break
		opts=${opts#*;}
	done
	for mode in $modes; do
		run_case "$name" "$mode" "$cmd" </dev/null
	done
done < <(cat ${SCEN_LISTS:-"$ROOT"/tests/scenarios/*.list})

echo "scenarios: $pass passed, $fail failed"
if [ -n "${RESULT_FILE:-}" ]; then echo "$pass $fail" >>"$RESULT_FILE"; fi
[ "$fail" = 0 ]
