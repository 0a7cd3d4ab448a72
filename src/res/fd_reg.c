/*
 * fd_reg.c: descriptions of files reached by path: regular files and
 * directories (path, access mode, flags, offset), the stateless character
 * devices null, zero, full, random and urandom, and shared memory objects
 * (memfds, files of /dev/shm), whose contents are an OBJ_SHMEM object
 * (shmem.c) that restart creates before any description of it is opened
 * again from it.
 *
 * At restart ckpt opens each description by its path (or from its shared
 * memory object), checks the file is still the kind it was, and seeks it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "res/files.h"
#include "util/log.h"

static const struct {
	unsigned int minor;
	const char *name;
} mem_devices[] = {
	{ 3, "null" }, { 5, "zero" }, { 7, "full" }, { 8, "random" }, { 9, "urandom" },
};

static const char *mem_device(dev_t rdev)
{
	if (major(rdev) != 1)
		return NULL;
	for (size_t i = 0; i < sizeof(mem_devices) / sizeof(mem_devices[0]); i++)
		if (minor(rdev) == mem_devices[i].minor)
			return mem_devices[i].name;
	return NULL;
}

static bool is_reg(const struct fd_probe *pr)
{
	const struct stat *st = &pr->st;

	return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) ||
	       (S_ISCHR(st->st_mode) && mem_device(st->st_rdev));
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	const struct stat *st = &pr->st;
	uint32_t shm_kind;
	int err;

	if (pr->target[0] != '/')
		return fd_refuse(pr, pr->kind, "not supported");
	f->rec.kind = S_ISREG(st->st_mode)   ? CKPT_FILE_REG
		      : S_ISDIR(st->st_mode) ? CKPT_FILE_DIR
					     : CKPT_FILE_CHR;
	f->rec.rdev = f->rec.kind == CKPT_FILE_CHR ? st->st_rdev : 0;
	f->rec.mode = st->st_mode;
	shm_kind = res_obj_ops(OBJ_SHMEM)->kind_of(pr->target, st);
	if (shm_kind) {
		char what[32];
		struct ck_obj *o;

		snprintf(what, sizeof(what), "fd %d", pr->fd);
		err = res_obj_ops(OBJ_SHMEM)->collect(ctx, pr->p, pr->link, shm_kind, what, &o);
		if (err)
			return err;
		f->shmem = (struct ck_shmem *)o;
		f->rec.kind = CKPT_FILE_SHM;
		return 0;
	}
	err = res_link_path(pr->link, &f->path, NULL);
	if (err == -ENOENT)
		return fd_refuse(pr, pr->target,
				 "file was deleted or is not reachable from ckpt's root");
	f->rec.path_len = f->path ? (uint32_t)strlen(f->path) : 0;
	return err;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	f->rec.obj_id = f->shmem ? f->shmem->obj.id : 0;
	return fd_write_plain(w, f);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_file *r = &f->rec;

	(void)data;
	(void)len;
	if ((r->kind == CKPT_FILE_SHM) != !f->path || (r->kind == CKPT_FILE_SHM) != !!r->obj_id)
		return res_bad(CKPT_REC_FILE, "is malformed");
	if (r->kind == CKPT_FILE_CHR && !mem_device(r->rdev))
		return res_bad(CKPT_REC_FILE, "names an unsupported device");
	if (r->kind == CKPT_FILE_SHM) {
		struct ck_obj *o = objhash_by_id(&img->objs, r->obj_id);

		f->shmem = o && o->kind == OBJ_SHMEM ? (struct ck_shmem *)o : NULL;
		if (!f->shmem || f->shmem->rec.kind == CKPT_SHMEM_ANON)
			return res_bad(CKPT_REC_FILE, "refers to an unknown shared memory object");
	}
	return 0;
}

static int open_file(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	const char *name = !f->shmem	    ? f->path
			   : f->shmem->name ? f->shmem->name
					    : "System V shared memory";
	struct stat st;
	int ofd, err;
	bool ok;

	(void)ctx;
	if (f->shmem)
		ofd = f->shmem->obj.ops->reopen(&f->shmem->obj, f->rec.flags);
	else
		ofd = open(f->path, (int)f->rec.flags | O_CLOEXEC | O_NOCTTY);
	if (ofd < 0) {
		err = f->shmem ? ofd : -errno;
		log_err("pid %d fd %d: cannot reopen '%s': %s", p->rec.pid, fd, name,
			strerror(-err));
		return err;
	}
	if (fstat(ofd, &st)) {
		err = -errno;
		goto out_close;
	}
	ok = f->rec.kind == CKPT_FILE_REG || f->rec.kind == CKPT_FILE_SHM ? S_ISREG(st.st_mode)
	     : f->rec.kind == CKPT_FILE_DIR				  ? S_ISDIR(st.st_mode)
					    : S_ISCHR(st.st_mode) && st.st_rdev == f->rec.rdev;
	if (!ok) {
		log_err("pid %d fd %d: '%s' is no longer the kind of file it was", p->rec.pid, fd,
			name);
		err = -ESTALE;
		goto out_close;
	}
	if (f->rec.kind != CKPT_FILE_CHR && !(f->rec.flags & O_PATH) &&
	    lseek(ofd, (off_t)f->rec.pos, SEEK_SET) < 0) {
		err = -errno;
		log_err("pid %d fd %d: cannot seek '%s' to %llu: %s", p->rec.pid, fd, name,
			(unsigned long long)f->rec.pos, strerror(errno));
		goto out_close;
	}
	f->obj.fd = ofd;
	return 0;
out_close:
	close(ofd);
	return err;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	if (f->shmem) {
		show_u64(s, "shm", f->shmem->obj.id);
		if (f->shmem->name)
			show_str(s, "name", f->shmem->name);
	} else {
		show_str(s, "path", f->path);
	}
	if (f->rec.kind != CKPT_FILE_CHR)
		show_u64(s, "pos", f->rec.pos);
}

static const uint32_t kinds[] = { CKPT_FILE_REG, CKPT_FILE_DIR, CKPT_FILE_CHR, CKPT_FILE_SHM, 0 };

const struct fd_ops fd_reg_ops = {
	.name = "file",
	.kinds = kinds,
	.rec_type = CKPT_REC_FILE,
	.is = is_reg,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_file,
	.show = show,
};
