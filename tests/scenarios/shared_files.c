/*
 * shared_files.c: processes that share one descriptor table without being
 * threads (clone with CLONE_FILES) share it again after restart:
 *
 *   root    fd 5 open on files.dat at offset 3
 *   +- c    CLONE_FILES: root's table
 *   |  +- g CLONE_FILES: the same table
 *   +- d    a plain fork: a copy of its own
 *
 * After restart kcmp finds root, c and g with one table and d with
 * another; the table holds 0-2 and 5 only (no descriptor of the restart
 * left), fd 5 reads on from offset 3; a descriptor g makes shows up in
 * root and c, and none in d.
 *
 * With the argument "sibling", root leaves the table (unshare) once c
 * exists, and c makes g its sibling (CLONE_PARENT): c and g share a table
 * their parent does not have, which checkpoint must refuse (mode refuse).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

static volatile int *ready;

static bool sibling;

/* A child with this table (a sibling with CLONE_PARENT). */
static pid_t clone_files(bool as_sibling)
{
	long pid =
		syscall(SYS_clone, CLONE_FILES | (as_sibling ? CLONE_PARENT : SIGCHLD), 0, 0, 0, 0);

	if (pid < 0)
		scen_fail("clone(CLONE_FILES): %m");
	return (pid_t)pid;
}

static bool same_table(pid_t a, pid_t b)
{
	return syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0) == 0;
}

/* The descriptors of the process, as a bit mask of 0..63; fail on more. */
static uint64_t fds_of(pid_t pid)
{
	char path[64];
	struct dirent *e;
	uint64_t mask = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		scen_fail("opendir %s: %m", path);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fd > 63)
			scen_fail("pid %d has fd %d", pid, fd);
		mask |= 1ULL << fd;
	}
	closedir(d);
	return mask;
}

static void wait_flag(int n)
{
	for (int i = 0; i < 2000 && *ready < n; i++) {
		struct timespec ts = { 0, 5 * 1000000 };

		nanosleep(&ts, NULL);
	}
	CHECK(*ready >= n);
}

static void reap(pid_t pid, const char *who)
{
	int status;

	CHECK_SYS(kill(pid, SIGTERM));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("%s failed (status 0x%x)", who, status);
}

int main(int argc, char **argv)
{
	const uint64_t base = 7 | 1ULL << 5;
	pid_t c, d, g = 0, *gp;
	char buf[8];
	int fd;

	scen_init();
	sibling = argc > 1 && !strcmp(argv[1], "sibling");
	ready = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ready != MAP_FAILED);
	gp = (pid_t *)(ready + 1);
	fd = open("files.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK_SYS(fd);
	CHECK_EQ(write(fd, "abcdefgh", 8), 8);
	CHECK_SYS(lseek(fd, 3, SEEK_SET));
	scen_move_fd(fd, 5);
	c = clone_files(false);
	if (c == 0) {
		if (sibling)
			wait_flag(1);
		g = clone_files(sibling);
		if (g == 0) {
			scen_wait();
			/* a descriptor of its own, in the shared table */
			CHECK_SYS(dup2(5, 9));
			exit(0);
		}
		*gp = g;
		__atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
		if (sibling) {
			scen_wait();
			exit(0);
		}
		scen_wait();
		{
			int status;

			CHECK_EQ(waitpid(g, &status, 0), g);
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		CHECK_SYS(fcntl(9, F_GETFD));
		exit(0);
	}
	if (sibling) {
		CHECK_SYS(unshare(CLONE_FILES));
		__atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
		wait_flag(2);
		g = *gp;
		CHECK(same_table(c, g) && !same_table(getpid(), c));
		scen_ready();
		scen_wait();
		CHECK_SYS(kill(g, SIGTERM));
		CHECK_EQ(waitpid(g, NULL, 0), g);
		reap(c, "c");
		scen_pass();
	}
	d = fork();
	CHECK_SYS(d);
	if (d == 0) {
		scen_wait();
		CHECK_EQ(fds_of(getpid()), base);
		exit(0);
	}
	wait_flag(1);
	g = *gp;
	CHECK(same_table(getpid(), c) && same_table(getpid(), g) && !same_table(getpid(), d));
	CHECK_EQ(fds_of(getpid()), base);
	scen_ready();
	scen_wait();

	if (!same_table(getpid(), c) || !same_table(c, g))
		scen_fail("root, c and g no longer share their descriptor table");
	CHECK(!same_table(getpid(), d));
	CHECK_EQ(fds_of(getpid()), base);
	CHECK_EQ(fds_of(d), base);
	CHECK_EQ(read(5, buf, 5), 5);
	CHECK(!memcmp(buf, "defgh", 5));
	CHECK_SYS(kill(g, SIGTERM)); /* c reaps it */
	reap(c, "c");
	CHECK_EQ(fds_of(getpid()), base | 1ULL << 9);
	CHECK_EQ(fds_of(d), base);
	reap(d, "d");
	scen_pass();
}
