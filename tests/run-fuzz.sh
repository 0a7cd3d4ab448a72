#!/usr/bin/env bash
# run-fuzz.sh: a short libFuzzer run of the image reader, seeded with real
# images (checkpoints of sleep and of a scenario program). One test: it
# passes if the fuzzer finds nothing in $FUZZ_SECONDS seconds.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ=$ROOT/$BUILD/tests/fuzz/fuzz_image
SECONDS_TO_RUN=${FUZZ_SECONDS:-20}
WORK=$ROOT/$BUILD/tests/fuzz
CORPUS=$WORK/corpus

. "$ROOT/tests/lib/common.sh"

record() { if [ -n "${RESULT_FILE:-}" ]; then echo "$1 $2" >>"$RESULT_FILE"; fi; }

mkdir -p "$CORPUS"
if [ ! -e "$CORPUS/seed-sleep" ]; then
	(exec_clean sleep 60 </dev/null >/dev/null 2>&1) &
	pid=$!
	sleep 0.2
	"$ROOT/$BUILD/ckpt" checkpoint -o "$CORPUS/seed-sleep" "$pid" 2>/dev/null
	kill "$pid"
	wait "$pid" 2>/dev/null
fi
# seeds with the records of shared memory objects (memfds and their
# descriptors, files of /dev/shm, System V segments), epoll, inotify, file
# locks, pidfds, /proc files, deleted files with their content, owners of
# descriptions, and IPC (POSIX message queues, System V semaphores and
# message queues)
for scen in shm_memfd shm_posix shm_sysv epoll inotify lock_ofd fd_pidfd fd_procfs fd_deleted \
	fd_owner mq_posix mq_notify sysv_sem sysv_msg; do
	prog=$ROOT/$BUILD/tests/scenarios/$scen
	if [ -e "$CORPUS/seed-$scen" ] || [ ! -x "$prog" ]; then continue; fi
	dir=$(mktemp -d)
	(cd "$dir" && exec_clean "$prog" </dev/null >/dev/null 2>&1) &
	pid=$!
	for _ in $(seq 200); do if [ -e "$dir/ready" ]; then break; fi; sleep 0.05; done
	"$ROOT/$BUILD/ckpt" checkpoint -o "$CORPUS/seed-$scen" "$pid" 2>/dev/null
	kill "$pid"
	wait "$pid" 2>/dev/null
	rm -rf "$dir"
done
if "$FUZZ" -max_len=300000 -max_total_time="$SECONDS_TO_RUN" -print_final_stats=0 \
	-artifact_prefix="$WORK/" "$CORPUS" >"$WORK/fuzz.log" 2>&1; then
	echo "PASS  fuzz: image reader, ${SECONDS_TO_RUN}s, $(grep -o 'Done [0-9]* runs' "$WORK/fuzz.log" | tail -n 1 | cut -d' ' -f2) runs"
	record 1 0
else
	echo "FAIL  fuzz: image reader (see $WORK/fuzz.log)"
	grep -A 15 'ERROR\|deadly signal' "$WORK/fuzz.log" | head -n 30 | sed 's/^/      | /'
	record 0 1
fi
