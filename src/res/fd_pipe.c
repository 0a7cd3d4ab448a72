/*
 * fd_pipe.c: pipes and FIFOs. A pipe (OBJ_PIPE, found by its inode) is one
 * object however many descriptions reach it: the data in it, its capacity,
 * and for a FIFO its path (or that the path was unlinked). Each
 * description of an end is a CKPT_FILE_PIPE file with its own access mode
 * and status flags (O_NONBLOCK).
 *
 * Checkpoint reads the data without consuming it: ckpt opens a read end of
 * its own through /proc/PID/fd/N and tee(2)s the contents into a pipe of
 * its own, so a tree left running keeps every byte. Once the whole tree is
 * collected, each pipe is settled: the tree holds both ends, or only one,
 * and then the other end is either closed everywhere (restored as it is:
 * reading gives end of file, writing EPIPE) or held outside the tree (a
 * descriptor 0-2 is then external; any other is refused, since restart
 * cannot connect it again). Whether an outside process holds the other
 * end is asked of the kernel: a write open without readers fails with
 * ENXIO, and an empty pipe without writers reads end of file.
 *
 * Restart creates each pipe in ckpt before any process exists (pipe2, or
 * the FIFO opened read-write by its path, or a new FIFO made and unlinked
 * at once in the directory of one whose path was unlinked), sets its
 * capacity and writes the data back; then each description is a new open
 * of it through /proc/self/fd with its access mode, and takes its status
 * flags. ckpt's own ends are closed once the tree runs, so end of file and
 * EPIPE come exactly as they would have.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "res/files.h"
#include "util/io.h"
#include "util/log.h"

/* The status flags of a pipe description; any other is refused */
#define PIPE_FLAGS_KEPT (O_ACCMODE | O_NONBLOCK | O_APPEND | O_LARGEFILE)

enum other_end {
	OTHER_UNKNOWN,
	OTHER_CLOSED, /* nobody holds the end the tree lacks */
	OTHER_OUTSIDE, /* a process outside the tree holds it */
};

struct ck_pipe {
	struct ck_obj obj;
	struct ckpt_rec_pipe rec;
	char *data;
	char *path; /* a FIFO's */
	unsigned int readers, writers; /* checkpoint: the tree's descriptions of each end */
	enum other_end other;
	int ends[2]; /* restart: ckpt's read and write ends (one, read-write, for a FIFO) */
};

static void release_pipe(struct ck_obj *obj)
{
	struct ck_pipe *pp = (struct ck_pipe *)obj;

	for (int i = 0; i < 2; i++)
		if (pp->ends[i] >= 0)
			close(pp->ends[i]);
	free(pp->data);
	free(pp->path);
	free(pp);
}

static struct ck_pipe *new_pipe(void)
{
	struct ck_pipe *pp = calloc(1, sizeof(*pp));

	if (pp) {
		pp->obj.kind = OBJ_PIPE;
		pp->obj.fd = -1;
		pp->obj.release = release_pipe;
		pp->ends[0] = pp->ends[1] = -1;
	}
	return pp;
}

static bool is_pipe(const struct fd_probe *pr)
{
	return S_ISFIFO(pr->st.st_mode);
}

static bool reads(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

static bool writes(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* The data in the pipe, copied with tee from rfd, a read end of ckpt's
 * own, into a pipe as large (which takes every buffer at once), then read
 * out of that one: the pipe itself keeps every byte. */
static int read_data(const struct fd_probe *pr, struct ck_pipe *pp, int rfd)
{
	int copy[2], queued, err = 0;
	ssize_t n;

	if (ioctl(rfd, FIONREAD, &queued))
		return -errno;
	if (!queued)
		return 0;
	if (pipe2(copy, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	if (fcntl(copy[1], F_SETPIPE_SZ, (int)pp->rec.capacity) < 0) {
		err = fd_refuse(pr, "pipe", "its capacity is above what ckpt may give a pipe");
		goto out;
	}
	pp->data = malloc((size_t)queued);
	if (!pp->data) {
		err = -ENOMEM;
		goto out;
	}
	n = tee(rfd, copy[1], (size_t)queued, SPLICE_F_NONBLOCK);
	if (n < 0)
		err = -errno;
	else if (n != queued || io_read_full(copy[0], pp->data, (size_t)n) != n)
		err = -EIO;
	if (err)
		log_err("pid %d fd %d: cannot copy the data in its pipe: %s", pr->p->rec.pid,
			pr->fd, strerror(-err));
	else
		pp->rec.data_len = (uint32_t)queued;
out:
	close(copy[0]);
	close(copy[1]);
	return err;
}

static int collect_pipe(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_pipe **ret)
{
	struct ck_pipe *pp = new_pipe();
	int rfd, size, err = 0;

	if (!pp)
		return -ENOMEM;
	pp->obj.key[0] = pr->st.st_dev;
	pp->obj.key[1] = pr->st.st_ino;
	if (pr->target[0] == '/') {
		pp->rec.flags |= CKPT_PIPE_FIFO;
		err = res_link_path(pr->link, &pp->path, NULL);
		if (err == -ENOENT) {
			size_t len = strlen(pr->target);
			const char *suffix = " (deleted)";

			if (len <= strlen(suffix) ||
			    strcmp(pr->target + len - strlen(suffix), suffix)) {
				err = fd_refuse(pr, pr->target,
						"FIFO is not reachable from ckpt's root");
				goto out;
			}
			pp->rec.flags |= CKPT_PIPE_DELETED;
			pp->path = strndup(pr->target, len - strlen(suffix));
			err = pp->path ? 0 : -ENOMEM;
		}
		if (err)
			goto out;
		pp->rec.path_len = (uint32_t)strlen(pp->path);
	}
	rfd = open(pr->link, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0) {
		err = -errno;
		log_err("pid %d fd %d: cannot open its pipe: %s", pr->p->rec.pid, pr->fd,
			strerror(errno));
		goto out;
	}
	size = fcntl(rfd, F_GETPIPE_SZ);
	if (size < 0) {
		err = -errno;
	} else {
		pp->rec.capacity = (uint32_t)size;
		err = read_data(pr, pp, rfd);
	}
	close(rfd);
	if (!err)
		err = objhash_add(&ctx->img->objs, &pp->obj);
out:
	if (err) {
		release_pipe(&pp->obj);
		return err;
	}
	*ret = pp;
	return 0;
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct ck_pipe *pp;
	int err = 0;

	if (pr->fi.flags & O_DIRECT)
		return fd_refuse(pr, "pipe", "packet mode (O_DIRECT) is not supported");
	if (f->rec.flags & ~PIPE_FLAGS_KEPT)
		return fd_refuse(pr, "pipe", "its status flags are not supported");
	pp = (struct ck_pipe *)objhash_find(&ctx->img->objs, OBJ_PIPE, pr->st.st_dev, pr->st.st_ino,
					    NULL, NULL);
	if (!pp)
		err = collect_pipe(ctx, pr, &pp);
	if (err)
		return err;
	f->rec.kind = CKPT_FILE_PIPE;
	f->rec.pos = 0;
	f->priv = pp;
	pp->readers += reads(f->rec.flags);
	pp->writers += writes(f->rec.flags);
	return 0;
}

/* Whether a process outside the tree has a descriptor of pp with write
 * access (or with read access): every descriptor of every other process
 * is looked at (a descriptor in flight in a unix socket is not seen). */
static int held_outside(struct dump_ctx *ctx, struct ck_pipe *pp, bool want_write)
{
	DIR *procs = opendir("/proc");
	struct dirent *e;
	char want[64];

	if (!procs)
		return -errno;
	snprintf(want, sizeof(want), "pipe:[%llu]", (unsigned long long)pp->obj.key[1]);
	pp->other = OTHER_CLOSED;
	while ((e = readdir(procs)) && pp->other == OTHER_CLOSED) {
		pid_t pid = (pid_t)atoi(e->d_name);
		int *fds;
		size_t n;

		if (pid <= 0 || pid == getpid() || model_find_proc(ctx->img, pid) ||
		    proc_list_fds(pid, &fds, &n))
			continue;
		for (size_t i = 0; i < n && pp->other == OTHER_CLOSED; i++) {
			char link[64], target[64];
			struct proc_fdinfo fi;

			snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, fds[i]);
			if (io_readlink(link, target, sizeof(target)) || strcmp(target, want) ||
			    proc_read_fdinfo(pid, fds[i], &fi))
				continue;
			if (want_write ? writes(fi.flags) : reads(fi.flags))
				pp->other = OTHER_OUTSIDE;
		}
		free(fds);
	}
	closedir(procs);
	return 0;
}

/* Whether a process outside the tree holds the end of pp the tree lacks,
 * asked through descriptor d of p (the tree holds only the other end). */
static int probe_other_end(struct dump_ctx *ctx, struct ck_proc *p, struct ck_fd *d,
			   struct ck_pipe *pp)
{
	char link[64];
	int fd, sink[2];
	ssize_t n;

	/* a write open would tell readers apart for a FIFO, not for a pipe */
	if (!pp->readers)
		return held_outside(ctx, pp, false);
	if (pp->rec.data_len)
		return held_outside(ctx, pp, true); /* a read would consume */
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", p->rec.pid, d->rec.fd);
	/* tee consumes nothing: an empty pipe without writers reads as end
	 * of file, one with writers would block */
	if (pipe2(sink, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	fd = open(link, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	n = fd < 0 ? -1 : tee(fd, sink[1], 1, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN)
		n = -errno;
	else if (n < 0)
		n = 1;
	else if (n > 0)
		n = -EAGAIN; /* data arrived from outside: the tree is not all */
	if (fd >= 0)
		close(fd);
	close(sink[0]);
	close(sink[1]);
	if (n < 0)
		return (int)n;
	pp->other = n == 0 ? OTHER_CLOSED : OTHER_OUTSIDE;
	return 0;
}

static int settle(struct dump_ctx *ctx, struct ck_proc *p, struct ck_fd *d)
{
	struct ck_pipe *pp = d->file->priv;
	int err;

	if (pp->readers && pp->writers)
		return 0;
	if (pp->other == OTHER_UNKNOWN) {
		err = probe_other_end(ctx, p, d, pp);
		if (err == -EAGAIN) {
			log_err("pid %d fd %d: pipe: written from outside the tree during the "
				"checkpoint: not supported",
				p->rec.pid, d->rec.fd);
			return -EOPNOTSUPP;
		}
		if (err) {
			log_err("pid %d fd %d: cannot inspect its pipe: %s", p->rec.pid, d->rec.fd,
				strerror(-err));
			return err;
		}
	}
	if (pp->other == OTHER_CLOSED)
		return 0;
	if (d->rec.fd <= 2)
		return FD_EXTERNAL;
	log_err("pid %d fd %d: pipe: its %s end is held outside the tree: not supported",
		p->rec.pid, d->rec.fd, pp->readers ? "write" : "read");
	return -EOPNOTSUPP;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct ck_pipe *pp = f->priv;

	if (!pp->obj.written) {
		struct iovec iov[3] = {
			{ .iov_base = &pp->rec, .iov_len = sizeof(pp->rec) },
			{ .iov_base = pp->data, .iov_len = pp->rec.data_len },
			{ .iov_base = pp->path, .iov_len = pp->rec.path_len },
		};
		int err;

		pp->rec.id = pp->obj.id;
		err = img_write_rec(w, CKPT_REC_PIPE, iov, 3);
		if (err)
			return err;
		pp->obj.written = true;
	}
	f->rec.obj_id = pp->obj.id;
	return fd_write_plain(w, f);
}

/* ---- image to model ---- */

static int read_obj(struct ck_image *img, uint32_t type, const void *data, uint32_t len)
{
	const struct ckpt_rec_pipe *r = data;
	const char *tail = (const char *)(r + 1);
	struct ck_pipe *pp;
	int err;

	(void)type;
	err = res_check_len(CKPT_REC_PIPE, len, sizeof(*r),
			    len >= sizeof(*r) ? (uint64_t)r->data_len + r->path_len : 0);
	if (err)
		return err;
	if (r->flags & ~CKPT_PIPE_FLAGS_ALL || r->data_len > r->capacity || !r->capacity ||
	    r->capacity > CKPT_REC_MAX_META || !(r->flags & CKPT_PIPE_FIFO) != !r->path_len ||
	    (r->flags & CKPT_PIPE_DELETED && !(r->flags & CKPT_PIPE_FIFO)) ||
	    (r->path_len && (r->path_len >= PATH_MAX || tail[r->data_len] != '/' ||
			     memchr(tail + r->data_len, 0, r->path_len))))
		return res_bad(CKPT_REC_PIPE, "is malformed");
	pp = new_pipe();
	if (!pp)
		return -ENOMEM;
	pp->rec = *r;
	pp->obj.id = r->id;
	pp->data = r->data_len ? malloc(r->data_len) : NULL;
	pp->path = r->path_len ? res_strndup(tail + r->data_len, r->path_len) : NULL;
	if ((r->data_len && !pp->data) || (r->path_len && !pp->path)) {
		release_pipe(&pp->obj);
		return -ENOMEM;
	}
	if (r->data_len)
		memcpy(pp->data, tail, r->data_len);
	err = objhash_insert(&img->objs, &pp->obj);
	if (err) {
		release_pipe(&pp->obj);
		return res_bad(CKPT_REC_PIPE, "reuses an object id");
	}
	return 0;
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	struct ck_obj *o = objhash_by_id(&img->objs, f->rec.obj_id);

	(void)data;
	(void)len;
	if (!o || o->kind != OBJ_PIPE)
		return res_bad(CKPT_REC_FILE, "refers to an unknown pipe");
	if (f->path || f->rec.flags & ~PIPE_FLAGS_KEPT)
		return res_bad(CKPT_REC_FILE, "is malformed");
	f->priv = o;
	return 0;
}

/* ---- restart ---- */

/* A FIFO whose path was unlinked: a new one in its directory, opened and
 * unlinked at once. */
static int make_deleted_fifo(struct ck_pipe *pp)
{
	char *dir = strdup(pp->path), tmp[PATH_MAX];
	int fd = -ENOMEM;

	if (!dir)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s/.ckpt-fifo-%d-%u", dirname(dir), (int)getpid(), pp->obj.id);
	free(dir);
	if (mkfifo(tmp, 0600))
		return -errno;
	fd = open(tmp, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	unlink(tmp);
	return fd;
}

static int open_fifo(struct ck_pipe *pp)
{
	struct stat st;
	int fd, queued;

	if (pp->rec.flags & CKPT_PIPE_DELETED)
		return make_deleted_fifo(pp);
	fd = open(pp->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return -ESTALE;
	}
	if (ioctl(fd, FIONREAD, &queued) || queued) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

/* The pipe itself, once: its capacity and data. */
static int create_pipe(struct ck_proc *p, int fd, struct ck_pipe *pp)
{
	int err = 0, wfd;

	if (pp->rec.flags & CKPT_PIPE_FIFO) {
		pp->ends[0] = open_fifo(pp);
		err = pp->ends[0] < 0 ? pp->ends[0] : 0;
		if (err == -ESTALE || err == -EBUSY)
			log_err("pid %d fd %d: FIFO '%s' %s", p->rec.pid, fd, pp->path,
				err == -ESTALE ? "is no longer a FIFO"
					       : "holds data of processes outside the tree");
		else if (err)
			log_err("pid %d fd %d: cannot open FIFO '%s': %s", p->rec.pid, fd, pp->path,
				strerror(-err));
		if (err)
			return err;
		wfd = pp->ends[0];
	} else {
		if (pipe2(pp->ends, O_CLOEXEC | O_NONBLOCK)) {
			err = -errno;
			log_err("pid %d fd %d: cannot create a pipe: %s", p->rec.pid, fd,
				strerror(errno));
			return err;
		}
		wfd = pp->ends[1];
	}
	if (fcntl(wfd, F_SETPIPE_SZ, (int)pp->rec.capacity) < 0) {
		err = -errno;
		log_err("pid %d fd %d: cannot give its pipe a capacity of %u bytes: %s", p->rec.pid,
			fd, pp->rec.capacity, strerror(errno));
		return err;
	}
	if (pp->rec.data_len && write(wfd, pp->data, pp->rec.data_len) != pp->rec.data_len) {
		err = -EIO;
		log_err("pid %d fd %d: cannot refill its pipe", p->rec.pid, fd);
		return err;
	}
	pp->obj.fd = wfd;
	return 0;
}

static int open_end(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	struct ck_pipe *pp = f->priv;
	char path[64];
	int ofd, err = 0;

	(void)ctx;
	if (pp->obj.fd < 0)
		err = create_pipe(p, fd, pp);
	if (err)
		return err;
	/* the pipe has a reader and a writer (ckpt's): no open waits or fails */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pp->obj.fd);
	ofd = open(path, (int)(f->rec.flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
	if (ofd < 0 || fcntl(ofd, F_SETFL, (int)(f->rec.flags & ~O_ACCMODE))) {
		err = -errno;
		log_err("pid %d fd %d: cannot open its pipe again: %s", p->rec.pid, fd,
			strerror(errno));
		if (ofd >= 0)
			close(ofd);
		return err;
	}
	f->obj.fd = ofd;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct ck_pipe *pp = f->priv;

	show_u64(s, "pipe", pp->obj.id);
	if (pp->path)
		show_str(s, "fifo", pp->path);
	if (pp->rec.flags & CKPT_PIPE_DELETED)
		show_bool(s, "deleted", true);
	show_u64(s, "capacity", pp->rec.capacity);
	show_u64(s, "queued", pp->rec.data_len);
}

static const uint32_t kinds[] = { CKPT_FILE_PIPE, 0 };
static const uint32_t more_types[] = { CKPT_REC_PIPE, 0 };

const struct fd_ops fd_pipe_ops = {
	.name = "pipe",
	.kinds = kinds,
	.rec_type = CKPT_REC_FILE,
	.more_types = more_types,
	.is = is_pipe,
	.collect = collect,
	.settle = settle,
	.write = write_rec,
	.read = read_rec,
	.read_more = read_obj,
	.open = open_end,
	.show = show,
};
