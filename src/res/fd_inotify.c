/*
 * fd_inotify.c: inotify instances. Their fdinfo lists every watch: its
 * watch descriptor (wd), its mask (the events, with IN_ONESHOT and
 * IN_EXCL_UNLINK) and a file handle of the watched inode. ckpt opens the
 * handle (open_by_handle_at, from a mount of the inode's device in ckpt's
 * own mount table) and takes the path the kernel gives the open file,
 * verified to reach the same inode from ckpt's root: a watch whose file was
 * deleted or cannot be reached is refused, and so is an instance with
 * events queued and not read yet (reading them would consume them; FIONREAD
 * on a copy of the descriptor, taken with pidfd_getfd, tells their size).
 *
 * At restart ckpt creates the instance and adds the watches by path (with
 * IN_DONT_FOLLOW, the path naming the inode itself), in wd order. The
 * kernel hands out watch descriptors in increasing order, never reusing
 * one until the numbers wrap (idr_alloc_cyclic, checked on 6.18), so the
 * gaps left by watches removed before the checkpoint are filled by adding
 * and removing a watch on a memfd of ckpt's; restart checks that every
 * watch gets its own wd. Removing those watches queues IN_IGNORED events,
 * which ckpt reads off before the process runs. Images with a watch
 * descriptor above CKPT_INOTIFY_MAX_WD are refused (the gaps would take
 * too long to fill, and wds past a wrap of the numbers are out of order).
 *
 * The new instance and its watches count against the limits of ckpt's user
 * (root), not of the process's (fs.inotify.max_user_instances, watches).
 *
 * Not kept: the next wd the kernel hands out (it follows the highest
 * restored one, not a watch removed after it), and the events of the time
 * between checkpoint and restart, when no watch existed (those the new
 * watches see while ckpt reads off its own IN_IGNORED go with them).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/files.h"
#include "util/io.h"
#include "util/log.h"

#define WATCH_FLAGS (IN_ONESHOT | IN_EXCL_UNLINK)
/* Gaps are filled this many watches at a time, their IN_IGNORED events
 * read off before the queue (16384 events by default) could overflow. */
#define GAP_BATCH 1024

struct inotify_state {
	struct ckpt_inotify_watch *watches; /* wd order */
	char **paths;
	uint32_t count;
};

static bool is_inotify(const struct fd_probe *pr)
{
	return !strcmp(pr->target, "anon_inode:inotify");
}

static void release(struct ck_file *f)
{
	struct inotify_state *st = f->priv;

	if (st) {
		for (uint32_t i = 0; i < st->count; i++)
			free(st->paths[i]);
		free(st->paths);
		free(st->watches);
		free(st);
	}
	f->priv = NULL;
}

static struct inotify_state *new_state(uint32_t count)
{
	struct inotify_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->count = count;
	st->watches = calloc(count ? count : 1, sizeof(*st->watches));
	st->paths = calloc(count ? count : 1, sizeof(*st->paths));
	if (!st->watches || !st->paths) {
		free(st->watches);
		free(st->paths);
		free(st);
		return NULL;
	}
	return st;
}

/* ---- checkpoint ---- */

static int cmp_wd(const void *a, const void *b)
{
	const struct proc_inotify_watch *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

/* Bytes of events queued on descriptor fd of process pid, read through a
 * copy of it (FIONREAD does not consume them). */
static int queued_bytes(pid_t pid, int fd, int *ret)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), copy, err = 0;

	if (pidfd < 0)
		return -errno;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0)
		err = -errno;
	else if (ioctl(copy, FIONREAD, ret))
		err = -errno;
	if (copy >= 0)
		close(copy);
	close(pidfd);
	return err;
}

/* The path of the file ckpt's descriptor fd (O_PATH) reaches, verified to
 * reach the same inode from ckpt's root (a symlink itself, not followed);
 * -ENOENT when the file was deleted or is not reachable by path. */
static int path_of(int fd, char **ret_path, struct stat *ret_st)
{
	char link[64], buf[PATH_MAX];
	struct stat via_fd, via_path;
	int err;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	err = io_readlink(link, buf, sizeof(buf));
	if (err)
		return err;
	if (fstat(fd, &via_fd))
		return -errno;
	if (buf[0] != '/' || lstat(buf, &via_path) || via_path.st_dev != via_fd.st_dev ||
	    via_path.st_ino != via_fd.st_ino)
		return -ENOENT;
	*ret_path = strdup(buf);
	if (!*ret_path)
		return -ENOMEM;
	*ret_st = via_fd;
	return 0;
}

/* The path of the inode a watch's file handle names, opened from a mount
 * of its device in ckpt's mount table and verified from ckpt's root;
 * -ENOENT when no mount reaches it (or the handle is stale: the file was
 * deleted, or its file system, such as procfs, encodes handles it cannot
 * open). */
static int handle_path(const struct proc_inotify_watch *w, const struct proc_mount *mounts,
		       size_t nmounts, char **ret_path, struct stat *ret_st)
{
	struct {
		struct file_handle h;
		unsigned char bytes[PROC_FHANDLE_MAX];
	} fh = { .h = { .handle_bytes = w->handle_bytes, .handle_type = w->handle_type } };
	int err = -ENOENT;

	memcpy(fh.h.f_handle, w->handle, w->handle_bytes);
	for (size_t i = 0; i < nmounts && err == -ENOENT; i++) {
		int mfd, fd;

		if (mounts[i].major != proc_kdev_major(w->sdev) ||
		    mounts[i].minor != proc_kdev_minor(w->sdev))
			continue;
		mfd = open(mounts[i].point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mfd < 0)
			continue;
		fd = open_by_handle_at(mfd, &fh.h, O_PATH | O_CLOEXEC);
		close(mfd);
		if (fd < 0) {
			if (errno != ESTALE && errno != ENOENT)
				err = -errno;
			continue;
		}
		err = path_of(fd, ret_path, ret_st);
		close(fd);
		if (!err && ret_st->st_ino != w->ino) {
			free(*ret_path);
			err = -ENOENT;
		}
	}
	return err;
}

static int collect_watches(const struct fd_probe *pr, struct inotify_state *st,
			   struct proc_inotify_watch *list)
{
	struct proc_mount *mounts;
	size_t nmounts;
	char why[200];
	int err;

	err = proc_read_mountinfo(0, &mounts, &nmounts);
	if (err) {
		log_err("cannot read ckpt's mount table: %s", strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < st->count && !err; i++) {
		struct ckpt_inotify_watch *w = &st->watches[i];
		struct stat sb;

		w->wd = list[i].wd;
		w->mask = list[i].mask;
		if (w->wd > CKPT_INOTIFY_MAX_WD) {
			snprintf(why, sizeof(why),
				 "watch descriptor %d is above %d: restart could not give it the "
				 "same number",
				 w->wd, CKPT_INOTIFY_MAX_WD);
			err = fd_refuse(pr, "inotify", why);
			break;
		}
		if (list[i].ignored_mask || !(w->mask & IN_ALL_EVENTS) ||
		    w->mask & ~(IN_ALL_EVENTS | WATCH_FLAGS)) {
			snprintf(why, sizeof(why), "watch %d has a mask ckpt does not know (%#x)",
				 w->wd, w->mask);
			err = fd_refuse(pr, "inotify", why);
			break;
		}
		if (!list[i].handle_bytes) {
			snprintf(why, sizeof(why),
				 "watch %d: its file system gives no file handle to find its file "
				 "by",
				 w->wd);
			err = fd_refuse(pr, "inotify", why);
			break;
		}
		err = handle_path(&list[i], mounts, nmounts, &st->paths[i], &sb);
		if (err == -ENOENT) {
			snprintf(why, sizeof(why),
				 "watch %d: its file (inode %llu) was deleted, is not reachable "
				 "from ckpt's root, or its file system cannot open it by handle",
				 w->wd, list[i].ino);
			err = fd_refuse(pr, "inotify", why);
		} else if (err) {
			log_err("pid %d fd %d: inotify: cannot open the file of watch %d: %s",
				pr->p->rec.pid, pr->fd, w->wd, strerror(-err));
		} else {
			w->mode = sb.st_mode;
			w->path_len = (uint32_t)strlen(st->paths[i]);
		}
	}
	proc_mounts_release(mounts, nmounts);
	return err;
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct proc_inotify_watch *list;
	struct inotify_state *st;
	int queued = 0, err;
	size_t n;

	(void)ctx;
	if (f->rec.flags != O_RDONLY && f->rec.flags != (O_RDONLY | O_NONBLOCK))
		return fd_refuse(pr, "inotify",
				 "status flags other than O_NONBLOCK are not supported");
	err = queued_bytes(pr->p->rec.pid, pr->fd, &queued);
	if (err) {
		log_err("pid %d fd %d: inotify: cannot tell its queued events: %s", pr->p->rec.pid,
			pr->fd, strerror(-err));
		return err;
	}
	if (queued) {
		char why[160];

		snprintf(why, sizeof(why),
			 "events are queued, not read yet (%d bytes): they cannot be saved "
			 "without consuming them",
			 queued);
		return fd_refuse(pr, "inotify", why);
	}
	err = proc_parse_inotify(pr->fdinfo, &list, &n);
	if (err) {
		log_err("pid %d fd %d: inotify: cannot read its watches: %s", pr->p->rec.pid,
			pr->fd, strerror(-err));
		return err;
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_wd);
	st = new_state((uint32_t)n);
	if (!st) {
		free(list);
		return -ENOMEM;
	}
	f->rec.kind = CKPT_FILE_INOTIFY;
	f->priv = st;
	err = collect_watches(pr, st, list);
	free(list);
	return err;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct inotify_state *st = f->priv;
	struct ckpt_rec_inotify r = { .count = st->count };
	struct iovec iov[3] = {
		{ .iov_base = &r.count, .iov_len = sizeof(r) - sizeof(r.file) },
		{ .iov_base = st->watches, .iov_len = st->count * sizeof(*st->watches) },
	};
	char *paths, *at;
	size_t len = 0;
	int err;

	for (uint32_t i = 0; i < st->count; i++)
		len += st->watches[i].path_len;
	paths = malloc(len ? len : 1);
	if (!paths)
		return -ENOMEM;
	at = paths;
	for (uint32_t i = 0; i < st->count; i++) {
		memcpy(at, st->paths[i], st->watches[i].path_len);
		at += st->watches[i].path_len;
	}
	iov[2].iov_base = paths;
	iov[2].iov_len = len;
	err = fd_write_rec(w, CKPT_REC_INOTIFY, f, iov, 3);
	free(paths);
	return err;
}

/* ---- image to model ---- */

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_inotify *r = data;
	const struct ckpt_inotify_watch *w = (const void *)(r + 1);
	const char *path;
	struct inotify_state *st;
	uint64_t fixed, tail = 0;
	int err;

	(void)img;
	if (len < sizeof(*r))
		return res_bad(CKPT_REC_INOTIFY, "is too short");
	fixed = sizeof(*r) + (uint64_t)r->count * sizeof(*w);
	if (fixed > len)
		return res_check_len(CKPT_REC_INOTIFY, len, sizeof(*r),
				     (uint64_t)r->count * sizeof(*w));
	for (uint32_t i = 0; i < r->count; i++)
		tail += w[i].path_len;
	err = res_check_len(CKPT_REC_INOTIFY, len, (size_t)fixed, tail);
	if (err)
		return err;
	if ((f->rec.flags & ~(uint32_t)O_NONBLOCK) != O_RDONLY || r->pad)
		return res_bad(CKPT_REC_INOTIFY, "is malformed");
	st = new_state(r->count);
	if (!st)
		return -ENOMEM;
	f->priv = st;
	path = (const char *)data + fixed;
	for (uint32_t i = 0; i < r->count; i++) {
		if (w[i].wd <= 0 || w[i].wd > CKPT_INOTIFY_MAX_WD ||
		    (i && w[i].wd <= w[i - 1].wd) || !(w[i].mask & IN_ALL_EVENTS) ||
		    w[i].mask & ~(IN_ALL_EVENTS | WATCH_FLAGS) || !w[i].path_len ||
		    path[0] != '/' || memchr(path, 0, w[i].path_len))
			return res_bad(CKPT_REC_INOTIFY, "has a malformed watch");
		st->watches[i] = w[i];
		st->paths[i] = res_strndup(path, w[i].path_len);
		if (!st->paths[i])
			return -ENOMEM;
		path += w[i].path_len;
	}
	return 0;
}

/* ---- restart ---- */

/* Reads off every queued event: the IN_IGNORED of the watches that filled
 * gaps (and whatever the new watches saw before the process runs). */
static int drain(int in)
{
	char buf[4096] __attribute__((aligned(8)));
	int queued;

	for (;;) {
		if (ioctl(in, FIONREAD, &queued))
			return -errno;
		if (!queued)
			return 0;
		if (read(in, buf, sizeof(buf)) < 0)
			return -errno;
	}
}

/* Makes the next watch descriptor the kernel hands out wd: watches on a
 * memfd of ckpt's (gap, "/proc/self/fd/N") take the numbers between. */
static int fill_gap(int in, int *next, int wd, int *gap, bool *drained)
{
	char path[64];

	if (*next == wd)
		return 0;
	if (*gap < 0) {
		*gap = memfd_create("ckpt-inotify-gap", MFD_CLOEXEC);
		if (*gap < 0)
			return -errno;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", *gap);
	for (; *next < wd; (*next)++) {
		int got = inotify_add_watch(in, path, IN_ATTRIB);

		if (got < 0)
			return -errno;
		if (got != *next || inotify_rm_watch(in, got))
			return got != *next ? -ERANGE : -errno;
		if (*next % GAP_BATCH == 0) {
			int err = drain(in);

			if (err)
				return err;
		}
	}
	*drained = false;
	return 0;
}

static int add_watch(struct ck_proc *p, int fd, int in, const struct ckpt_inotify_watch *w,
		     const char *path)
{
	struct stat sb;
	int got;

	if (lstat(path, &sb)) {
		got = -errno;
		log_err("pid %d fd %d: inotify: watch %d: cannot find '%s': %s", p->rec.pid, fd,
			w->wd, path, strerror(errno));
		return got;
	}
	if ((sb.st_mode & S_IFMT) != (w->mode & S_IFMT)) {
		log_err("pid %d fd %d: inotify: watch %d: '%s' is no longer the kind of file it was",
			p->rec.pid, fd, w->wd, path);
		return -ESTALE;
	}
	got = inotify_add_watch(in, path, w->mask | IN_DONT_FOLLOW);
	if (got < 0) {
		got = -errno;
		log_err("pid %d fd %d: inotify: cannot watch '%s' again: %s", p->rec.pid, fd, path,
			strerror(errno));
		return got;
	}
	if (got != w->wd) {
		log_err("pid %d fd %d: inotify: '%s' got watch descriptor %d, not %d", p->rec.pid,
			fd, path, got, w->wd);
		return -ERANGE;
	}
	return 0;
}

static int open_inotify(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	struct inotify_state *st = f->priv;
	int in, gap = -1, next = 1, err = 0;
	bool drained = true;

	(void)ctx;
	in = inotify_init1(IN_CLOEXEC | (f->rec.flags & O_NONBLOCK ? IN_NONBLOCK : 0));
	if (in < 0) {
		err = -errno;
		log_err("pid %d fd %d: inotify: cannot create it: %s", p->rec.pid, fd,
			strerror(errno));
		return err;
	}
	for (uint32_t i = 0; i < st->count && !err; i++) {
		err = fill_gap(in, &next, st->watches[i].wd, &gap, &drained);
		if (err)
			log_err("pid %d fd %d: inotify: cannot take the watch descriptors below %d: "
				"%s",
				p->rec.pid, fd, st->watches[i].wd,
				err == -ERANGE ? "the kernel hands them out in another order"
					       : strerror(-err));
		else
			err = add_watch(p, fd, in, &st->watches[i], st->paths[i]);
		next = st->watches[i].wd + 1;
	}
	if (!err && !drained) {
		err = drain(in);
		if (err)
			log_err("pid %d fd %d: inotify: cannot read off ckpt's own events: %s",
				p->rec.pid, fd, strerror(-err));
	}
	if (gap >= 0)
		close(gap);
	if (err) {
		close(in);
		return err;
	}
	f->obj.fd = in;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct inotify_state *st = f->priv;

	show_list_begin(s, "watches");
	for (uint32_t i = 0; i < st->count; i++) {
		show_obj_begin(s, NULL, true);
		show_i64(s, "wd", st->watches[i].wd);
		show_hex(s, "mask", st->watches[i].mask);
		show_str(s, "path", st->paths[i]);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t kinds[] = { CKPT_FILE_INOTIFY, 0 };

const struct fd_ops fd_inotify_ops = {
	.name = "inotify",
	.kinds = kinds,
	.rec_type = CKPT_REC_INOTIFY,
	.is = is_inotify,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_inotify,
	.show = show,
	.release = release,
};
