#!/usr/bin/python3
# py_counter.py: a Python program counting in a loop, sleeping 1 ms between
# steps (time.sleep, an absolute clock_nanosleep in CPython 3.11), building
# up a list as it goes. It follows the scenario protocol: it creates the
# file "ready" and, on the runner's SIGTERM after the restart, checks that
# it has its own PID, that the counter went on past where it was at ready,
# that the list it built is whole, and exits 0 (or 1, saying why).
import os
import signal
import sys
import time

told = False


def on_term(signum, frame):
    global told
    told = True


def fail(why):
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def main():
    pid = os.getpid()
    signal.signal(signal.SIGTERM, on_term)
    n = 0
    squares = []
    text = {}
    with open("ready", "w"):
        pass
    at_ready = n
    while not told:
        n += 1
        squares.append(n * n)
        text[n] = str(n)
        time.sleep(0.001)
    if os.getpid() != pid:
        fail("pid %d, was %d" % (os.getpid(), pid))
    if n <= at_ready + 1:
        fail("the counter did not go on: %d" % n)
    if len(squares) != n or any(squares[i] != (i + 1) * (i + 1) for i in range(n)):
        fail("the list of squares is damaged")
    if len(text) != n or any(text[i] != str(i) for i in range(1, n + 1)):
        fail("the dict of strings is damaged")
    last = n
    for _ in range(10):
        n += 1
        time.sleep(0.001)
    if n != last + 10:
        fail("the counter does not count")
    print("PASS", file=sys.stderr)
    sys.exit(0)


main()
