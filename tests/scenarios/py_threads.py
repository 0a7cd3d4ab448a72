#!/usr/bin/python3
# py_threads.py: a Python program with threads (threading, and a
# concurrent.futures.ThreadPoolExecutor) checkpointed while they wait and
# work. Before the file "ready" it makes sure that threads are blocked (seen
# in a futex wait or a sleep in /proc/self/task/TID/syscall) in
# Event.wait, Condition.wait_for, Queue.get, Lock.acquire and
# Semaphore.acquire (each with a timeout of a minute), Barrier.wait and
# time.sleep, while two threads count under a shared lock and a feeder
# keeps the pool summing squares. It follows the scenario protocol: on
# the runner's SIGTERM after the restart it checks that the process and
# every thread kept their ids (a thread's native id, cached by Python when
# it started, is still what gettid says), that the counters and the pool
# went on working after the restart, wakes every waiter (each must see
# its wake, not a timeout, and no sleep may end early), stops everything,
# checks every result (the pool's total against a closed form), and exits
# 0 (or 1, saying why).
import concurrent.futures
import os
import queue
import signal
import sys
import threading
import time

SYS_FUTEX = 202
SYS_CLOCK_NANOSLEEP = 230
SYS_RESTART_SYSCALL = 219
SPAN = 200
SLEEP = 1.0

told = False


def on_term(signum, frame):
    global told
    told = True


def fail(why):
    # os._exit: sys.exit would wait for the threads that still run
    print("FAIL: " + why, file=sys.stderr, flush=True)
    os._exit(1)


def squares_below(n):
    """The sum of i*i for i in [0, n)."""
    m = n - 1
    return m * (m + 1) * (2 * m + 1) // 6 if n > 0 else 0


def in_syscall(tid, nrs):
    """Whether thread tid sleeps in one of the syscalls nrs."""
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            first = f.read().split()[0]
    except (OSError, IndexError):
        return False
    return first.lstrip("-").isdigit() and int(first) in nrs


class Waiter(threading.Thread):
    """Runs fn(self) once, recording its result, its native id, and whether
    the wake had come when fn returned."""

    def __init__(self, name, fn, nrs):
        super().__init__(name=name, daemon=True)
        self.fn = fn
        self.nrs = nrs
        self.result = None
        self.error = None
        self.after_go = False
        self.tid_after = None
        self.elapsed = None

    def run(self):
        t0 = time.monotonic()
        try:
            self.result = self.fn()
        except BaseException as e:  # reported by the main thread
            self.error = repr(e)
        self.elapsed = time.monotonic() - t0
        self.after_go = go.is_set()
        self.tid_after = threading.get_native_id()


go = threading.Event()  # set once every waiter is to be woken
stop = threading.Event()  # set when the workers are to stop
ev = threading.Event()
cond = threading.Condition()
cond_flag = []
q = queue.Queue()
held = threading.Lock()
sem = threading.Semaphore(0)
barrier = threading.Barrier(3, timeout=60)
count_lock = threading.Lock()
shared_count = [0]
counts = {}


def counter(name):
    mine = []
    n = 0
    while not stop.is_set():
        n += 1
        mine.append(n)
        with count_lock:
            shared_count[0] += 1
        time.sleep(0.001)
    counts[name] = (n, mine, threading.get_native_id(), threading.current_thread().native_id)


def job(k):
    me = threading.current_thread()
    return (k, sum(i * i for i in range(k * SPAN, (k + 1) * SPAN)),
            me.name, me.native_id, threading.get_native_id())


done_jobs = []


def feeder(pool):
    pending = []
    k = 0
    while not stop.is_set():
        pending.append(pool.submit(job, k))
        k += 1
        if len(pending) >= 16:
            done_jobs.append(pending.pop(0).result(timeout=30))
    for f in pending:
        done_jobs.append(f.result(timeout=30))
    done_jobs.append(k)


def main():
    pid = os.getpid()
    main_tid = threading.get_native_id()
    signal.signal(signal.SIGTERM, on_term)
    futex = {SYS_FUTEX, SYS_RESTART_SYSCALL}
    sleeps = {SYS_CLOCK_NANOSLEEP, SYS_RESTART_SYSCALL}
    held.acquire()
    waiters = [
        Waiter("event", lambda: ev.wait(timeout=60), futex),
        Waiter("condition", lambda: cond_wait(), futex),
        Waiter("queue", lambda: q.get(timeout=60), futex),
        Waiter("lock", lambda: held.acquire(timeout=60), futex),
        Waiter("semaphore", lambda: sem.acquire(timeout=60), futex),
        Waiter("barrier-0", lambda: barrier.wait() >= 0, futex),
        Waiter("barrier-1", lambda: barrier.wait() >= 0, futex),
        Waiter("sleep", lambda: time.sleep(SLEEP), sleeps),
    ]
    for w in waiters:
        w.start()
    counters = [threading.Thread(target=counter, args=("count-%d" % i,), name="count-%d" % i)
                for i in range(2)]
    for c in counters:
        c.start()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="pool")
    feed = threading.Thread(target=feeder, args=(pool,), name="feeder")
    feed.start()
    deadline = time.monotonic() + 10
    for w in waiters:
        while not (w.native_id and in_syscall(w.native_id, w.nrs)):
            if time.monotonic() > deadline or not w.is_alive():
                fail("%s: never blocked (%r)" % (w.name, w.error))
            time.sleep(0.001)
    while len(done_jobs) < 100 or shared_count[0] < 10:
        time.sleep(0.001)
    tids = {t.name: t.native_id for t in threading.enumerate()}
    with open("ready", "w"):
        pass
    jobs_at_ready = len(done_jobs)
    while not told:
        time.sleep(0.005)

    if os.getpid() != pid or threading.get_native_id() != main_tid:
        fail("pid/tid %d/%d, were %d/%d" % (os.getpid(), threading.get_native_id(), pid, main_tid))
    live = set(int(t) for t in os.listdir("/proc/self/task"))
    for t in threading.enumerate():
        if t.name in tids and (t.native_id != tids[t.name] or t.native_id not in live):
            fail("thread %s: native id %d, was %d; live tids %s" %
                 (t.name, t.native_id, tids[t.name], sorted(live)))
    # still at it after the restart
    jobs, count = len(done_jobs), shared_count[0]
    if jobs <= jobs_at_ready:
        fail("the pool did nothing around the checkpoint: %d jobs" % jobs)
    time.sleep(0.1)
    if len(done_jobs) <= jobs or shared_count[0] <= count:
        fail("work stopped after restart: %d jobs, count %d" % (jobs, count))
    for w in waiters:
        if not w.is_alive() and w.name != "sleep":
            fail("%s: returned %r (%s) before it was woken" % (w.name, w.result, w.error))

    go.set()
    ev.set()
    with cond:
        cond_flag.append(1)
        cond.notify_all()
    q.put("after restart")
    held.release()
    sem.release()
    barrier.wait()
    stop.set()
    for t in waiters + counters + [feed]:
        t.join(timeout=10)
        if t.is_alive():
            fail("%s: still running 10 s after it was told to end" % t.name)
    pool.shutdown(wait=True)

    expected = {"event": True, "condition": True, "queue": "after restart", "lock": True,
                "semaphore": True, "barrier-0": True, "barrier-1": True, "sleep": None}
    for w in waiters:
        if w.error or w.result != expected[w.name]:
            fail("%s: returned %r (%s)" % (w.name, w.result, w.error))
        if w.tid_after != w.native_id:
            fail("%s: gettid %d, was %d" % (w.name, w.tid_after, w.native_id))
        if w.name == "sleep":
            if w.elapsed < SLEEP:
                fail("sleep: slept %.3f s of %.3f" % (w.elapsed, SLEEP))
        elif not w.after_go:
            fail("%s: returned before it was woken" % w.name)
    for name, (n, mine, tid_now, tid_start) in counts.items():
        if mine != list(range(1, n + 1)) or tid_now != tid_start:
            fail("%s: its list is damaged, or gettid %d != %d" % (name, tid_now, tid_start))
    if shared_count[0] != sum(c[0] for c in counts.values()):
        fail("the shared count %d is not the sum of the counts %s" %
             (shared_count[0], [c[0] for c in counts.values()]))
    njobs = done_jobs.pop()
    if len(done_jobs) != njobs or [r[0] for r in done_jobs] != list(range(njobs)):
        fail("%d jobs submitted, %d results" % (njobs, len(done_jobs)))
    total = 0
    for k, value, name, cached, live_tid in done_jobs:
        if value != squares_below((k + 1) * SPAN) - squares_below(k * SPAN):
            fail("job %d: %d" % (k, value))
        if cached != live_tid:
            fail("pool thread %s: gettid %d, its native id %d" % (name, live_tid, cached))
        total += value
    if total != squares_below(njobs * SPAN):
        fail("the pool's total %d over %d jobs is wrong" % (total, njobs))
    print("PASS", file=sys.stderr)
    sys.exit(0)


def cond_wait():
    with cond:
        return cond.wait_for(lambda: bool(cond_flag), timeout=60)


main()
