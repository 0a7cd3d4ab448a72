/*
 * lock_posix.c: POSIX record locks (fcntl F_SETLK) survive checkpoint and
 * restart, each with its owner, type and range. The process holds on
 * p.dat, through fd 3 (read-write, dup at fd 4), a write lock of bytes
 * 0-99, a read lock of 200-299 and a write lock from 1000 to the end of
 * the file, and through fd 5 (another description of p.dat, read-only) a
 * read lock of 500-599; on q.dat (fd 6) a read lock of the whole file. Its
 * child, a process of the tree sharing fd 3's description, owns a write
 * lock of 150-179 and a read lock of 400-449 of p.dat. p.dat is mapped
 * too (restart maps it through a descriptor of its own, and closing that
 * one must not cost the process its locks).
 *
 * Locks are seen from another process: a checker child, forked before and
 * after the restart, asks F_GETLK and F_OFD_GETLK at every edge and finds
 * each lock with its type, range and owner's pid, nothing between them,
 * and /proc/locks lists exactly these. The owner semantics stay: once the
 * process unlocks 0-99, the checker may take it; once the child is gone,
 * its locks are gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define EOF_LEN 0

struct want {
	off_t at; /* probed byte */
	short type; /* F_UNLCK: nothing there */
	off_t start, len;
	int owner; /* 0 the process, 1 its child */
};

static pid_t owners[2];
static int unlocked; /* the process let go bytes 0-99 */

static const struct want p_wants[] = {
	{ 0, F_WRLCK, 0, 100, 0 },
	{ 99, F_WRLCK, 0, 100, 0 },
	{ 100, F_UNLCK, 0, 0, 0 },
	{ 149, F_UNLCK, 0, 0, 0 },
	{ 150, F_WRLCK, 150, 30, 1 },
	{ 179, F_WRLCK, 150, 30, 1 },
	{ 180, F_UNLCK, 0, 0, 0 },
	{ 200, F_RDLCK, 200, 100, 0 },
	{ 299, F_RDLCK, 200, 100, 0 },
	{ 300, F_UNLCK, 0, 0, 0 },
	{ 400, F_RDLCK, 400, 50, 1 },
	{ 449, F_RDLCK, 400, 50, 1 },
	{ 450, F_UNLCK, 0, 0, 0 },
	{ 500, F_RDLCK, 500, 100, 0 },
	{ 599, F_RDLCK, 500, 100, 0 },
	{ 600, F_UNLCK, 0, 0, 0 },
	{ 999, F_UNLCK, 0, 0, 0 },
	{ 1000, F_WRLCK, 1000, EOF_LEN, 0 },
	{ 1L << 40, F_WRLCK, 1000, EOF_LEN, 0 },
};

static void set_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, F_SETLK, &fl))
		scen_fail("fd %d: F_SETLK %d %lld+%lld: %m", fd, type, (long long)start,
			  (long long)len);
}

/* What a write lock of one byte at w->at meets, with both kinds of query;
 * nothing if the lock was let go of. */
static void probe(int fd, const struct want *w, const char *file, bool let_go)
{
	static const int cmds[] = { F_GETLK, F_OFD_GETLK };
	bool free_now = let_go && w->type != F_UNLCK;

	for (size_t i = 0; i < 2; i++) {
		struct flock fl = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = w->at, .l_len = 1
		};

		CHECK_SYS(fcntl(fd, cmds[i], &fl));
		if (free_now || w->type == F_UNLCK) {
			if (fl.l_type != F_UNLCK)
				scen_fail(
					"%s byte %lld: a lock (type %d, %lld+%lld, pid %d) where none "
					"should be",
					file, (long long)w->at, fl.l_type, (long long)fl.l_start,
					(long long)fl.l_len, fl.l_pid);
			continue;
		}
		if (fl.l_type != w->type || fl.l_start != w->start || fl.l_len != w->len ||
		    fl.l_pid != owners[w->owner])
			scen_fail("%s byte %lld: lock type %d %lld+%lld pid %d, expected type %d "
				  "%lld+%lld pid %d",
				  file, (long long)w->at, fl.l_type, (long long)fl.l_start,
				  (long long)fl.l_len, fl.l_pid, w->type, (long long)w->start,
				  (long long)w->len, owners[w->owner]);
	}
}

static void checker(void)
{
	int p = open("p.dat", O_RDWR | O_CLOEXEC), q = open("q.dat", O_RDWR | O_CLOEXEC);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 250, .l_len = 1 };

	CHECK_SYS(p);
	CHECK_SYS(q);
	for (size_t i = 0; i < sizeof(p_wants) / sizeof(p_wants[0]); i++)
		probe(p, &p_wants[i], "p.dat",
		      unlocked && p_wants[i].owner == 0 && p_wants[i].start == 0);
	probe(q, &(struct want){ 0, F_RDLCK, 0, EOF_LEN, 0 }, "q.dat", false);
	probe(q, &(struct want){ 1L << 30, F_RDLCK, 0, EOF_LEN, 0 }, "q.dat", false);
	/* readers share */
	CHECK_SYS(fcntl(p, F_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	/* and a writer is kept out */
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 250, .l_len = 1 };
	CHECK_EQ(fcntl(p, F_SETLK, &fl), -1);
	CHECK(errno == EAGAIN || errno == EACCES);
	CHECK_EQ(scen_count_locks(p, "POSIX", "WRITE", 0), unlocked ? 2 : 3);
	CHECK_EQ(scen_count_locks(p, "POSIX", "WRITE", owners[0]), unlocked ? 1 : 2);
	CHECK_EQ(scen_count_locks(p, "POSIX", "WRITE", owners[1]), 1);
	CHECK_EQ(scen_count_locks(p, "POSIX", "READ", 0), 3);
	CHECK_EQ(scen_count_locks(p, "POSIX", "READ", owners[0]), 2);
	CHECK_EQ(scen_count_locks(p, "POSIX", "READ", owners[1]), 1);
	CHECK_EQ(scen_count_locks(q, "POSIX", "READ", owners[0]), 1);
	CHECK_EQ(scen_count_locks(q, "POSIX", "WRITE", 0), 0);
	CHECK_EQ(scen_count_locks(p, "OFDLCK", "WRITE", 0) +
			 scen_count_locks(p, "OFDLCK", "READ", 0) +
			 scen_count_locks(p, "FLOCK", "WRITE", 0) +
			 scen_count_locks(p, "FLOCK", "READ", 0),
		 0);
	if (unlocked) {
		/* bytes 0-99 are free for another owner now */
		fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 100 };
		CHECK_SYS(fcntl(p, F_SETLK, &fl));
	}
}

/* The child of the tree: its own locks, then it waits to be killed. */
static void child_main(int ready)
{
	CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL));
	set_lock(3, F_WRLCK, 150, 30);
	set_lock(3, F_RDLCK, 400, 50);
	CHECK_EQ(write(ready, "x", 1), 1);
	close(ready);
	for (;;)
		pause();
}

static void write_file(const char *path, size_t size)
{
	static char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK_SYS(fd);
	CHECK_EQ(write(fd, buf, size), size);
	close(fd);
}

int main(void)
{
	int pipefd[2], status;
	char *map, c;

	scen_init();
	write_file("p.dat", 4096);
	write_file("q.dat", 100);
	scen_move_fd(open("p.dat", O_RDWR), 3);
	CHECK_SYS(dup2(3, 4));
	scen_move_fd(open("p.dat", O_RDONLY), 5);
	scen_move_fd(open("q.dat", O_RDONLY), 6);
	set_lock(3, F_WRLCK, 0, 100);
	set_lock(4, F_RDLCK, 200, 100);
	set_lock(3, F_WRLCK, 1000, 0);
	set_lock(5, F_RDLCK, 500, 100);
	set_lock(6, F_RDLCK, 0, 0);
	/* restart maps it through a descriptor of its own, closed before the
	 * process takes its locks */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0);
	CHECK(map != MAP_FAILED);
	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	owners[0] = getpid();
	owners[1] = fork();
	CHECK_SYS(owners[1]);
	if (!owners[1]) {
		close(pipefd[0]);
		child_main(pipefd[1]);
	}
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	close(pipefd[1]);
	scen_in_child(checker);

	scen_ready();
	scen_wait();
	CHECK_EQ(getpid(), owners[0]);
	CHECK_EQ(map[4095], 0);
	scen_in_child(checker);
	/* the locks are the process's own: it lets go of one */
	set_lock(4, F_UNLCK, 0, 100);
	unlocked = 1;
	scen_in_child(checker);
	/* and the child's go with it */
	CHECK_SYS(kill(owners[1], SIGKILL));
	CHECK_EQ(waitpid(owners[1], &status, 0), owners[1]);
	{
		int p = open("p.dat", O_RDWR | O_CLOEXEC);
		struct flock fl = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 150, .l_len = 300
		};

		CHECK_SYS(p);
		CHECK_SYS(fcntl(p, F_OFD_GETLK, &fl));
		CHECK_EQ(fl.l_type, F_RDLCK); /* 200-299, the process's */
		CHECK_EQ(fl.l_pid, owners[0]);
		CHECK_EQ(fl.l_start, 200);
		close(p);
	}
	scen_pass();
}
