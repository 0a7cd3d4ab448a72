/*
 * refuse.c: a process holding one resource ckpt does not support; the
 * argument says which. The checkpoint must be refused (the runner checks
 * exit status 3 and the message) and leave the process unharmed: after the
 * runner's SIGTERM the process checks that the resource still works (the
 * pipe still holds its data and passes more, the lock is still held, ...),
 * that it is not left traced, and that its memory map is what it was before
 * the checkpoint (no scratch mapping left behind).
 *
 *   socket   a connected AF_UNIX socket pair at fds 3-4
 *   pipe     a pipe at fds 3-4, holding data
 *   eventfd  an eventfd at fd 3 with a count
 *   inotify  an inotify instance at fd 3 watching the working directory
 *   epoll    an epoll instance at fd 3 watching an eventfd at fd 4
 *   lock     a POSIX write lock on a regular file at fd 3
 *   deleted  a directory open at fd 3, removed
 *   memfd_huge   a memfd at fd 3 created with MFD_HUGETLB
 *   sysv_locked  a System V segment attached and locked (SHM_LOCK)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* socket */

static int socket_setup(void)
{
	int sv[2];

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(sv[0], 3);
	CHECK_EQ(sv[1], 4);
	CHECK_EQ(write(3, "ping", 4), 4);
	return 0;
}

static void socket_check(void)
{
	char buf[8];

	CHECK_EQ(read(4, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "ping", 4));
	CHECK_EQ(write(4, "pong", 4), 4);
	CHECK_EQ(read(3, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "pong", 4));
}

/* pipe */

static int pipe_setup(void)
{
	int p[2];

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_EQ(p[0], 3);
	CHECK_EQ(p[1], 4);
	CHECK_EQ(write(4, "held", 4), 4);
	return 0;
}

static void pipe_check(void)
{
	char buf[8];

	CHECK_EQ(read(3, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "held", 4));
	CHECK_EQ(write(4, "more", 4), 4);
	CHECK_EQ(read(3, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "more", 4));
}

/* eventfd */

static int eventfd_setup(void)
{
	CHECK_EQ(eventfd(5, EFD_CLOEXEC), 3);
	return 0;
}

static void eventfd_check(void)
{
	uint64_t v;

	CHECK_EQ(read(3, &v, sizeof(v)), sizeof(v));
	CHECK_EQ(v, 5);
	v = 2;
	CHECK_EQ(write(3, &v, sizeof(v)), sizeof(v));
	CHECK_EQ(read(3, &v, sizeof(v)), sizeof(v));
	CHECK_EQ(v, 2);
}

/* inotify */

static int inotify_setup(void)
{
	CHECK_EQ(inotify_init1(IN_CLOEXEC), 3);
	CHECK_SYS(inotify_add_watch(3, ".", IN_CREATE));
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
	CHECK_EQ(eventfd(0, EFD_CLOEXEC), 4);
	CHECK_SYS(epoll_ctl(3, EPOLL_CTL_ADD, 4, &ev));
	return 0;
}

static void epoll_check(void)
{
	struct epoll_event ev;
	uint64_t v = 1;

	CHECK_EQ(epoll_wait(3, &ev, 1, 0), 0);
	CHECK_EQ(write(4, &v, sizeof(v)), sizeof(v));
	CHECK_EQ(epoll_wait(3, &ev, 1, 1000), 1);
	CHECK_EQ(ev.data.u32, 42);
	CHECK(ev.events & EPOLLIN);
}

/* lock */

static int lock_setup(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	CHECK_EQ(open("locked", O_RDWR | O_CREAT | O_CLOEXEC, 0644), 3);
	CHECK_EQ(write(3, "data", 4), 4);
	CHECK_SYS(fcntl(3, F_SETLK, &fl));
	return 0;
}

static void lock_check(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open("locked", O_RDWR | O_CLOEXEC);

	/* an OFD lock query from another open file description sees our lock */
	CHECK_SYS(fd);
	CHECK_SYS(fcntl(fd, F_OFD_GETLK, &fl));
	if (fl.l_type != F_WRLCK)
		scen_fail("the write lock is no longer held (F_OFD_GETLK says type %d)", fl.l_type);
	CHECK_EQ(fl.l_pid, getpid());
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 0);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	CHECK_EQ(fcntl(fd, F_OFD_SETLK, &fl), -1);
	CHECK(errno == EAGAIN || errno == EACCES);
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
	{ "eventfd", eventfd_setup, eventfd_check },
	{ "inotify", inotify_setup, inotify_check },
	{ "epoll", epoll_setup, epoll_check },
	{ "lock", lock_setup, lock_check },
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
