/*
 * fds.c: a process holding many descriptors, for bench/fds.sh.
 *
 *   fds fds N    N descriptors: a quarter opens of one regular file (each
 *                its own description, at its own offset), a quarter dups
 *                of those, a quarter ends of pipes with a little data in
 *                them, a quarter /dev/null
 *   fds pipe     one pipe of the largest capacity this machine allows
 *                (pipe-max-size), full of data
 *
 * The descriptor limit is raised to what is needed first. Once all is
 * open, it creates the file "ready" in its directory and sleeps.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void many(int n)
{
	struct rlimit rl;
	int file = open("fds.data", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (file < 0 || write(file, "0123456789abcdef", 16) != 16)
		die("fds.data");
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("setrlimit");
	}
	for (int i = 0; i < n / 4; i++) {
		int fd = open("fds.data", O_RDONLY);

		if (fd < 0 || lseek(fd, i % 16, SEEK_SET) < 0 || dup(fd) < 0)
			die("open");
	}
	for (int i = 0; i < n / 8; i++) {
		int p[2];

		if (pipe(p) || write(p[1], "x", 1) != 1)
			die("pipe");
	}
	for (int i = 0; i < n / 4; i++)
		if (open("/dev/null", O_RDWR) < 0)
			die("/dev/null");
	close(file);
}

static void full_pipe(void)
{
	char buf[65536];
	int p[2], size;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");

	if (!f || fscanf(f, "%d", &size) != 1)
		die("pipe-max-size");
	fclose(f);
	if (pipe2(p, O_NONBLOCK) || fcntl(p[1], F_SETPIPE_SZ, size) < 0)
		die("pipe");
	memset(buf, 'p', sizeof(buf));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "fds"))
		many(atoi(argv[2]));
	else if (argc == 2 && !strcmp(argv[1], "pipe"))
		full_pipe();
	else
		return 2;
	if (close(open("ready", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)))
		die("ready");
	for (;;)
		pause();
}
