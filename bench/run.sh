#!/usr/bin/env bash
# run.sh: `make bench`. Runs the benchmarks, each a script of its own in
# bench/, in this order (or those named: `bench/run.sh tasks cow`):
#
#   speed   checkpoint and restart of one process, trivial and with GiBs
#           of memory, next to this machine's tmpfs bandwidth (speed.sh)
#   tasks   a tree of 100 processes and a process of 100 threads: time
#           per task (tasks.sh)
#   cow     a forking server sharing its heap copy on write with its
#           children: memory before checkpoint and after restart, and the
#           image's size (cow.sh)
#   fds     a process with 10,000 descriptors: time per descriptor; and a
#           pipe full of data (fds.sh)
#
# Figures are medians of several runs, and ratios to a goal or to this
# machine's own limits; nothing here passes or fails. It runs as a child
# subreaper (tests/lib/subreaper.c), so the processes of killed trees come
# back to it and are reaped at once: restart needs their PIDs free.
# Settings: BUILD (build directory), BENCH_TASKS (tree and thread count,
# 100), BENCH_COW_MIB (heap, 256), BENCH_COW_CHILDREN (8), BENCH_FDS
# (descriptors, 10000).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${CKPT_BENCH_REAPER:-}" ]; then
	CKPT_BENCH_REAPER=1 exec "$ROOT/$BUILD/tests/subreaper" "$0" "$@"
fi
CKPT=$ROOT/$BUILD/ckpt
B=$ROOT/$BUILD/bench
. "$ROOT/tests/lib/common.sh"
. "$ROOT/bench/lib.sh"
WORK=$(mktemp -d /dev/shm/ckpt-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "ckpt benchmarks ($(nproc) cores, kernel $(uname -r)); medians of the runs shown"
echo
for section in "${@:-speed tasks cow fds}"; do
	for s in $section; do
		case $s in
		speed | tasks | cow | fds) . "$ROOT/bench/$s.sh" ;;
		*) echo "bench/run.sh: no benchmark '$s' (speed, tasks, cow, fds)" >&2 ;;
		esac
	done
done
