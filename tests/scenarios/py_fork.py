#!/usr/bin/python3
# py_fork.py: a Python program that forks with os.fork, children doing work
# and reporting by their exit statuses. Before the checkpoint the parent
# has:
#   c0      exited with 10 at once, not reaped (a zombie)
#   c1-c3   compute a sequence in 3000 steps of 1 ms, then check it against
#           a computation without pauses, their pid and parent, and exit
#           with 20 + i (100 + i when a check failed)
#   c4      builds a dict until the parent's SIGTERM, then checks it and
#           exits with 40
#   c5      forked a grandchild (exits with 7 after 2 s), waits for it and
#           exits with 50 when it ended with 7
#   c6      sleeps until the parent kills it with SIGUSR1
# It follows the scenario protocol: it creates "ready" and, on the runner's
# SIGTERM after the restart, checks that it has its own PID, tells c4 and
# c6 to end, collects every child's status, checks there is no other child,
# and exits 0 (or 1, saying why).
import os
import signal
import sys
import time

told = False
STEPS = 3000
M = 1000000007


def on_term(signum, frame):
    global told
    told = True


def fail(why):
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def sequence(steps, pause):
    acc = 1
    for step in range(steps):
        acc = (acc * 31 + step) % M
        if pause:
            time.sleep(0.001)
    return acc


def worker(i, parent):
    pid = os.getpid()
    got = sequence(STEPS, True)
    ok = got == sequence(STEPS, False) and os.getpid() == pid and os.getppid() == parent
    os._exit(20 + i if ok else 100 + i)


def collector(parent):
    pid = os.getpid()
    d = {}
    n = 0
    while not told:
        n += 1
        d[n] = str(n * n)
        time.sleep(0.001)
    ok = len(d) == n and all(d[k] == str(k * k) for k in range(1, n + 1))
    ok = ok and os.getpid() == pid and os.getppid() == parent
    os._exit(40 if ok else 140)


def nester():
    g = os.fork()
    if g == 0:
        time.sleep(2)
        os._exit(7)
    _, status = os.waitpid(g, 0)
    os._exit(50 if os.waitstatus_to_exitcode(status) == 7 else 150)


def victim():
    while True:
        time.sleep(1)


def spawn(fn, *args):
    pid = os.fork()
    if pid == 0:
        try:
            fn(*args)
        finally:
            os._exit(99)
    return pid


def main():
    pid = os.getpid()
    signal.signal(signal.SIGTERM, on_term)
    kids = {}
    c0 = spawn(os._exit, 10)
    kids[c0] = 10
    for i in range(1, 4):
        kids[spawn(worker, i, pid)] = 20 + i
    c4 = spawn(collector, pid)
    kids[c4] = 40
    kids[spawn(nester)] = 50
    c6 = spawn(victim)
    kids[c6] = -signal.SIGUSR1
    os.waitid(os.P_PID, c0, os.WEXITED | os.WNOWAIT)
    with open("ready", "w"):
        pass
    n = 0
    while not told:
        n += 1
        time.sleep(0.001)
    if os.getpid() != pid:
        fail("pid %d, was %d" % (os.getpid(), pid))
    os.kill(c4, signal.SIGTERM)
    os.kill(c6, signal.SIGUSR1)
    for kid, expect in sorted(kids.items()):
        got, status = os.waitpid(kid, 0)
        code = os.waitstatus_to_exitcode(status)
        if got != kid or code != expect:
            fail("child %d ended with %d, expected %d" % (kid, code, expect))
    try:
        got = os.waitpid(-1, os.WNOHANG)
        fail("a child it should not have: %s" % (got,))
    except ChildProcessError:
        pass
    print("PASS", file=sys.stderr)
    sys.exit(0)


main()
