/*
 * refuse.c: a process holding one resource ckpt does not support; the
 * argument says which. The checkpoint must be refused (the runner checks
 * exit status 3 and the message) and leave the process unharmed: after the
 * runner's SIGTERM the process checks that the resource still works (the
 * pipe still holds its data and passes more, the lease is still held, ...),
 * that it is not left traced, and that its memory map is what it was before
 * the checkpoint (no scratch mapping left behind).
 *
 *   socket   an AF_UNIX datagram socket at fd 3 bound to a path
 *   pipe     a pipe at fd 3, holding data, whose write end only a process
 *            outside the tree holds
 *   timerfd_cancel  a cancel-on-set timerfd at fd 3 with an expiration not
 *            read (fdinfo does not tell it from a clock change)
 *   inotify  an inotify instance at fd 3 watching the working directory,
 *            with an event queued
 *   epoll    an epoll instance at fd 3 whose entry for fd 4 outlives the
 *            descriptor (the inotify it watches moved to fd 5)
 *   epoll_replaced  an epoll at fd 3 whose entry for fd 4 is not the file fd 4
 *            reaches now (the inotify it watches moved to fd 5, another
 *            one took fd 4)
 *   inotify_deleted an inotify at fd 3 watching a file that was deleted (it
 *            is still open at fd 4)
 *   inotify_proc    an inotify at fd 3 watching a file of /proc, which
 *            cannot be opened by file handle
 *   lease    a read lease (F_SETLEASE) on a regular file at fd 3
 *   lock_dir     an exclusive flock on a directory at fd 3
 *   lock_orphan  a POSIX write lock on a regular file at fd 3, taken by a
 *                process that shared the descriptor table and has exited
 *   deleted  a directory open at fd 3, removed
 *   memfd_huge   a memfd at fd 3 created with MFD_HUGETLB
 *   sysv_locked  a System V segment attached and locked (SHM_LOCK)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

static char maps_before[1 << 16], maps_after[1 << 16];

/* Reads a whole small file into buf with plain syscalls (no allocation). */
static size_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		scen_fail("open %s: %m", path);
	while ((r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	if (r < 0)
		scen_fail("read %s: %m", path);
	close(fd);
	CHECK(n < len - 1);
	buf[n] = '\0';
	return n;
}

static void check_untraced(void)
{
	char status[4096], *t;

	slurp("/proc/self/status", status, sizeof(status));
	t = strstr(status, "TracerPid:");
	CHECK(t);
	if (atoi(t + 10) != 0)
		scen_fail("still traced by pid %d after the refused checkpoint", atoi(t + 10));
}

static void move_fd(int fd, int target)
{
	if (fd == target)
		return;
	CHECK_SYS(dup3(fd, target, O_CLOEXEC));
	close(fd);
}

/* socket: bound to a path in the working directory */

static int socket_setup(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "sock" };

	CHECK_EQ(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), 3);
	CHECK_SYS(bind(3, (struct sockaddr *)&a, sizeof(a)));
	return 0;
}

static void socket_check(void)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	CHECK_SYS(getsockname(3, (struct sockaddr *)&a, &len));
	CHECK(!strcmp(a.sun_path, "sock"));
}

/* pipe */

static int pipe_setup(void)
{
	int p[2], hold[2];
	pid_t mid;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_EQ(p[0], 3);
	CHECK_EQ(p[1], 4);
	CHECK_SYS(pipe2(hold, O_CLOEXEC));
	CHECK_EQ(hold[0], 5);
	CHECK_EQ(hold[1], 6);
	CHECK_EQ(write(4, "held", 4), 4);
	/* a process outside the tree (the runner's subreaper adopts it)
	 * keeps the write end, until this one closes fd 6 */
	mid = fork();
	CHECK_SYS(mid);
	if (mid == 0) {
		char c;

		if (fork() != 0)
			_exit(0);
		close(3);
		close(6);
		if (read(5, &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(waitpid(mid, NULL, 0), mid);
	close(4);
	close(5);
	return 0;
}

static void pipe_check(void)
{
	char buf[8];

	CHECK_EQ(read(3, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "held", 4));
	close(6);
}

/* timerfd_cancel: an absolute realtime timer set in the past fires at once */

static int timerfd_cancel_setup(void)
{
	struct itimerspec its = { 0 };

	CHECK_EQ(timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK), 3);
	CHECK_SYS(clock_gettime(CLOCK_REALTIME, &its.it_value));
	its.it_value.tv_sec -= 1;
	CHECK_SYS(timerfd_settime(3, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL));
	return 0;
}

static void timerfd_cancel_check(void)
{
	uint64_t v;

	CHECK_EQ(read(3, &v, sizeof(v)), sizeof(v));
	CHECK_EQ(v, 1);
	CHECK_EQ(read(3, &v, sizeof(v)), -1);
	CHECK_EQ(errno, EAGAIN);
}

/* inotify */

static int inotify_setup(void)
{
	int fd;

	CHECK_EQ(inotify_init1(IN_CLOEXEC), 3);
	CHECK_SYS(inotify_add_watch(3, ".", IN_CREATE));
	fd = open("queued", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK_SYS(fd);
	close(fd);
	return 0;
}

static void inotify_check(void)
{
	char buf[4096] __attribute__((aligned(8)));
	int fd = open("probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	CHECK_SYS(fd);
	close(fd);
	/* the runner's own files came first; look for ours */
	for (;;) {
		ssize_t n = read(3, buf, sizeof(buf));

		if (n <= 0)
			scen_fail("inotify read returned %zd: %m", n);
		for (ssize_t off = 0; off < n;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);

			if (e->len && !strcmp(e->name, "probe")) {
				CHECK(e->mask & IN_CREATE);
				return;
			}
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
}

/* epoll */

static int epoll_setup(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 42 };

	CHECK_EQ(epoll_create1(EPOLL_CLOEXEC), 3);
	CHECK_EQ(inotify_init1(IN_CLOEXEC), 4);
	CHECK_SYS(epoll_ctl(3, EPOLL_CTL_ADD, 4, &ev));
	CHECK_EQ(dup3(4, 5, O_CLOEXEC), 5);
	CHECK_SYS(close(4));
	return 0;
}

static void epoll_check(void)
{
	struct epoll_event ev;
	int fd;

	CHECK_EQ(epoll_wait(3, &ev, 1, 0), 0);
	CHECK_SYS(inotify_add_watch(5, ".", IN_CREATE));
	fd = open("probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK_SYS(fd);
	close(fd);
	CHECK_EQ(epoll_wait(3, &ev, 1, 1000), 1);
	CHECK_EQ(ev.data.u32, 42);
	CHECK(ev.events & EPOLLIN);
}

/* epoll_replaced */

static int epoll_replaced_setup(void)
{
	epoll_setup();
	CHECK_EQ(inotify_init1(IN_CLOEXEC), 4);
	return 0;
}

/* inotify_deleted */

static int inotify_deleted_setup(void)
{
	CHECK_EQ(inotify_init1(IN_CLOEXEC), 3);
	CHECK_EQ(open("gone", O_RDWR | O_CREAT | O_CLOEXEC, 0644), 4);
	CHECK_EQ(inotify_add_watch(3, "gone", IN_MODIFY), 1);
	CHECK_SYS(unlink("gone"));
	return 0;
}

static void inotify_deleted_check(void)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *e = (struct inotify_event *)buf;

	CHECK_EQ(write(4, "x", 1), 1);
	CHECK(read(3, buf, sizeof(buf)) >= (ssize_t)sizeof(*e));
	CHECK_EQ(e->wd, 1);
	CHECK_EQ(e->mask, IN_MODIFY);
}

/* inotify_proc */

static int inotify_proc_setup(void)
{
	CHECK_EQ(inotify_init1(IN_CLOEXEC), 3);
	CHECK_EQ(inotify_add_watch(3, "/proc/self/stat", IN_MODIFY), 1);
	return 0;
}

static void inotify_proc_check(void)
{
	CHECK_EQ(inotify_add_watch(3, "/proc/self/stat", IN_MODIFY | IN_MASK_ADD), 1);
}

/* lease */

static int lease_setup(void)
{
	CHECK_EQ(open("leased", O_RDONLY | O_CREAT | O_CLOEXEC, 0644), 3);
	CHECK_SYS(fcntl(3, F_SETLEASE, F_RDLCK));
	return 0;
}

static void lease_check(void)
{
	CHECK_EQ(fcntl(3, F_GETLEASE), F_RDLCK);
}

/* lock_dir */

static int lock_dir_setup(void)
{
	CHECK_EQ(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 3);
	CHECK_SYS(flock(3, LOCK_EX));
	return 0;
}

static void lock_dir_check(void)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	CHECK_SYS(fd);
	CHECK_EQ(flock(fd, LOCK_SH | LOCK_NB), -1);
	CHECK_EQ(errno, EWOULDBLOCK);
	close(fd);
}

/* lock_orphan */

static int lock_orphan_setup(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int status;
	long child;

	CHECK_EQ(open("locked", O_RDWR | O_CREAT | O_CLOEXEC, 0644), 3);
	CHECK_EQ(write(3, "data", 4), 4);
	/* a process sharing the descriptor table takes the lock and exits */
	child = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	CHECK_SYS(child);
	if (!child)
		_exit(fcntl(3, F_SETLK, &fl) ? 1 : 0);
	CHECK_EQ(waitpid((pid_t)child, &status, 0), child);
	CHECK_EQ(status, 0);
	return 0;
}

static void lock_orphan_check(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open("locked", O_RDWR | O_CLOEXEC);

	/* an OFD lock query from another open file description sees the lock */
	CHECK_SYS(fd);
	CHECK_SYS(fcntl(fd, F_OFD_GETLK, &fl));
	if (fl.l_type != F_WRLCK)
		scen_fail("the write lock is no longer held (F_OFD_GETLK says type %d)", fl.l_type);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 0);
	close(fd);
}

/* deleted */

static int deleted_setup(void)
{
	CHECK_SYS(mkdir("gonedir", 0755));
	CHECK_EQ(open("gonedir", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 3);
	CHECK_SYS(rmdir("gonedir"));
	return 0;
}

static void deleted_check(void)
{
	struct stat st;

	CHECK_SYS(fstat(3, &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(access("gonedir", F_OK), -1);
}

/* memfd_huge */

#define HUGE_SIZE (2UL << 20)

static int memfd_huge_setup(void)
{
	int fd = memfd_create("ckpt-refuse", MFD_CLOEXEC | MFD_HUGETLB);

	if (fd < 0)
		scen_fail("memfd_create(MFD_HUGETLB): %m");
	move_fd(fd, 3);
	CHECK_SYS(ftruncate(3, HUGE_SIZE));
	return 0;
}

static void memfd_huge_check(void)
{
	struct stat st;
	char link[256];
	ssize_t n = readlink("/proc/self/fd/3", link, sizeof(link) - 1);

	CHECK(n > 0);
	link[n] = '\0';
	CHECK(!strcmp(link, "/memfd:ckpt-refuse (deleted)"));
	CHECK_SYS(fstat(3, &st));
	CHECK_EQ(st.st_size, HUGE_SIZE);
}

/* sysv_locked */

static uint8_t *sysv_at;
static int sysv_id;

static int sysv_locked_setup(void)
{
	sysv_id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	CHECK_SYS(sysv_id);
	sysv_at = shmat(sysv_id, NULL, 0);
	CHECK(sysv_at != (void *)-1);
	/* goes away with the process */
	CHECK_SYS(shmctl(sysv_id, IPC_RMID, NULL));
	memcpy(sysv_at, "data", 4);
	CHECK_SYS(shmctl(sysv_id, SHM_LOCK, NULL));
	return 0;
}

static void sysv_locked_check(void)
{
	struct shmid_ds ds;

	CHECK(!memcmp(sysv_at, "data", 4));
	CHECK_SYS(shmctl(sysv_id, IPC_STAT, &ds));
	CHECK(ds.shm_perm.mode & SHM_LOCKED);
	CHECK_EQ(ds.shm_nattch, 1);
}

static const struct {
	const char *name;
	int (*setup)(void);
	void (*check)(void);
} cases[] = {
	{ "socket", socket_setup, socket_check },
	{ "pipe", pipe_setup, pipe_check },
	{ "timerfd_cancel", timerfd_cancel_setup, timerfd_cancel_check },
	{ "inotify", inotify_setup, inotify_check },
	{ "epoll", epoll_setup, epoll_check },
	{ "epoll_replaced", epoll_replaced_setup, epoll_check },
	{ "inotify_deleted", inotify_deleted_setup, inotify_deleted_check },
	{ "inotify_proc", inotify_proc_setup, inotify_proc_check },
	{ "lease", lease_setup, lease_check },
	{ "lock_dir", lock_dir_setup, lock_dir_check },
	{ "lock_orphan", lock_orphan_setup, lock_orphan_check },
	{ "deleted", deleted_setup, deleted_check },
	{ "memfd_huge", memfd_huge_setup, memfd_huge_check },
	{ "sysv_locked", sysv_locked_setup, sysv_locked_check },
};

int main(int argc, char **argv)
{
	pid_t pid = getpid();

	scen_init();
	if (argc != 2)
		scen_fail("usage: refuse RESOURCE");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		cases[i].setup();
		slurp("/proc/self/maps", maps_before, sizeof(maps_before));
		scen_ready();
		scen_wait();
		slurp("/proc/self/maps", maps_after, sizeof(maps_after));
		CHECK_EQ(getpid(), pid);
		check_untraced();
		if (strcmp(maps_before, maps_after))
			scen_fail("the memory map changed:\n%s\n---\n%s", maps_before, maps_after);
		cases[i].check();
		scen_pass();
	}
	scen_fail("unknown resource '%s'", argv[1]);
}
