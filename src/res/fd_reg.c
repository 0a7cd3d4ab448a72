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
 *
 * A regular file or directory reached by path must still be the file it
 * was (its identity, CKPT_REC_FILE_ID, is saved with it):
 *  1. same kind and same permission bits;
 *  2. on the same filesystem (same device), the same inode: a path that now
 *     names another file (replaced, rotated) is refused; on another device
 *     (another machine, a filesystem mounted again) inode numbers say
 *     nothing and are not compared;
 *  3. a regular file no smaller than it was: one that grew is taken (a log
 *     the tree goes on appending to after a checkpoint that left it
 *     running), one that shrank is refused, whether or not below the
 *     offset: data the process had seen is gone.
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
	if (!err && f->rec.kind != CKPT_FILE_CHR) {
		struct ckpt_file_id *id = calloc(1, sizeof(*id));

		if (!id)
			return -ENOMEM;
		id->dev = st->st_dev;
		id->ino = st->st_ino;
		id->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
		id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
		f->priv = id;
	}
	return err;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct ckpt_rec_file_id id = { .file_id = f->obj.id };
	int err;

	f->rec.obj_id = f->shmem ? f->shmem->obj.id : 0;
	err = fd_write_plain(w, f);
	if (err || !f->priv)
		return err;
	id.fid = *(struct ckpt_file_id *)f->priv;
	return img_write_rec1(w, CKPT_REC_FILE_ID, &id, sizeof(id));
}

extern const struct fd_ops fd_reg_ops;

/* CKPT_REC_FILE_ID, just after its file's record */
static int read_id(struct ck_image *img, uint32_t type, const void *data, uint32_t len)
{
	const struct ckpt_rec_file_id *r = data;
	struct ck_obj *o;
	struct ck_file *f;
	int err = res_check_len(type, len, sizeof(*r), 0);

	if (err)
		return err;
	o = objhash_by_id(&img->objs, r->file_id);
	f = o && o->kind == OBJ_FILE ? (struct ck_file *)o : NULL;
	if (!f || f->ops != &fd_reg_ops || f->priv ||
	    (f->rec.kind != CKPT_FILE_REG && f->rec.kind != CKPT_FILE_DIR))
		return res_bad(type, "refers to an unknown file");
	f->priv = malloc(sizeof(r->fid));
	if (!f->priv)
		return -ENOMEM;
	memcpy(f->priv, &r->fid, sizeof(r->fid));
	return 0;
}

/* The rules of the header: 0, or -ESTALE (logged). */
static int check_same(struct ck_proc *p, int fd, const struct ck_file *f, const struct stat *st)
{
	const struct ckpt_file_id *id = f->priv;

	if ((st->st_mode ^ f->rec.mode) & 07777) {
		log_err("pid %d fd %d: '%s' changed since the checkpoint: its mode was %04o, it is "
			"%04o",
			p->rec.pid, fd, f->path, f->rec.mode & 07777, st->st_mode & 07777);
		return -ESTALE;
	}
	if (!id)
		return 0;
	if (st->st_dev == id->dev && st->st_ino != id->ino) {
		log_err("pid %d fd %d: '%s' changed since the checkpoint: it is another file "
			"(inode %llu, was %llu)",
			p->rec.pid, fd, f->path, (unsigned long long)st->st_ino,
			(unsigned long long)id->ino);
		return -ESTALE;
	}
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size < id->size) {
		log_err("pid %d fd %d: '%s' changed since the checkpoint: it shrank from %llu to "
			"%llu bytes%s",
			p->rec.pid, fd, f->path, (unsigned long long)id->size,
			(unsigned long long)st->st_size,
			(uint64_t)st->st_size < f->rec.pos ? ", below the offset" : "");
		return -ESTALE;
	}
	return 0;
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
	err = f->shmem || f->rec.kind == CKPT_FILE_CHR ? 0 : check_same(p, fd, f, &st);
	if (err)
		goto out_close;
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
	if (f->priv) {
		const struct ckpt_file_id *id = f->priv;

		show_u64(s, "ino", id->ino);
		if (f->rec.kind == CKPT_FILE_REG)
			show_u64(s, "size", id->size);
	}
}

static const uint32_t kinds[] = { CKPT_FILE_REG, CKPT_FILE_DIR, CKPT_FILE_CHR, CKPT_FILE_SHM, 0 };
static const uint32_t more_types[] = { CKPT_REC_FILE_ID, 0 };

static void release(struct ck_file *f)
{
	free(f->priv);
}

const struct fd_ops fd_reg_ops = {
	.name = "file",
	.kinds = kinds,
	.rec_type = CKPT_REC_FILE,
	.is = is_reg,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_file,
	.more_types = more_types,
	.read_more = read_id,
	.show = show,
	.release = release,
};
