/*
 * fd_eventfd.c: eventfd descriptions: the counter and the EFD_SEMAPHORE
 * mode, both read from fdinfo ("eventfd-count:", "eventfd-semaphore:"; a
 * kernel that does not show the mode is refused), and O_NONBLOCK, one of
 * the common flags. Descriptors shared by dup or fork share the one
 * description (files.c).
 *
 * At restart ckpt creates it with eventfd(0, flags) and writes the counter
 * into it (a write adds; eventfd()'s own initial value holds only 32 bits).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "res/files.h"
#include "util/log.h"

#define COUNT_MAX (UINT64_MAX - 1)

static bool is_eventfd(const struct fd_probe *pr)
{
	return !strcmp(pr->target, "anon_inode:[eventfd]");
}

static bool flags_ok(uint32_t flags)
{
	return (flags & O_ACCMODE) == O_RDWR && !(flags & ~(O_ACCMODE | O_NONBLOCK));
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct ckpt_rec_eventfd *e;
	struct proc_eventfd pe;

	(void)ctx;
	if (proc_parse_eventfd(pr->fdinfo, &pe))
		return fd_refuse(pr, "eventfd", "cannot parse its fdinfo");
	if (pe.semaphore < 0)
		return fd_refuse(pr, "eventfd",
				 "the kernel does not show whether it is a semaphore");
	if (!flags_ok(f->rec.flags))
		return fd_refuse(pr, "eventfd", "status flags other than O_NONBLOCK are set");
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = pe.count;
	e->flags = pe.semaphore ? CKPT_EVENTFD_SEMAPHORE : 0;
	f->rec.kind = CKPT_FILE_EVENTFD;
	f->rec.pos = 0;
	f->priv = e;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct ckpt_rec_eventfd *e = f->priv;
	struct iovec iov = { .iov_base = &e->count, .iov_len = sizeof(*e) - sizeof(e->file) };

	return fd_write_rec(w, CKPT_REC_EVENTFD, f, &iov, 1);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	struct ckpt_rec_eventfd *e;
	int err;

	(void)img;
	err = res_check_len(CKPT_REC_EVENTFD, len, sizeof(*e), 0);
	if (err)
		return err;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e, data, sizeof(*e));
	f->priv = e;
	if (e->flags & ~CKPT_EVENTFD_SEMAPHORE || e->pad || e->count > COUNT_MAX ||
	    !flags_ok(f->rec.flags) || f->rec.pos || f->rec.obj_id)
		return res_bad(CKPT_REC_EVENTFD, "is malformed");
	return 0;
}

static int open_eventfd(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	const struct ckpt_rec_eventfd *e = f->priv;
	int flags = EFD_CLOEXEC, efd, err;
	ssize_t n;

	(void)ctx;
	if (e->flags & CKPT_EVENTFD_SEMAPHORE)
		flags |= EFD_SEMAPHORE;
	if (f->rec.flags & O_NONBLOCK)
		flags |= EFD_NONBLOCK;
	efd = eventfd(0, flags);
	if (efd < 0) {
		err = -errno;
		log_err("pid %d fd %d: eventfd: cannot create it: %s", p->rec.pid, fd,
			strerror(errno));
		return err;
	}
	/* a new counter is 0: adding at most 2^64 - 2 never blocks */
	n = e->count ? write(efd, &e->count, sizeof(e->count)) : (ssize_t)sizeof(e->count);
	if (n != sizeof(e->count)) {
		err = n < 0 ? -errno : -EIO;
		log_err("pid %d fd %d: eventfd: cannot set its count to %llu: %s", p->rec.pid, fd,
			(unsigned long long)e->count, strerror(-err));
		close(efd);
		return err;
	}
	f->obj.fd = efd;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct ckpt_rec_eventfd *e = f->priv;

	show_u64(s, "count", e->count);
	if (e->flags & CKPT_EVENTFD_SEMAPHORE)
		show_bool(s, "semaphore", true);
}

static void release(struct ck_file *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const uint32_t kinds[] = { CKPT_FILE_EVENTFD, 0 };

const struct fd_ops fd_eventfd_ops = {
	.name = "eventfd",
	.kinds = kinds,
	.rec_type = CKPT_REC_EVENTFD,
	.is = is_eventfd,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_eventfd,
	.show = show,
	.release = release,
};
