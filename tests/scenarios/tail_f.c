/*
 * tail_f.c: a real program following a file through inotify: GNU tail -f
 * (the program argv[1] names), a child of this process, prints the growing
 * file "grow" to "out". Before the checkpoint it has printed the lines it
 * found and one appended after it started, so it waits in its inotify
 * loop. After restart, lines appended to the file (tagged with the time, so
 * that no earlier run's output can pass for them) must come out of the
 * restored tail: "out" still begins with what it printed before, then has
 * the new lines, and holds no line the file does not have. The tail is
 * still this process's child and ends on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define MAX_OUT (1 << 16)

static char before[MAX_OUT]; /* "out" at the checkpoint */
static size_t before_len;

static size_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	CHECK_SYS(fd);
	n = read(fd, buf, len - 1);
	CHECK_SYS(n);
	close(fd);
	buf[n] = '\0';
	return (size_t)n;
}

static void append(const char *text)
{
	int fd = open("grow", O_WRONLY | O_APPEND | O_CLOEXEC);

	CHECK_SYS(fd);
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Waits (10 s at most) until "out" holds text after its first from bytes. */
static void wait_output(const char *text, size_t from)
{
	static char out[MAX_OUT];
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };

	for (int i = 0; i < 1000; i++) {
		size_t n = slurp("out", out, sizeof(out));

		if (n >= from && strstr(out + from, text))
			return;
		nanosleep(&pause, NULL);
	}
	scen_fail("tail did not print '%s' in 10 s", text);
}

static pid_t start_tail(const char *prog)
{
	int out = open("out", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	pid_t pid;

	CHECK_SYS(out);
	pid = fork();
	CHECK_SYS(pid);
	if (!pid) {
		dup2(out, 1);
		execl(prog, "tail", "-f", "-n", "+1", "grow", (char *)NULL);
		_exit(127);
	}
	close(out);
	return pid;
}

/* Every line of "out" is a line of "grow". */
static void only_file_lines(void)
{
	static char out[MAX_OUT], grow[MAX_OUT], line[256];

	slurp("out", out, sizeof(out));
	slurp("grow", grow, sizeof(grow));
	for (char *p = out, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			scen_fail("out ends with a partial line '%s'", p);
		CHECK(nl - p + 3 < (long)sizeof(line));
		/* "\nLINE\n" somewhere in the file, or "LINE\n" at its start */
		snprintf(line, sizeof(line), "\n%.*s\n", (int)(nl - p), p);
		if (strncmp(grow, line + 1, strlen(line + 1)) && !strstr(grow, line))
			scen_fail("out has a line the file does not: %s", line + 1);
	}
}

int main(int argc, char **argv)
{
	char lines[3][64], text[160];
	static char now[MAX_OUT];
	pid_t tail;
	int status, fd;

	scen_init();
	if (argc != 2)
		scen_fail("usage: tail_f PATH-OF-TAIL");
	fd = open("grow", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK_SYS(fd);
	close(fd);
	append("before-1\nbefore-2\nbefore-3\n");
	tail = start_tail(argv[1]);
	wait_output("before-3\n", 0);
	append("before-4\n");
	wait_output("before-4\n", 0);
	before_len = slurp("out", before, sizeof(before));
	CHECK(!strcmp(before, "before-1\nbefore-2\nbefore-3\nbefore-4\n"));
	scen_ready();
	scen_wait();

	for (int i = 0; i < 3; i++)
		snprintf(lines[i], sizeof(lines[i]), "after-%llu-%d\n",
			 (unsigned long long)scen_now_ns(), i);
	append(lines[0]);
	wait_output(lines[0], before_len);
	snprintf(text, sizeof(text), "%s%s", lines[1], lines[2]);
	append(text);
	wait_output(text, before_len);
	slurp("out", now, sizeof(now));
	CHECK(!strncmp(now, before, before_len));
	only_file_lines();

	CHECK_EQ(waitpid(tail, &status, WNOHANG), 0);
	CHECK_SYS(kill(tail, SIGTERM));
	CHECK_EQ(waitpid(tail, &status, 0), tail);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	scen_pass();
}
