/*
 * epoll_tree.c: an epoll shared by two processes. The parent creates an
 * epoll at fd 3 watching an inotify at fd 4 (a watch on directory d), then
 * forks; the child inherits both and creates an epoll of its own at fd 5
 * that watches the same inotify, edge-triggered.
 *
 * After restart (the parent passes the runner's SIGTERM on to the child):
 * parent and child still share one description at fd 3 and one at fd 4
 * (kcmp); a file the child creates in d makes both epolls report their
 * own data, and the inotify the event with its watch descriptor; the
 * parent, once the child passed, finds its entry there (EPOLL_CTL_MOD).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

enum {
	FD_SHARED = 3,
	FD_IN = 4,
	FD_OWN = 5
};

#define D_SHARED 0x5aa5000000000003ULL
#define D_OWN 0xa55a000000000005ULL

static int wd;

/* epoll_wait on ep with this timeout reports exactly one entry: data. */
static void expect_one(int ep, int timeout, uint64_t data)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, timeout);

	CHECK_EQ(n, 1);
	CHECK_EQ(ev[0].data.u64, data);
	CHECK_EQ(ev[0].events, EPOLLIN);
}

/* Reads the inotify until empty; how many events name our file. */
static int drain(const char *base)
{
	char buf[4096] __attribute__((aligned(8)));
	int mine = 0;
	ssize_t n;

	while ((n = read(FD_IN, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);

			if (e->len && !strcmp(e->name, base)) {
				CHECK_EQ(e->wd, wd);
				CHECK_EQ(e->mask, IN_CREATE);
				mine++;
			}
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
	CHECK(n < 0 && errno == EAGAIN);
	return mine;
}

static void child_check(pid_t parent)
{
	char base[64], path[96];
	int fd;

	CHECK_EQ(syscall(SYS_kcmp, parent, getpid(), KCMP_FILE, FD_SHARED, FD_SHARED), 0);
	CHECK_EQ(syscall(SYS_kcmp, parent, getpid(), KCMP_FILE, FD_IN, FD_IN), 0);
	snprintf(base, sizeof(base), "c-%llx", (unsigned long long)scen_pidns());
	snprintf(path, sizeof(path), "d/%s", base);
	/* a copy beside us (--pidns) may have made events: read them off */
	CHECK_EQ(drain(base), 0);
	if (unlink(path) && errno != ENOENT)
		scen_fail("unlink %s: %m", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK_SYS(fd);
	close(fd);
	expect_one(FD_OWN, 5000, D_OWN);
	expect_one(FD_SHARED, 0, D_SHARED);
	CHECK_EQ(drain(base), 1);
	unlink(path);
	scen_pass();
}

int main(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = D_SHARED };
	pid_t parent = getpid(), child;
	int status, fd;

	scen_init();
	CHECK_SYS(mkdir("d", 0755));
	scen_move_fd(epoll_create1(0), FD_SHARED);
	scen_move_fd(inotify_init1(IN_NONBLOCK), FD_IN);
	wd = inotify_add_watch(FD_IN, "d", IN_CREATE);
	CHECK_SYS(wd);
	CHECK_SYS(epoll_ctl(FD_SHARED, EPOLL_CTL_ADD, FD_IN, &ev));
	child = fork();
	CHECK_SYS(child);
	if (!child) {
		struct epoll_event own = { .events = EPOLLIN | EPOLLET, .data.u64 = D_OWN };

		scen_move_fd(epoll_create1(EPOLL_CLOEXEC), FD_OWN);
		CHECK_SYS(epoll_ctl(FD_OWN, EPOLL_CTL_ADD, FD_IN, &own));
		fd = creat("child-ready", 0644);
		CHECK_SYS(fd);
		close(fd);
		scen_wait();
		child_check(parent);
	}
	while (access("child-ready", F_OK))
		usleep(1000);
	scen_ready();
	scen_wait();
	CHECK_SYS(kill(child, SIGTERM));
	CHECK_EQ(waitpid(child, &status, 0), child);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("the child failed (status %#x)", status);
	CHECK_SYS(epoll_ctl(FD_SHARED, EPOLL_CTL_MOD, FD_IN, &ev));
	scen_pass();
}
