/*
 * lock_ofd.c: open file description locks (fcntl F_OFD_SETLK) survive
 * checkpoint and restart, owned by their descriptions, beside a POSIX lock
 * of the process on the same file. On o.dat, fd 3 (read-write, dup at fd
 * 8, shared with the tree's child) holds an OFD write lock of bytes 10-29
 * and an OFD read lock from 100 to the end of the file; fd 4 (another
 * description, read-only) holds an OFD read lock of 40-49 and one of
 * 100-199, and the process a POSIX read lock of 60-69 taken through fd 4.
 *
 * A checker child, forked before and after the restart, finds each lock
 * with F_OFD_GETLK and F_GETLK, with its type, range and pid (-1 for OFD
 * locks, the process's for the POSIX one), and /proc/locks lists exactly
 * these. The owner semantics stay: the process closes fds 3 and 8 and the
 * write lock remains (the child still reaches the description) while the
 * POSIX lock goes (closing any descriptor of a file drops them); once the
 * child is gone too, the write lock is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static pid_t self;
static bool closed; /* the process closed fds 3 and 8 */
static bool desc3_gone; /* fd 3's description is closed everywhere */

static void set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl))
		scen_fail("fd %d: lock %d %lld+%lld: %m", fd, type, (long long)start,
			  (long long)len);
}

/* What a write lock of the byte at meets, with both kinds of query. */
static void probe(int fd, off_t at, short type, off_t start, off_t len, pid_t pid)
{
	static const int cmds[] = { F_GETLK, F_OFD_GETLK };

	for (size_t i = 0; i < 2; i++) {
		struct flock fl = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1
		};

		CHECK_SYS(fcntl(fd, cmds[i], &fl));
		if (fl.l_type != type || (type != F_UNLCK && (fl.l_start != start ||
							      fl.l_len != len || fl.l_pid != pid)))
			scen_fail("byte %lld: lock type %d %lld+%lld pid %d, expected type %d "
				  "%lld+%lld pid %d",
				  (long long)at, fl.l_type, (long long)fl.l_start,
				  (long long)fl.l_len, fl.l_pid, type, (long long)start,
				  (long long)len, pid);
	}
}

static void checker(void)
{
	int fd = open("o.dat", O_RDWR | O_CLOEXEC);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 45, .l_len = 1 };

	CHECK_SYS(fd);
	probe(fd, 9, F_UNLCK, 0, 0, 0);
	if (desc3_gone) {
		probe(fd, 10, F_UNLCK, 0, 0, 0);
		probe(fd, 29, F_UNLCK, 0, 0, 0);
		probe(fd, 1L << 40, F_UNLCK, 0, 0, 0);
	} else {
		probe(fd, 10, F_WRLCK, 10, 20, -1);
		probe(fd, 29, F_WRLCK, 10, 20, -1);
		probe(fd, 1L << 40, F_RDLCK, 100, 0, -1);
	}
	probe(fd, 30, F_UNLCK, 0, 0, 0);
	probe(fd, 39, F_UNLCK, 0, 0, 0);
	probe(fd, 40, F_RDLCK, 40, 10, -1);
	probe(fd, 49, F_RDLCK, 40, 10, -1);
	probe(fd, 50, F_UNLCK, 0, 0, 0);
	if (closed) {
		probe(fd, 60, F_UNLCK, 0, 0, 0);
	} else {
		probe(fd, 60, F_RDLCK, 60, 10, self);
		probe(fd, 69, F_RDLCK, 60, 10, self);
	}
	probe(fd, 70, F_UNLCK, 0, 0, 0);
	probe(fd, 99, F_UNLCK, 0, 0, 0);
	/* readers share */
	CHECK_SYS(fcntl(fd, F_OFD_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	CHECK_EQ(scen_count_locks(fd, "OFDLCK", "WRITE", -1), desc3_gone ? 0 : 1);
	CHECK_EQ(scen_count_locks(fd, "OFDLCK", "READ", -1), desc3_gone ? 2 : 3);
	CHECK_EQ(scen_count_locks(fd, "OFDLCK", "WRITE", 0) +
			 scen_count_locks(fd, "OFDLCK", "READ", 0),
		 desc3_gone ? 2 : 4);
	CHECK_EQ(scen_count_locks(fd, "POSIX", "READ", self), closed ? 0 : 1);
	CHECK_EQ(scen_count_locks(fd, "POSIX", "READ", 0), closed ? 0 : 1);
	CHECK_EQ(scen_count_locks(fd, "POSIX", "WRITE", 0), 0);
	close(fd);
}

int main(void)
{
	int status, fd;
	pid_t child;

	scen_init();
	self = getpid();
	scen_move_fd(open("o.dat", O_RDWR | O_CREAT, 0644), 3);
	CHECK_EQ(write(3, "some data", 9), 9);
	CHECK_SYS(dup2(3, 8));
	scen_move_fd(open("o.dat", O_RDONLY), 4);
	set_lock(3, F_OFD_SETLK, F_WRLCK, 10, 20);
	set_lock(8, F_OFD_SETLK, F_RDLCK, 100, 0);
	set_lock(4, F_OFD_SETLK, F_RDLCK, 40, 10);
	set_lock(4, F_OFD_SETLK, F_RDLCK, 100, 100);
	set_lock(4, F_SETLK, F_RDLCK, 60, 10);
	child = fork();
	CHECK_SYS(child);
	if (!child) {
		CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL));
		for (;;)
			pause();
	}
	scen_in_child(checker);

	scen_ready();
	scen_wait();
	CHECK_EQ(getpid(), self);
	scen_in_child(checker);
	/* the child still reaches fd 3's description: its locks stay; the
	 * process's POSIX lock goes with the first descriptor of the file it
	 * closes */
	CHECK_SYS(close(3));
	CHECK_SYS(close(8));
	closed = true;
	scen_in_child(checker);
	CHECK_SYS(kill(child, SIGKILL));
	CHECK_EQ(waitpid(child, &status, 0), child);
	desc3_gone = true;
	scen_in_child(checker);
	/* the process still takes a lock where the write lock was */
	fd = open("o.dat", O_RDWR | O_CLOEXEC);
	CHECK_SYS(fd);
	set_lock(fd, F_OFD_SETLK, F_WRLCK, 10, 20);
	close(fd);
	scen_pass();
}
