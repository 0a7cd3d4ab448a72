/*
 * epoll.c: epoll instances survive checkpoint and restart with their whole
 * interest list. The outer epoll (fd 5) watches /dev/random at fd 3
 * (level-triggered, always readable), an inotify at fd 4 (edge-triggered),
 * an inner epoll at fd 6 (non-blocking, which itself watches an inotify at
 * fd 7), fd 8 (a dup of fd 3, EPOLLONESHOT, fired before the checkpoint:
 * disarmed), an inotify at fd 9 with EPOLLEXCLUSIVE and one at fd 10 with
 * EPOLLONESHOT|EPOLLET, armed, never ready, and fd 11 (another dup of fd
 * 3, edge-triggered, its edge consumed). Every entry carries 64 bits of
 * data.
 *
 * After restart: both epolls list exactly the entries they had (fdinfo);
 * only fd 3 is ready (and fd 11, at most once: restart reports an edge
 * that is ready again, the documented spurious wakeup); a file created in the watched directory makes the
 * edge-triggered inotify and the inner epoll report, each with its data,
 * and the inotifys read the event with their own watch descriptors; the
 * edge is reported once; EPOLL_CTL_MOD succeeds on every entry (EINVAL on
 * the exclusive one, as the kernel answers for those), re-arming the
 * disarmed one makes it report, EPOLL_CTL_ADD says EEXIST and
 * EPOLL_CTL_DEL succeeds once on each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

enum {
	FD_RANDOM = 3, /* /dev/random */
	FD_IN_ET = 4, /* inotify on d, edge-triggered in the outer epoll */
	FD_OUTER = 5,
	FD_INNER = 6, /* an epoll in the outer one */
	FD_IN_INNER = 7, /* inotify on d, in the inner epoll */
	FD_ONESHOT = 8, /* dup of FD_RANDOM, one-shot, disarmed */
	FD_IN_EXCL = 9, /* inotify, EPOLLEXCLUSIVE */
	FD_IN_ARMED = 10, /* inotify, one-shot and edge-triggered, armed */
	FD_ET_READY = 11, /* dup of FD_RANDOM, edge-triggered: its edge consumed */
};

#define D_RANDOM 0x1111000000000001ULL
#define D_IN_ET 0x2222000000000002ULL
#define D_INNER 0x3333000000000003ULL
#define D_ONESHOT 0x4444000000000004ULL
#define D_IN_EXCL 0x5555000000000005ULL
#define D_IN_ARMED 0x6666000000000006ULL
#define D_ET_READY 0x8888000000000008ULL
#define D_IN_INNER 0x7777000000000007ULL

struct entry {
	int tfd;
	unsigned int events;
	unsigned long long data;
};

#define MAX_ENTRIES 16

struct list {
	struct entry e[MAX_ENTRIES];
	int n;
};

static struct list outer_before, inner_before;
static int wd_et, wd_inner;
static char base[64], name[80]; /* our file in d, as inotify names it and as a path */

/* The interest list of epoll fd, from its fdinfo. */
static void read_list(int fd, struct list *l)
{
	char path[64], buf[8192], *line;
	int f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_SYS(f);
	n = read(f, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	close(f);
	l->n = 0;
	for (line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		struct entry *e = &l->e[l->n];

		if (strncmp(line, "tfd:", 4))
			continue;
		CHECK(l->n < MAX_ENTRIES);
		CHECK_EQ(sscanf(line, "tfd: %d events: %x data: %llx", &e->tfd, &e->events,
				&e->data),
			 3);
		l->n++;
	}
}

static const struct entry *find(const struct list *l, int tfd)
{
	for (int i = 0; i < l->n; i++)
		if (l->e[i].tfd == tfd)
			return &l->e[i];
	return NULL;
}

static void same_list(const struct list *before, const struct list *after)
{
	CHECK_EQ(after->n, before->n);
	for (int i = 0; i < before->n; i++) {
		const struct entry *a = find(after, before->e[i].tfd);

		if (!a)
			scen_fail("the entry for fd %d is gone", before->e[i].tfd);
		CHECK_EQ(a->events, before->e[i].events);
		CHECK_EQ(a->data, before->e[i].data);
	}
}

static void add(int ep, int fd, unsigned int events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
}

/* epoll_wait with this timeout reports exactly these data values, each
 * with EPOLLIN. */
static void expect_ready(int ep, int timeout, const uint64_t *want, int nwant)
{
	struct epoll_event ev[MAX_ENTRIES];
	int n = epoll_wait(ep, ev, MAX_ENTRIES, timeout);

	CHECK_SYS(n);
	if (n != nwant)
		scen_fail("epoll fd %d reported %d entries, expected %d (first data %#llx)", ep, n,
			  nwant, n ? (unsigned long long)ev[0].data.u64 : 0ULL);
	for (int i = 0; i < nwant; i++) {
		bool found = false;

		for (int j = 0; j < n; j++)
			if (ev[j].data.u64 == want[i]) {
				CHECK_EQ(ev[j].events, EPOLLIN);
				found = true;
			}
		if (!found)
			scen_fail("epoll fd %d did not report data %#llx", ep,
				  (unsigned long long)want[i]);
	}
}

/* Reads the inotify at fd until it is empty; *mine counts our file's events,
 * which must carry wd and IN_CREATE. Others come from a copy beside us. */
static void drain(int fd, int wd, int *mine)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);

			if (e->len && !strcmp(e->name, base)) {
				CHECK_EQ(e->wd, wd);
				CHECK_EQ(e->mask, IN_CREATE);
				(*mine)++;
			}
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
	CHECK(n < 0 && errno == EAGAIN);
}

static void build(void)
{
	struct epoll_event ev[MAX_ENTRIES];

	CHECK_SYS(mkdir("d", 0755));
	scen_move_fd(open("/dev/random", O_RDONLY | O_CLOEXEC), FD_RANDOM);
	scen_move_fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC), FD_IN_ET);
	wd_et = inotify_add_watch(FD_IN_ET, "d", IN_CREATE);
	CHECK_SYS(wd_et);
	scen_move_fd(epoll_create1(EPOLL_CLOEXEC), FD_OUTER);
	scen_move_fd(epoll_create1(0), FD_INNER);
	CHECK_SYS(fcntl(FD_INNER, F_SETFL, O_NONBLOCK));
	scen_move_fd(inotify_init1(IN_NONBLOCK), FD_IN_INNER);
	/* another watch first: the inner inotify's wd is 2 */
	CHECK_SYS(inotify_add_watch(FD_IN_INNER, ".", IN_DELETE_SELF));
	wd_inner = inotify_add_watch(FD_IN_INNER, "d", IN_CREATE);
	CHECK_EQ(wd_inner, 2);
	CHECK_EQ(dup2(FD_RANDOM, FD_ONESHOT), FD_ONESHOT);
	scen_move_fd(inotify_init1(IN_CLOEXEC), FD_IN_EXCL);
	scen_move_fd(inotify_init1(IN_CLOEXEC), FD_IN_ARMED);
	CHECK_EQ(dup2(FD_RANDOM, FD_ET_READY), FD_ET_READY);

	add(FD_INNER, FD_IN_INNER, EPOLLIN, D_IN_INNER);
	add(FD_OUTER, FD_RANDOM, EPOLLIN, D_RANDOM);
	add(FD_OUTER, FD_IN_ET, EPOLLIN | EPOLLET, D_IN_ET);
	add(FD_OUTER, FD_INNER, EPOLLIN, D_INNER);
	add(FD_OUTER, FD_ONESHOT, EPOLLIN | EPOLLONESHOT, D_ONESHOT);
	add(FD_OUTER, FD_IN_EXCL, EPOLLIN | EPOLLEXCLUSIVE, D_IN_EXCL);
	add(FD_OUTER, FD_IN_ARMED, EPOLLIN | EPOLLONESHOT | EPOLLET, D_IN_ARMED);
	add(FD_OUTER, FD_ET_READY, EPOLLIN | EPOLLET, D_ET_READY);
	/* fires the one-shot entry, which keeps no events after, and
	 * consumes the edge of FD_ET_READY */
	CHECK_EQ(epoll_wait(FD_OUTER, ev, MAX_ENTRIES, 0), 3);
	CHECK_EQ(epoll_wait(FD_OUTER, ev, MAX_ENTRIES, 0), 1);
	read_list(FD_OUTER, &outer_before);
	read_list(FD_INNER, &inner_before);
	CHECK_EQ(outer_before.n, 7);
	CHECK_EQ(find(&outer_before, FD_ONESHOT)->events, EPOLLONESHOT);
	CHECK_EQ(inner_before.n, 1);
}

static void check_ctl(int ep, int fd, unsigned int events, uint64_t data, int mod_errno)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	int r = epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);

	if (mod_errno)
		CHECK(r < 0 && errno == mod_errno);
	else
		CHECK_SYS(r);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST);
	CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL));
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0 && errno == ENOENT);
}

static void check(void)
{
	static const uint64_t random_only[] = { D_RANDOM };
	static const uint64_t after_create[] = { D_RANDOM, D_IN_ET, D_INNER };
	static const uint64_t inner[] = { D_IN_INNER };
	static const uint64_t oneshot[] = { D_RANDOM, D_ONESHOT };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = D_ONESHOT };
	struct epoll_event evs[MAX_ENTRIES];
	struct list l;
	int fd, n, mine_et = 0, mine_inner = 0;

	read_list(FD_OUTER, &l);
	same_list(&outer_before, &l);
	read_list(FD_INNER, &l);
	same_list(&inner_before, &l);
	CHECK(fcntl(FD_INNER, F_GETFL) & O_NONBLOCK);
	CHECK(!(fcntl(FD_OUTER, F_GETFL) & O_NONBLOCK));
	CHECK(fcntl(FD_OUTER, F_GETFD) & FD_CLOEXEC);
	CHECK(!(fcntl(FD_INNER, F_GETFD) & FD_CLOEXEC));

	/* a copy running beside us (--pidns) may have made events: read them off */
	drain(FD_IN_ET, wd_et, &mine_et);
	drain(FD_IN_INNER, wd_inner, &mine_inner);
	CHECK_EQ(mine_et + mine_inner, 0);
	if (unlink(name) && errno != ENOENT)
		scen_fail("unlink %s: %m", name);
	/* the consumed edge of FD_ET_READY may come once more (restored),
	 * then never */
	n = epoll_wait(FD_OUTER, evs, MAX_ENTRIES, 0);
	CHECK(n == 1 ||
	      (n == 2 && (evs[0].data.u64 == D_ET_READY || evs[1].data.u64 == D_ET_READY)));
	expect_ready(FD_OUTER, 0, random_only, 1);

	fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK_SYS(fd);
	close(fd);
	expect_ready(FD_OUTER, 5000, after_create, 3);
	expect_ready(FD_INNER, 0, inner, 1);
	drain(FD_IN_ET, wd_et, &mine_et);
	drain(FD_IN_INNER, wd_inner, &mine_inner);
	CHECK_EQ(mine_et, 1);
	CHECK_EQ(mine_inner, 1);
	/* the edge was reported once, the inner inotify is empty again */
	expect_ready(FD_OUTER, 0, random_only, 1);

	/* re-arming the one-shot entry makes it report */
	CHECK_SYS(epoll_ctl(FD_OUTER, EPOLL_CTL_MOD, FD_ONESHOT, &ev));
	expect_ready(FD_OUTER, 0, oneshot, 2);

	check_ctl(FD_OUTER, FD_RANDOM, EPOLLIN, D_RANDOM, 0);
	check_ctl(FD_OUTER, FD_IN_ET, EPOLLIN | EPOLLET, D_IN_ET, 0);
	check_ctl(FD_OUTER, FD_INNER, EPOLLIN, D_INNER, 0);
	check_ctl(FD_OUTER, FD_ONESHOT, EPOLLIN | EPOLLONESHOT, D_ONESHOT, 0);
	check_ctl(FD_OUTER, FD_IN_EXCL, EPOLLIN, D_IN_EXCL, EINVAL);
	check_ctl(FD_OUTER, FD_IN_ARMED, EPOLLIN, D_IN_ARMED, 0);
	check_ctl(FD_OUTER, FD_ET_READY, EPOLLIN | EPOLLET, D_ET_READY, 0);
	check_ctl(FD_INNER, FD_IN_INNER, EPOLLIN, D_IN_INNER, 0);
	read_list(FD_OUTER, &l);
	CHECK_EQ(l.n, 0);
	unlink(name);
}

int main(void)
{
	scen_init();
	build();
	scen_ready();
	scen_wait();
	/* apart from the file of a copy restarted beside us (--pidns) */
	snprintf(base, sizeof(base), "new-%llx", (unsigned long long)scen_pidns());
	snprintf(name, sizeof(name), "d/%s", base);
	check();
	scen_pass();
}
