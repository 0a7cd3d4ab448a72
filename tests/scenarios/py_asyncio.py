#!/usr/bin/python3
# py_asyncio.py: a Python asyncio program: an event loop (epoll, and its
# self-pipe, a unix socket pair from socket.socketpair(), which is also
# the signal wakeup fd, signal.set_wakeup_fd) running a call_later timer
# that reschedules itself and an asyncio.Queue with a producer and a
# consumer. It follows the scenario protocol: it creates the file "ready"
# once the loop runs, and on the runner's SIGTERM (delivered through the
# loop's signal handler, so through the socket pair) checks it has its own
# PID, that its counters went on past where they were at ready, that every
# item came through the queue in order, then that the loop still runs
# timers and the queue, and exits 0 (or 1, saying why).
import asyncio
import os
import signal
import sys


def fail(why):
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)


class State:
    def __init__(self):
        self.ticks = 0
        self.produced = 0
        self.consumed = []
        self.told = None


def tick(loop, st):
    st.ticks += 1
    loop.call_later(0.001, tick, loop, st)


async def producer(q, st):
    while True:
        st.produced += 1
        await q.put(st.produced)
        await asyncio.sleep(0.001)


async def consumer(q, st):
    while True:
        item = await q.get()
        st.consumed.append(item)
        q.task_done()


async def main():
    pid = os.getpid()
    loop = asyncio.get_running_loop()
    st = State()
    st.told = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: st.told.done() or st.told.set_result(True))
    q = asyncio.Queue(maxsize=8)
    tasks = [asyncio.create_task(producer(q, st)), asyncio.create_task(consumer(q, st))]
    loop.call_later(0.001, tick, loop, st)
    while st.ticks < 5 or len(st.consumed) < 5:
        await asyncio.sleep(0.001)
    with open("ready", "w"):
        pass
    at_ready = (st.ticks, len(st.consumed))
    await st.told
    if os.getpid() != pid:
        fail("pid %d, was %d" % (os.getpid(), pid))
    if st.ticks <= at_ready[0] or len(st.consumed) <= at_ready[1]:
        fail("the counters did not go on: %d ticks, %d items" % (st.ticks, len(st.consumed)))
    if st.consumed != list(range(1, len(st.consumed) + 1)):
        fail("the queue lost or reordered items")
    last = (st.ticks, len(st.consumed))
    await asyncio.sleep(0.05)
    if st.ticks < last[0] + 5 or len(st.consumed) < last[1] + 5:
        fail("the loop does not run: %d ticks, %d items" % (st.ticks - last[0],
                                                          len(st.consumed) - last[1]))
    if st.consumed != list(range(1, len(st.consumed) + 1)):
        fail("the queue lost or reordered items")
    for t in tasks:
        t.cancel()
    print("PASS", file=sys.stderr)
    sys.exit(0)


asyncio.run(main())
