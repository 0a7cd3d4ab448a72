/*
 * fd_signalfd.c: signalfd descriptions: the set of signals read through
 * it, from fdinfo ("sigmask:"), and O_NONBLOCK, one of the common flags. A
 * signalfd holds no signals of its own: a read takes them from the queues
 * of the process that reads, which the signal resources keep (sigpending.c,
 * and the blocked mask of each thread).
 *
 * At restart ckpt creates it with signalfd(-1, mask, flags); the process
 * that inherits it reads its own signals through it, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/files.h"
#include "util/log.h"

/* SIGKILL and SIGSTOP are never read through a signalfd */
#define UNREADABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

static bool is_signalfd(const struct fd_probe *pr)
{
	return !strcmp(pr->target, "anon_inode:[signalfd]");
}

static bool flags_ok(uint32_t flags)
{
	return (flags & O_ACCMODE) == O_RDWR && !(flags & ~(O_ACCMODE | O_NONBLOCK));
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct ckpt_rec_signalfd *sfd;
	uint64_t mask;

	(void)ctx;
	if (proc_parse_signalfd(pr->fdinfo, &mask))
		return fd_refuse(pr, "signalfd", "cannot parse its fdinfo");
	if (!flags_ok(f->rec.flags))
		return fd_refuse(pr, "signalfd", "status flags other than O_NONBLOCK are set");
	sfd = calloc(1, sizeof(*sfd));
	if (!sfd)
		return -ENOMEM;
	sfd->sigmask = mask & ~UNREADABLE;
	f->rec.kind = CKPT_FILE_SIGNALFD;
	f->rec.pos = 0;
	f->priv = sfd;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct ckpt_rec_signalfd *sfd = f->priv;
	struct iovec iov = { .iov_base = &sfd->sigmask, .iov_len = sizeof(sfd->sigmask) };

	return fd_write_rec(w, CKPT_REC_SIGNALFD, f, &iov, 1);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	struct ckpt_rec_signalfd *sfd;
	int err;

	(void)img;
	err = res_check_len(CKPT_REC_SIGNALFD, len, sizeof(*sfd), 0);
	if (err)
		return err;
	sfd = malloc(sizeof(*sfd));
	if (!sfd)
		return -ENOMEM;
	memcpy(sfd, data, sizeof(*sfd));
	f->priv = sfd;
	if (sfd->sigmask & UNREADABLE || !flags_ok(f->rec.flags) || f->rec.pos || f->rec.obj_id)
		return res_bad(CKPT_REC_SIGNALFD, "is malformed");
	return 0;
}

static int open_signalfd(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	const struct ckpt_rec_signalfd *sfd = f->priv;
	int flags = SFD_CLOEXEC | (f->rec.flags & O_NONBLOCK ? SFD_NONBLOCK : 0), err;
	uint64_t mask = sfd->sigmask;
	long sfdnum;

	(void)ctx;
	/* the kernel's own sigset: glibc's sigaddset refuses its internal signals */
	sfdnum = syscall(SYS_signalfd4, -1, &mask, sizeof(mask), flags);
	if (sfdnum < 0) {
		err = -errno;
		log_err("pid %d fd %d: signalfd: cannot create it: %s", p->rec.pid, fd,
			strerror(errno));
		return err;
	}
	f->obj.fd = (int)sfdnum;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct ckpt_rec_signalfd *sfd = f->priv;

	show_hex(s, "sigmask", sfd->sigmask);
}

static void release(struct ck_file *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const uint32_t kinds[] = { CKPT_FILE_SIGNALFD, 0 };

const struct fd_ops fd_signalfd_ops = {
	.name = "signalfd",
	.kinds = kinds,
	.rec_type = CKPT_REC_SIGNALFD,
	.is = is_signalfd,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_signalfd,
	.show = show,
	.release = release,
};
