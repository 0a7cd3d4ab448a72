/*
 * lock_flock.c: flock(2) locks survive checkpoint and restart, owned by
 * their open file descriptions. The process holds an exclusive flock on
 * a.lck (fd 3, dup at fd 7), shared flocks on b.lck through two
 * descriptions of it (fds 4 and 5), and nothing on c.lck (fd 6). Its
 * child, a process of the tree, shares every description and holds an
 * exclusive flock on d.lck through a description of its own (fd 8), and
 * one on e.lck through a description it inherited (fd 9, the process's
 * too).
 *
 * A checker child, forked before and after the restart, opens each file
 * anew: a.lck, d.lck and e.lck cannot be locked at all, b.lck only shared,
 * c.lck exclusively; /proc/locks lists one flock per description, in the
 * name of the process that took it. The owner
 * semantics stay: unlocking one of b.lck's descriptions leaves the other's
 * shared lock; a.lck's lock outlives the process's closing fd 3 (fd 7 and
 * the child still reach the description) and goes with LOCK_UN on fd 7.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

enum {
	A_FREE = 1,
	B_ONE = 2,
	B_FREE = 4
};
static int state; /* what the process let go of */
static pid_t self, child;

/* flock of a new description of path: what the checker may take */
static void may_lock(const char *path, bool shared_ok, bool excl_ok)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CHECK_SYS(fd);
	if (flock(fd, LOCK_SH | LOCK_NB) != (shared_ok ? 0 : -1) ||
	    (!shared_ok && errno != EWOULDBLOCK))
		scen_fail("%s: a shared flock %s: %m", path, shared_ok ? "failed" : "was granted");
	CHECK_SYS(flock(fd, LOCK_UN));
	if (flock(fd, LOCK_EX | LOCK_NB) != (excl_ok ? 0 : -1) ||
	    (!excl_ok && errno != EWOULDBLOCK))
		scen_fail("%s: an exclusive flock %s: %m", path,
			  excl_ok ? "failed" : "was granted");
	close(fd);
}

static void checker(void)
{
	int fd = open("b.lck", O_RDONLY | O_CLOEXEC);
	bool a_free = state & A_FREE, b_free = state & B_FREE;

	may_lock("a.lck", a_free, a_free);
	may_lock("b.lck", true, b_free);
	may_lock("c.lck", true, true);
	may_lock("d.lck", false, false);
	may_lock("e.lck", false, false);
	CHECK_SYS(fd);
	CHECK_EQ(scen_count_locks(fd, "FLOCK", "READ", self), b_free ? 0 : state & B_ONE ? 1 : 2);
	CHECK_EQ(scen_count_locks(fd, "FLOCK", "READ", 0), b_free ? 0 : state & B_ONE ? 1 : 2);
	CHECK_EQ(scen_count_locks(fd, "FLOCK", "WRITE", 0), 0);
	CHECK_EQ(scen_count_locks(3, "FLOCK", "WRITE", self), !a_free);
	CHECK_EQ(scen_count_locks(3, "FLOCK", "WRITE", 0), !a_free);
	CHECK_EQ(scen_count_locks(3, "FLOCK", "READ", 0), 0);
	CHECK_EQ(scen_count_locks(9, "FLOCK", "WRITE", child), 1);
	CHECK_EQ(scen_count_locks(9, "FLOCK", "WRITE", 0), 1);
	CHECK_EQ(scen_count_locks(6, "FLOCK", "READ", 0) + scen_count_locks(6, "FLOCK", "WRITE", 0),
		 0);
	CHECK_EQ(scen_count_locks(8, "FLOCK", "WRITE", child), 1);
	CHECK_EQ(scen_count_locks(8, "FLOCK", "WRITE", 0), 1);
	close(fd);
}

static void create(const char *path, int fd)
{
	scen_move_fd(open(path, O_RDWR | O_CREAT, 0644), fd);
}

int main(void)
{
	int pipefd[2], status;
	char c;

	scen_init();
	self = getpid();
	create("a.lck", 3);
	CHECK_SYS(dup2(3, 7));
	create("b.lck", 4);
	scen_move_fd(open("b.lck", O_RDONLY), 5);
	create("c.lck", 6);
	CHECK_SYS(flock(3, LOCK_EX | LOCK_NB));
	CHECK_SYS(flock(4, LOCK_SH | LOCK_NB));
	CHECK_SYS(flock(5, LOCK_SH | LOCK_NB));
	create("e.lck", 9);
	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	child = fork();
	CHECK_SYS(child);
	if (!child) {
		CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL));
		close(pipefd[0]);
		create("d.lck", 8);
		CHECK_SYS(flock(8, LOCK_EX | LOCK_NB));
		CHECK_SYS(flock(9, LOCK_EX | LOCK_NB));
		CHECK_EQ(write(pipefd[1], "x", 1), 1);
		close(pipefd[1]);
		for (;;)
			pause();
	}
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	close(pipefd[1]);
	/* the checker reaches d.lck through the child's fd 8 */
	scen_move_fd(open("d.lck", O_RDONLY), 8);
	scen_in_child(checker);

	scen_ready();
	scen_wait();
	scen_in_child(checker);
	/* the process's own descriptions hold them: it drops one, then the other */
	CHECK_SYS(flock(4, LOCK_UN));
	state |= B_ONE;
	scen_in_child(checker);
	CHECK_SYS(flock(5, LOCK_EX | LOCK_NB));
	CHECK_SYS(flock(5, LOCK_UN));
	state |= B_FREE;
	scen_in_child(checker);
	/* a.lck's lock belongs to the description, not to fd 3 */
	CHECK_SYS(close(3));
	scen_move_fd(open("a.lck", O_RDONLY), 3);
	CHECK_EQ(flock(3, LOCK_SH | LOCK_NB), -1);
	CHECK_EQ(errno, EWOULDBLOCK);
	CHECK_SYS(flock(7, LOCK_UN));
	state |= A_FREE;
	scen_in_child(checker);
	CHECK_SYS(kill(child, SIGKILL));
	CHECK_EQ(waitpid(child, &status, 0), child);
	scen_pass();
}
