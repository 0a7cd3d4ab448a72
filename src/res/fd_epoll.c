/*
 * fd_epoll.c: epoll instances. An epoll's state is its interest list, which
 * its fdinfo shows whole: for each entry the descriptor number it was
 * added with (tfd), the events as the kernel holds them (EPOLLET,
 * EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP and the EPOLLERR|EPOLLHUP that
 * every addition sets) and the 64 bits of data. The target of an entry is
 * a description of the tree: the one the process's descriptor tfd reaches,
 * which kcmp(KCMP_EPOLL_TFD) proves to be the entry's own file, or an
 * external descriptor 0-2 (restart watches ckpt's own descriptor of that
 * number, which the process's is connected to). An entry whose descriptor
 * was closed or now reaches another file (its file lives on only in the
 * epoll, or under another number) is refused, and so is one whose target
 * is of a kind the process opens itself at restart.
 *
 * At restart ckpt creates the epoll and adds each entry with its events
 * and data, its target opened first (an epoll inside an epoll: the inner
 * one, with its own entries). The kernel keys an entry by file and number,
 * so for each addition ckpt's own descriptor tfd is made the target for the
 * time of the call. A disarmed EPOLLONESHOT entry (fired, no events left)
 * is added armed for every event and fired once by ckpt, before any other
 * entry exists. ckpt then reads its own fdinfo of the new epoll: every
 * entry must be as the image has it, or the restart fails.
 *
 * What is not kept: the ready list. Level-triggered readiness comes back by
 * itself, each target being polled as it is added; an edge-triggered entry
 * whose target is ready reports it once more after restart even when the
 * process had consumed that edge before the checkpoint (one spurious
 * wakeup), and the order in which ready entries are reported may differ.
 * The new epoll's entries count against the limits of ckpt's user (root),
 * not of the process's (fs.epoll.max_user_watches).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "res/files.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_TFD (1 << 20)
/* Epolls inside epolls, at most (the kernel allows EP_MAX_NESTS, 4, levels) */
#define MAX_DEPTH 8
/* What a disarmed EPOLLONESHOT entry keeps (the kernel's EP_PRIVATE_BITS) */
#define PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define ALL_EVENTS                                                                                 \
	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | EPOLLRDBAND |         \
	 EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

struct epoll_state {
	struct ckpt_epoll_entry *entries; /* tfd order */
	struct ck_file **targets; /* one per entry */
	uint32_t count;
	unsigned int depth; /* restart: 1 + the depth of the deepest epoll it watches */
};

extern const struct fd_ops fd_epoll_ops;

static bool is_disarmed(uint32_t events)
{
	return (events & EPOLLONESHOT) && !(events & ~PRIVATE_BITS);
}

static bool is_epoll(const struct fd_probe *pr)
{
	return !strcmp(pr->target, "anon_inode:[eventpoll]");
}

static int cmp_tfd(const void *a, const void *b)
{
	const struct ckpt_epoll_entry *x = a, *y = b;

	return (x->tfd > y->tfd) - (x->tfd < y->tfd);
}

static void release(struct ck_file *f)
{
	struct epoll_state *st = f->priv;

	if (st) {
		free(st->entries);
		free(st->targets);
		free(st);
	}
	f->priv = NULL;
}

static struct epoll_state *new_state(uint32_t count)
{
	struct epoll_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->count = count;
	st->entries = calloc(count ? count : 1, sizeof(*st->entries));
	st->targets = calloc(count ? count : 1, sizeof(*st->targets));
	if (!st->entries || !st->targets) {
		free(st->entries);
		free(st->targets);
		free(st);
		return NULL;
	}
	return st;
}

/* ---- checkpoint ---- */

/* Whether the process's descriptor tfd reaches the file of the epoll's
 * entry for tfd: 0 if it does, else refused with the reason. */
static int check_target(const struct fd_probe *pr, int tfd)
{
	struct kcmp_epoll_slot slot = { .efd = (uint32_t)pr->fd, .tfd = (uint32_t)tfd };
	pid_t pid = pr->p->rec.pid;
	char why[160];
	long r = syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, tfd, &slot);

	if (!r)
		return 0;
	if (r < 0 && errno != EBADF) {
		r = -errno;
		log_err("pid %d fd %d: epoll: cannot compare its entry for fd %d: %s", pid, pr->fd,
			tfd, strerror(errno));
		return (int)r;
	}
	snprintf(why, sizeof(why),
		 r < 0 ? "the entry for fd %d outlives its descriptor (fd %d was closed; its file "
			 "is open only elsewhere)"
		       : "the entry for fd %d is another file than fd %d reaches now (the "
			 "descriptor was replaced)",
		 tfd, tfd);
	return fd_refuse(pr, "epoll", why);
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct proc_epoll_entry *list;
	struct epoll_state *st;
	size_t n;
	int err;

	(void)ctx;
	if (f->rec.flags != O_RDWR && f->rec.flags != (O_RDWR | O_NONBLOCK))
		return fd_refuse(pr, "epoll",
				 "status flags other than O_NONBLOCK are not supported");
	err = proc_parse_epoll(pr->fdinfo, &list, &n);
	if (err) {
		log_err("pid %d fd %d: epoll: cannot read its interest list: %s", pr->p->rec.pid,
			pr->fd, strerror(-err));
		return err;
	}
	st = new_state((uint32_t)n);
	if (!st) {
		free(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		st->entries[i].tfd = list[i].tfd;
		st->entries[i].events = list[i].events;
		st->entries[i].data = list[i].data;
	}
	free(list);
	qsort(st->entries, n, sizeof(*st->entries), cmp_tfd);
	for (size_t i = 0; i < n && !err; i++) {
		if (i && st->entries[i].tfd == st->entries[i - 1].tfd) {
			char why[160];

			snprintf(why, sizeof(why),
				 "two entries were added with fd %d: one outlives its descriptor",
				 st->entries[i].tfd);
			err = fd_refuse(pr, "epoll", why);
		} else {
			err = check_target(pr, st->entries[i].tfd);
		}
	}
	f->rec.kind = CKPT_FILE_EPOLL;
	f->priv = st;
	return err;
}

static bool is_external(const struct ck_proc *p, int fd)
{
	for (uint32_t i = 0; i < p->nfds; i++)
		if (p->fds[i].rec.fd == fd)
			return p->fds[i].rec.flags & CKPT_FD_EXTERNAL;
	return false;
}

static int resolve(struct ck_proc *p, int fd, struct ck_file *f)
{
	struct fd_probe pr = { .p = p, .fd = fd };
	struct epoll_state *st = f->priv;
	char why[200];

	for (uint32_t i = 0; i < st->count; i++) {
		int tfd = st->entries[i].tfd;
		struct ck_file *t = fd_file_of(p, tfd);

		if (!t && !is_external(p, tfd)) {
			log_err("pid %d fd %d: epoll: its entry for fd %d has no descriptor",
				p->rec.pid, fd, tfd);
			return -EBADF;
		}
		if (!t)
			continue; /* restart watches ckpt's own descriptor tfd */
		if (t->ops->plan_open) {
			snprintf(
				why, sizeof(why),
				"the target of its entry for fd %d is a %s, which the process opens "
				"itself at restart: not supported",
				tfd, t->ops->name);
			return fd_refuse(&pr, "epoll", why);
		}
		st->targets[i] = t;
	}
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct epoll_state *st = f->priv;
	struct ckpt_rec_epoll r = { .count = st->count };
	struct iovec iov[2] = {
		{ .iov_base = &r.count, .iov_len = sizeof(r) - sizeof(r.file) },
		{ .iov_base = st->entries, .iov_len = st->count * sizeof(*st->entries) },
	};

	for (uint32_t i = 0; i < st->count; i++) {
		int err = st->targets[i] ? fd_write_file(w, st->targets[i]) : 0;

		if (err)
			return err;
		st->entries[i].file_id = st->targets[i] ? st->targets[i]->obj.id : 0;
	}
	return fd_write_rec(w, CKPT_REC_EPOLL, f, iov, 2);
}

/* ---- image to model ---- */

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_epoll *r = data;
	const struct ckpt_epoll_entry *e = (const void *)(r + 1);
	struct epoll_state *st;
	int err;

	err = res_check_len(CKPT_REC_EPOLL, len, sizeof(*r),
			    len >= sizeof(*r) ? (uint64_t)r->count * sizeof(*e) : 0);
	if (err)
		return err;
	if ((f->rec.flags & ~(uint32_t)O_NONBLOCK) != O_RDWR || r->pad)
		return res_bad(CKPT_REC_EPOLL, "is malformed");
	st = new_state(r->count);
	if (!st)
		return -ENOMEM;
	f->priv = st;
	st->depth = 1;
	for (uint32_t i = 0; i < r->count; i++) {
		struct ck_obj *o = objhash_by_id(&img->objs, e[i].file_id);

		if (e[i].tfd < 0 || e[i].tfd >= MAX_TFD || (i && e[i].tfd <= e[i - 1].tfd) ||
		    e[i].pad)
			return res_bad(CKPT_REC_EPOLL, "has a malformed entry");
		st->entries[i] = e[i];
		if (!e[i].file_id && e[i].tfd <= 2)
			continue; /* an external descriptor */
		if (!o || o->kind != OBJ_FILE)
			return res_bad(CKPT_REC_EPOLL, "has an entry for an unknown file");
		st->targets[i] = (struct ck_file *)o;
		if (st->targets[i]->ops->plan_open)
			return res_bad(CKPT_REC_EPOLL,
				       "has an entry for a file the process opens itself");
		if (st->targets[i]->ops == &fd_epoll_ops) {
			const struct epoll_state *inner = st->targets[i]->priv;

			if (inner->depth + 1 > st->depth)
				st->depth = inner->depth + 1;
		}
	}
	if (st->depth > MAX_DEPTH)
		return res_bad(CKPT_REC_EPOLL, "nests epolls deeper than the kernel allows");
	return 0;
}

/* ---- restart ---- */

/* Adds the entry for descriptor number tfd, whose description is ckpt's
 * src: the kernel keys entries by file and number, so for the time of the
 * call ckpt's own descriptor tfd is src (what ckpt had there comes back). */
static int add_entry(int ep, const struct ckpt_epoll_entry *e, uint32_t events, int src)
{
	struct epoll_event ev = { .events = events, .data.u64 = e->data };
	int tfd = e->tfd, saved = -1, fdflags = -1, err = 0;

	if (src != tfd) {
		fdflags = fcntl(tfd, F_GETFD);
		if (fdflags >= 0) {
			saved = fcntl(tfd, F_DUPFD_CLOEXEC, 0);
			if (saved < 0)
				return -errno;
		}
		if (dup3(src, tfd, O_CLOEXEC) < 0) {
			err = -errno;
			goto out_close;
		}
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		err = -errno;
	if (src != tfd && saved < 0)
		close(tfd);
	else if (src != tfd && dup3(saved, tfd, fdflags & FD_CLOEXEC ? O_CLOEXEC : 0) < 0 && !err)
		err = -errno;
out_close:
	if (saved >= 0)
		close(saved);
	return err;
}

/* The entries of ckpt's new epoll ep are those of f, or the restart fails. */
static int verify(struct ck_proc *p, int fd, int ep, const struct epoll_state *st)
{
	struct proc_epoll_entry *list = NULL;
	char path[64], *text;
	size_t n = 0;
	int err;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	err = io_slurp(path, &text, NULL);
	if (!err) {
		err = proc_parse_epoll(text, &list, &n);
		free(text);
	}
	if (err) {
		log_err("pid %d fd %d: epoll: cannot read the new epoll's entries: %s", p->rec.pid,
			fd, strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < st->count && !err; i++) {
		const struct ckpt_epoll_entry *e = &st->entries[i];
		const struct proc_epoll_entry *got = NULL;

		for (size_t j = 0; j < n && !got; j++)
			if (list[j].tfd == e->tfd)
				got = &list[j];
		if (got && got->events == e->events && got->data == e->data)
			continue;
		if (got && is_disarmed(e->events))
			log_err("pid %d fd %d: epoll: cannot restore the disarmed EPOLLONESHOT entry "
				"for fd %d: its file is ready for no event to fire it",
				p->rec.pid, fd, e->tfd);
		else if (got)
			log_err("pid %d fd %d: epoll: the entry for fd %d has events %#x, not %#x "
				"(EPOLLWAKEUP needs CAP_BLOCK_SUSPEND)",
				p->rec.pid, fd, e->tfd, got->events, e->events);
		else
			log_err("pid %d fd %d: epoll: the entry for fd %d is missing", p->rec.pid,
				fd, e->tfd);
		err = -EINVAL;
	}
	if (!err && n != st->count) {
		log_err("pid %d fd %d: epoll: the new epoll has %zu entries, not %u", p->rec.pid,
			fd, n, st->count);
		err = -EINVAL;
	}
	free(list);
	return err;
}

/* Adds the disarmed EPOLLONESHOT entries (pass 0) or the others (pass 1). */
static int add_entries(struct rst_ctx *ctx, struct ck_proc *p, int fd, int ep,
		       struct epoll_state *st, int pass)
{
	for (uint32_t i = 0; i < st->count; i++) {
		const struct ckpt_epoll_entry *e = &st->entries[i];
		bool disarmed = is_disarmed(e->events);
		int err;

		if (disarmed != !pass)
			continue;
		err = st->targets[i] ? fd_open_file(ctx, p, e->tfd, st->targets[i]) : 0;
		if (err)
			return err;
		err = add_entry(ep, e, disarmed ? e->events | ALL_EVENTS : e->events,
				st->targets[i] ? st->targets[i]->obj.fd : e->tfd);
		if (err) {
			log_err("pid %d fd %d: epoll: cannot add its entry for fd %d (events %#x): %s",
				p->rec.pid, fd, e->tfd, e->events, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Fires the disarmed EPOLLONESHOT entries, the only ones yet: each that is
 * ready reports once and keeps no events, as it was. */
static int fire_disarmed(int ep, const struct epoll_state *st)
{
	struct epoll_event *evs;
	uint32_t n = 0;
	int err = 0;

	for (uint32_t i = 0; i < st->count; i++)
		n += is_disarmed(st->entries[i].events);
	if (!n)
		return 0;
	evs = calloc(n, sizeof(*evs));
	if (!evs)
		return -ENOMEM;
	if (epoll_wait(ep, evs, (int)n, 0) < 0)
		err = -errno;
	free(evs);
	return err;
}

static int open_epoll(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	struct epoll_state *st = f->priv;
	int ep = epoll_create1(EPOLL_CLOEXEC), err = 0;
	int top = st->count ? st->entries[st->count - 1].tfd : 0;

	if (ep >= 0 && ep <= top) {
		/* above every number the entries take for a moment */
		int moved = fcntl(ep, F_DUPFD_CLOEXEC, top + 1);

		err = moved < 0 ? -errno : 0;
		close(ep);
		ep = moved;
	} else if (ep < 0) {
		err = -errno;
	}
	if (!err && f->rec.flags & O_NONBLOCK && fcntl(ep, F_SETFL, O_NONBLOCK))
		err = -errno;
	if (err) {
		log_err("pid %d fd %d: epoll: cannot create it: %s", p->rec.pid, fd,
			strerror(-err));
		if (ep >= 0)
			close(ep);
		return err;
	}
	err = add_entries(ctx, p, fd, ep, st, 0);
	if (!err) {
		err = fire_disarmed(ep, st);
		if (err)
			log_err("pid %d fd %d: epoll: cannot fire its disarmed one-shot entries: %s",
				p->rec.pid, fd, strerror(-err));
	}
	if (!err)
		err = add_entries(ctx, p, fd, ep, st, 1);
	if (!err)
		err = verify(p, fd, ep, st);
	if (err) {
		close(ep);
		return err;
	}
	f->obj.fd = ep;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct epoll_state *st = f->priv;

	show_list_begin(s, "entries");
	for (uint32_t i = 0; i < st->count; i++) {
		const struct ckpt_epoll_entry *e = &st->entries[i];

		show_obj_begin(s, NULL, true);
		show_i64(s, "tfd", e->tfd);
		show_hex(s, "events", e->events);
		show_hex(s, "data", e->data);
		if (e->file_id)
			show_u64(s, "file", e->file_id);
		else
			show_bool(s, "external", true);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t kinds[] = { CKPT_FILE_EPOLL, 0 };

const struct fd_ops fd_epoll_ops = {
	.name = "epoll",
	.kinds = kinds,
	.rec_type = CKPT_REC_EPOLL,
	.is = is_epoll,
	.collect = collect,
	.resolve = resolve,
	.write = write_rec,
	.read = read_rec,
	.open = open_epoll,
	.show = show,
	.release = release,
};
