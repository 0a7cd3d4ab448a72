/*
 * block_restart.c: a sleep that was already interrupted and resumed once
 * before the checkpoint comes, as after Ctrl-Z and fg, or a debugger that
 * attached and left: the kernel goes on with it as restart_syscall (the
 * registers say syscall 219, the call itself is in the kernel's restart
 * block). The checkpoint catches it there; after the resume the sleep must
 * still end normally: "nanosleep" (glibc's, with rem) must return 0 after
 * at least 3 s, "poll" (no descriptors, 3 s timeout) must return 0 (the
 * timeout), neither ever EINTR. "poll-raw" makes the same call through
 * syscall(2), whose code does not show the syscall number: ckpt must find
 * the call another way.
 *
 * The stop and continue come from a grandchild (a double fork, so the
 * process has no child left at the checkpoint): it waits until the process
 * sleeps, sends SIGSTOP, then SIGCONT, waits until it sleeps again inside
 * restart_syscall, and only then creates "ready" and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define REQ_NS 3000000000ULL
#define WAIT_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The syscall pid is blocked in (/proc/PID/syscall), -1 if running. */
static long blocked_in(pid_t pid)
{
	char path[64], buf[256];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		scen_fail("grandchild: open %s: %m", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (!strncmp(buf, "running", 7))
		return -1;
	return strtol(buf, NULL, 10);
}

static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		scen_fail("grandchild: open %s: %m", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void wait_sleeping_in(pid_t pid, long nr)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (state_of(pid) == 'S' && blocked_in(pid) == nr)
			return;
		sleep_ms(1);
	}
	scen_fail("grandchild: pid %d never slept in syscall %ld (state %c, syscall %ld)", pid, nr,
		  state_of(pid), blocked_in(pid));
}

static void wait_state(pid_t pid, char state)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (state_of(pid) == state)
			return;
		sleep_ms(1);
	}
	scen_fail("grandchild: pid %d never reached state %c", pid, state);
}

/* The grandchild: stops and continues pid in its sleep, then says ready. */
static void stop_and_continue(pid_t pid, long nr)
{
	wait_sleeping_in(pid, nr);
	CHECK_SYS(kill(pid, SIGSTOP));
	wait_state(pid, 'T');
	CHECK_SYS(kill(pid, SIGCONT));
	wait_sleeping_in(pid, SYS_restart_syscall);
	scen_ready();
	_exit(0);
}

int main(int argc, char **argv)
{
	bool raw = argc > 1 && !strcmp(argv[1], "poll-raw");
	bool poll_mode = raw || (argc > 1 && !strcmp(argv[1], "poll"));
	struct timespec req = { REQ_NS / 1000000000, REQ_NS % 1000000000 }, rem = { 0, 0 };
	pid_t pid = getpid(), child;
	uint64_t start, elapsed;
	int ret, status;

	scen_init();
	if (argc != 2 || (!poll_mode && strcmp(argv[1], "nanosleep")))
		scen_fail("usage: block_restart nanosleep|poll|poll-raw");
	child = fork();
	CHECK_SYS(child);
	if (child == 0) {
		pid_t g = fork();

		if (g == 0)
			stop_and_continue(pid, poll_mode ? SYS_poll : SYS_clock_nanosleep);
		_exit(g < 0);
	}
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	start = scen_now_ns();
	if (raw)
		ret = (int)syscall(SYS_poll, NULL, 0, (int)(REQ_NS / 1000000));
	else if (poll_mode)
		ret = poll(NULL, 0, (int)(REQ_NS / 1000000));
	else
		ret = nanosleep(&req, &rem);
	elapsed = scen_now_ns() - start;
	if (ret)
		scen_fail("%s returned %d (%m) after %" PRIu64 " ms of %llu",
			  poll_mode ? "poll" : "nanosleep", ret, elapsed / 1000000,
			  REQ_NS / 1000000);
	CHECK_EQ(getpid(), pid);
	if (elapsed < REQ_NS)
		scen_fail("slept %" PRIu64 " ms of %llu", elapsed / 1000000, REQ_NS / 1000000);
	if (elapsed > 3 * REQ_NS + 5000000000ULL)
		scen_fail("slept %" PRIu64 " ms for a request of %llu", elapsed / 1000000,
			  REQ_NS / 1000000);
	scen_pass();
}
