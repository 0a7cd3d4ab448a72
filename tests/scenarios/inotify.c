/*
 * inotify.c: inotify instances survive checkpoint and restart with their
 * watches, masks and watch descriptors. fd 3 (non-blocking) watches a
 * directory d (wd 1), a file f1 (wd 2), a directory d2 with IN_ONESHOT
 * (wd 4), a directory d3 for every event with IN_EXCL_UNLINK (wd 8) and
 * the symlink lnk itself (IN_DONT_FOLLOW, wd 9); wds 3 and 5-7 were
 * removed before the checkpoint (gaps). fd 4, a second instance, watches
 * d too (wd 1); fd 5 has no watch.
 *
 * After restart: the fdinfo lists the same watches (wd, mask, inode); each
 * action makes exactly its event, with the watch's wd: a file created and
 * removed in d, a write to f1, a file created in d2 (then IN_IGNORED: the
 * one-shot watch is gone), a directory made in d3, the symlink's times
 * changed; fd 4 sees the creation in d; adding a watch on a watched path
 * again gives its wd, a new one gets wd 10.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

enum {
	FD_IN = 3,
	FD_IN2 = 4, /* a second instance */
	FD_EMPTY = 5, /* no watches */
};

struct watch {
	int wd;
	unsigned int mask;
	unsigned long long ino;
};

#define MAX_WATCHES 16

struct list {
	struct watch w[MAX_WATCHES];
	int n;
};

static struct list before, before2;
static char base[64];

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
		struct watch *w = &l->w[l->n];

		if (strncmp(line, "inotify wd:", 11))
			continue;
		CHECK(l->n < MAX_WATCHES);
		CHECK_EQ(sscanf(line, "inotify wd:%x ino:%llx sdev:%*x mask:%x", &w->wd, &w->ino,
				&w->mask),
			 3);
		l->n++;
	}
}

static bool in_list(const struct list *l, int wd)
{
	for (int i = 0; i < l->n; i++)
		if (l->w[i].wd == wd)
			return true;
	return false;
}

/* b has a's watches, but those in gone */
static void same_list(const struct list *a, const struct list *b, const struct list *gone)
{
	int n = 0;

	for (int i = 0; i < a->n; i++) {
		const struct watch *w = NULL;

		for (int j = 0; j < b->n; j++)
			if (b->w[j].wd == a->w[i].wd)
				w = &b->w[j];
		if (!w && in_list(gone, a->w[i].wd))
			continue;
		if (!w)
			scen_fail("watch %d is gone", a->w[i].wd);
		n++;
		CHECK_EQ(w->mask, a->w[i].mask);
		CHECK_EQ(w->ino, a->w[i].ino);
	}
	CHECK_EQ(b->n, n);
}

/* Reads fd until it is empty; the watches whose IN_IGNORED came (a copy
 * beside us fired the one-shot one) go to *gone, if given. */
static void drain(int fd, struct list *gone)
{
	char buf[4096] __attribute__((aligned(8)));
	int queued;
	ssize_t n;

	for (;;) {
		CHECK_SYS(ioctl(fd, FIONREAD, &queued));
		if (!queued)
			return;
		n = read(fd, buf, sizeof(buf));
		CHECK(n > 0);
		for (ssize_t off = 0; off < n;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);

			if (gone && e->mask & IN_IGNORED && gone->n < MAX_WATCHES)
				gone->w[gone->n++].wd = e->wd;
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
}

/* The next event of fd must be this one (name NULL: none). */
static void expect(int fd, int wd, unsigned int mask, const char *name)
{
	static char buf[4096] __attribute__((aligned(8)));
	static ssize_t len, off;
	static int buf_fd = -1;
	struct inotify_event *e;

	if (buf_fd != fd && off < len)
		scen_fail("fd %d: an event more than expected (wd %d mask %#x)", buf_fd,
			  ((struct inotify_event *)(buf + off))->wd,
			  ((struct inotify_event *)(buf + off))->mask);
	if (off >= len) {
		len = read(fd, buf, sizeof(buf));
		if (len <= 0)
			scen_fail("fd %d: no event where wd %d mask %#x was expected: %m", fd, wd,
				  mask);
		off = 0;
		buf_fd = fd;
	}
	e = (struct inotify_event *)(buf + off);
	off += (ssize_t)sizeof(*e) + e->len;
	if (e->wd != wd || e->mask != mask)
		scen_fail("fd %d: event wd %d mask %#x, expected wd %d mask %#x", fd, e->wd,
			  e->mask, wd, mask);
	if (name ? !e->len || strcmp(e->name, name) : e->len != 0)
		scen_fail("fd %d: event wd %d names '%s', expected '%s'", fd, wd,
			  e->len ? e->name : "", name ? name : "");
}

static int watch(int fd, const char *path, unsigned int mask)
{
	int wd = inotify_add_watch(fd, path, mask);

	if (wd < 0)
		scen_fail("inotify_add_watch %s: %m", path);
	return wd;
}

static void create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	CHECK_SYS(fd);
	close(fd);
}

static void build(void)
{
	CHECK_SYS(mkdir("d", 0755));
	CHECK_SYS(mkdir("d2", 0755));
	CHECK_SYS(mkdir("d3", 0755));
	create("f1");
	create("f2");
	CHECK_SYS(symlink("f1", "lnk"));
	scen_move_fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC), FD_IN);
	CHECK_EQ(watch(FD_IN, "d", IN_CREATE | IN_DELETE), 1);
	CHECK_EQ(watch(FD_IN, "f1", IN_MODIFY), 2);
	CHECK_EQ(watch(FD_IN, "f2", IN_MODIFY), 3);
	CHECK_SYS(inotify_rm_watch(FD_IN, 3));
	CHECK_EQ(watch(FD_IN, "d2", IN_CREATE | IN_ONESHOT), 4);
	for (int wd = 5; wd <= 7; wd++) {
		CHECK_EQ(watch(FD_IN, "f2", IN_ATTRIB), wd);
		CHECK_SYS(inotify_rm_watch(FD_IN, wd));
	}
	CHECK_EQ(watch(FD_IN, "d3", IN_ALL_EVENTS | IN_EXCL_UNLINK), 8);
	CHECK_EQ(watch(FD_IN, "lnk", IN_ATTRIB | IN_DONT_FOLLOW), 9);
	drain(FD_IN, NULL); /* the IN_IGNORED of the removed watches */
	scen_move_fd(inotify_init1(0), FD_IN2);
	CHECK_EQ(watch(FD_IN2, "d", IN_CREATE), 1);
	scen_move_fd(inotify_init1(IN_CLOEXEC), FD_EMPTY);
	read_list(FD_IN, &before);
	read_list(FD_IN2, &before2);
	CHECK_EQ(before.n, 5);
}

static void check(void)
{
	struct timespec now[2] = { { .tv_nsec = UTIME_NOW }, { .tv_nsec = UTIME_NOW } };
	char path[128];
	struct list l, gone = { .n = 0 };
	int fd, queued;

	/* what an earlier run left (mode leave), what a copy beside us did
	 * (--pidns): gone before the events are counted */
	snprintf(path, sizeof(path), "d2/%s", base);
	unlink(path);
	snprintf(path, sizeof(path), "d3/%s", base);
	rmdir(path);
	drain(FD_IN, &gone);
	drain(FD_IN2, NULL);
	CHECK(gone.n == 0 || (gone.n == 1 && gone.w[0].wd == 4));

	read_list(FD_IN, &l);
	same_list(&before, &l, &gone);
	read_list(FD_IN2, &l);
	same_list(&before2, &l, &gone);
	read_list(FD_EMPTY, &l);
	CHECK_EQ(l.n, 0);
	CHECK(fcntl(FD_IN, F_GETFL) & O_NONBLOCK);
	CHECK(!(fcntl(FD_IN2, F_GETFL) & O_NONBLOCK));
	CHECK(fcntl(FD_IN, F_GETFD) & FD_CLOEXEC);
	CHECK(!(fcntl(FD_IN2, F_GETFD) & FD_CLOEXEC));

	snprintf(path, sizeof(path), "d/%s", base);
	create(path);
	expect(FD_IN, 1, IN_CREATE, base);
	expect(FD_IN2, 1, IN_CREATE, base);
	CHECK_SYS(unlink(path));
	expect(FD_IN, 1, IN_DELETE, base);
	fd = open("f1", O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK_SYS(fd);
	CHECK_EQ(write(fd, "x", 1), 1);
	close(fd);
	expect(FD_IN, 2, IN_MODIFY, NULL);
	snprintf(path, sizeof(path), "d2/%s", base);
	create(path);
	if (!in_list(&gone, 4)) {
		expect(FD_IN, 4, IN_CREATE, base);
		expect(FD_IN, 4, IN_IGNORED, NULL);
	}
	snprintf(path, sizeof(path), "d3/%s", base);
	CHECK_SYS(mkdir(path, 0755));
	expect(FD_IN, 8, IN_CREATE | IN_ISDIR, base);
	CHECK_SYS(utimensat(AT_FDCWD, "lnk", now, AT_SYMLINK_NOFOLLOW));
	expect(FD_IN, 9, IN_ATTRIB, NULL);
	CHECK_SYS(ioctl(FD_IN, FIONREAD, &queued));
	CHECK_EQ(queued, 0);
	CHECK_SYS(ioctl(FD_IN2, FIONREAD, &queued));
	CHECK_EQ(queued, 0);

	CHECK_EQ(watch(FD_IN, "d", IN_CREATE | IN_MASK_ADD), 1);
	CHECK_EQ(watch(FD_IN, "f1", IN_MODIFY | IN_MASK_ADD), 2);
	CHECK_EQ(watch(FD_IN, "d3", IN_CREATE | IN_MASK_ADD), 8);
	CHECK_EQ(watch(FD_IN, "f2", IN_MODIFY), 10);
	CHECK_EQ(watch(FD_IN2, "d", IN_CREATE | IN_MASK_ADD), 1);
}

int main(void)
{
	scen_init();
	build();
	scen_ready();
	scen_wait();
	/* apart from the files of a copy restarted beside us (--pidns) */
	snprintf(base, sizeof(base), "new-%llx", (unsigned long long)scen_pidns());
	check();
	scen_pass();
}
