/*
 * scen.c: the scenario protocol (see scen.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

static volatile sig_atomic_t told;

static void on_term(int sig)
{
	(void)sig;
	told = 1;
}

void scen_init(void)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL))
		scen_fail("sigaction: %m");
	setvbuf(stdout, NULL, _IONBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
}

void scen_ready(void)
{
	int fd = open("ready", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0)
		scen_fail("cannot create 'ready': %m");
	close(fd);
}

bool scen_told(void)
{
	return told;
}

void scen_wait(void)
{
	sigset_t term, old;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	while (!told) {
		sigset_t wait_mask = old;

		sigdelset(&wait_mask, SIGTERM);
		sigsuspend(&wait_mask);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void scen_pass(void)
{
	fprintf(stderr, "PASS\n");
	exit(0);
}

__attribute__((format(printf, 1, 0))) static void vreport(const char *fmt, va_list ap)
{
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

void scen_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	exit(1);
}

void scen_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

void scen_move_fd(int fd, int target)
{
	CHECK_SYS(fd);
	if (fd == target)
		return;
	CHECK_SYS(dup2(fd, target));
	close(fd);
}

uint64_t scen_sigset_word(const sigset_t *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

uint64_t scen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t scen_pidns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st))
		scen_fail("cannot stat /proc/self/ns/pid: %m");
	return (uint64_t)st.st_ino;
}

void scen_in_child(void (*fn)(void))
{
	pid_t child = fork();
	int status;

	CHECK_SYS(child);
	if (!child) {
		fn();
		_exit(0);
	}
	CHECK_EQ(waitpid(child, &status, 0), child);
	if (status)
		scen_fail("a checking child failed (status 0x%x)", status);
}

int scen_count_locks(int fd, const char *kind, const char *type, pid_t pid)
{
	char line[256], k[16], m[16], t[16];
	unsigned int maj, min;
	unsigned long long ino;
	struct stat st;
	int n = 0;
	FILE *f;

	CHECK_SYS(fstat(fd, &st));
	f = fopen("/proc/locks", "re");
	if (!f)
		scen_fail("cannot open /proc/locks: %m");
	while (fgets(line, sizeof(line), f)) {
		int id, holder;

		if (sscanf(line, "%d: %15s %15s %15s %d %x:%x:%llu", &id, k, m, t, &holder, &maj,
			   &min, &ino) != 8)
			continue;
		if (ino == st.st_ino && makedev(maj, min) == st.st_dev && !strcmp(k, kind) &&
		    !strcmp(t, type) && (!pid || holder == pid))
			n++;
	}
	fclose(f);
	return n;
}
