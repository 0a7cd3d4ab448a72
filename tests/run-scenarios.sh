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
#   pidtaken  restart while the original runs: exit 5, nothing created
#   trunc     restart of a truncated image: exit 4, nothing left behind
#   flip      restart of an image with a flipped byte in its page data
#   fault-ckpt:POINT  CKPT_FAULT=POINT at checkpoint: fails, target intact
#   fault-rst:POINT   CKPT_FAULT=POINT at restart: fails, nothing left
# Options: self (ends by itself, no SIGTERM), stdin=fifo, feed=TEXT
# (written to the fifo after each resume), expect=TEXT, status=N.
#
# Usage: tests/run-scenarios.sh [NAME-FILTER]. Counts go to $RESULT_FILE.
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

# the restart wrote its pidfile, or ended without
pidfile_or_gone() { test -s "$DIR/pid" || ! alive "$1"; }

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

run_case() {
	local name=$1 mode=$2 cmd=$3 ok=0
	DIR=$(mktemp -d /tmp/ckpt-scen.XXXXXX)
	chmod 777 "$DIR"
	REASON= PID= FEEDFD=
	if start_target "$cmd"; then
		case $mode in
		kill) mode_kill ;;
		leave) mode_leave ;;
		stream) mode_stream ;;
		refuse) mode_refuse ;;
		pidtaken) mode_pidtaken ;;
		trunc) mode_trunc ;;
		flip) mode_flip ;;
		fault-ckpt:*) mode_fault_ckpt "${mode#*:}" ;;
		fault-rst:*) mode_fault_rst "${mode#*:}" ;;
		*) REASON="unknown mode $mode"; false ;;
		esac
		ok=$?
	else
		ok=1
	fi
	if [ -n "$PID" ] && alive "$PID"; then kill -KILL "$PID" 2>/dev/null; fi
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
done < <(cat "$ROOT"/tests/scenarios/*.list)

echo "scenarios: $pass passed, $fail failed"
if [ -n "${RESULT_FILE:-}" ]; then echo "$pass $fail" >>"$RESULT_FILE"; fi
[ "$fail" = 0 ]
