/*
 * res.c: the table of resources, in the order their hooks run, and helpers
 * they share.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "res/res.h"
#include "util/io.h"
#include "util/log.h"

extern const struct res_ops creds_ops, rlimits_ops, fs_ops, shmem_ops, files_ops, mm_ops,
	sigactions_ops, thread_ops, regs_ops, sigpending_ops, timers_ops, task_ops, sched_ops,
	seccomp_ops, sysvsem_ops, sysvmsg_ops, mqueue_ops;

/*
 * Order matters: it is the order of records in a process section and of
 * restore steps. Shared memory objects come before the descriptors and
 * areas that refer to them. Memory comes before anything that needs the saved address
 * space; signal queues once threads exist; limits, then each thread's last
 * steps: seccomp filters (installed while still privileged), credentials,
 * then what credentials constrain or reset (no_new_privs, the parent-death
 * signal). POSIX message queues follow the descriptors that reach them (a
 * notification registration is read before the pending signals are, and
 * made again after the temporary descriptors are closed); System V
 * semaphore sets and message queues, which nothing else refers to, come
 * last.
 */
const struct res_ops *const res_table[] = {
	&fs_ops,	 &shmem_ops,  &files_ops,   &mqueue_ops,  &mm_ops,	&sigactions_ops,
	&sigpending_ops, &timers_ops, &rlimits_ops, &seccomp_ops, &creds_ops,	&task_ops,
	&sched_ops,	 &thread_ops, &regs_ops,    &sysvsem_ops, &sysvmsg_ops, NULL,
};

extern const struct obj_ops shmem_obj_ops;

static const struct obj_ops *const obj_table[] = { &shmem_obj_ops, NULL };

const struct obj_ops *res_obj_ops(enum obj_kind kind)
{
	for (size_t i = 0; obj_table[i]; i++)
		if (obj_table[i]->kind == kind)
			return obj_table[i];
	return NULL;
}

const struct res_ops *res_for_type(uint32_t type)
{
	for (size_t i = 0; res_table[i]; i++)
		for (const uint32_t *t = res_table[i]->types; t && *t; t++)
			if (*t == type)
				return res_table[i];
	return NULL;
}

const struct res_ops *res_for_pages(uint32_t kind, size_t *ret_index)
{
	for (size_t i = 0; res_table[i]; i++) {
		if (res_table[i]->pages_kind == kind && kind) {
			*ret_index = i;
			return res_table[i];
		}
	}
	return NULL;
}

int res_read_pages_hdr(struct img_reader *r, uint32_t len, struct ckpt_rec_pages *ret,
		       uint64_t *ret_bytes)
{
	unsigned long ps = (unsigned long)sysconf(_SC_PAGESIZE);
	uint64_t bytes;
	int err;

	if (len < sizeof(*ret))
		return res_bad(CKPT_REC_PAGES, "is too short");
	err = img_read_data(r, ret, sizeof(*ret));
	if (err)
		return err;
	bytes = (uint64_t)len - sizeof(*ret);
	if (ret->npages != bytes / ps || bytes % ps || ret->addr % ps)
		return res_bad(CKPT_REC_PAGES, "has a size that does not match its pages");
	*ret_bytes = bytes;
	return 0;
}

int res_add_install(struct ck_rst *r, int fd, int src, bool cloexec)
{
	struct fd_install *n = realloc(r->installs, (r->ninstalls + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	r->installs = n;
	n[r->ninstalls++] = (struct fd_install){ .fd = fd, .src = src, .cloexec = cloexec };
	return 0;
}

static int temp_index(const struct rst_ctx *ctx, int src)
{
	for (size_t i = 0; i < ctx->ntemps; i++)
		if (ctx->temp_src[i] == src)
			return (int)i;
	return -1;
}

int res_temp_register(struct rst_ctx *ctx, int src)
{
	int *n;

	if (temp_index(ctx, src) >= 0)
		return 0;
	n = realloc(ctx->temp_src, (ctx->ntemps + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->temp_src = n;
	n[ctx->ntemps++] = src;
	return 0;
}

int res_temp(struct rst_ctx *ctx, int src)
{
	int i = temp_index(ctx, src);

	return i < 0 ? -EBADF : ctx->temp_base + i;
}

int res_check_len(uint32_t type, uint32_t len, size_t fixed, uint64_t tail)
{
	if (len < fixed || (uint64_t)len != fixed + tail) {
		log_err("image is damaged: %s record has %u bytes, expected %llu",
			img_rec_name(type), len, (unsigned long long)(fixed + tail));
		return -EBADMSG;
	}
	return 0;
}

int res_bad(uint32_t type, const char *why)
{
	log_err("image is damaged: %s record %s", img_rec_name(type), why);
	return -EBADMSG;
}

char *res_strndup(const void *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, data, len);
		s[len] = '\0';
	}
	return s;
}

int res_remote(struct ck_proc *p, struct ck_thread *t, long *ret, long nr, long a1, long a2,
	       long a3, long a4, long a5, long a6)
{
	struct remote_task *rt = t ? &t->trace->rt : &p->threads[0].trace->rt;

	return remote_syscall(rt, ret, nr, a1, a2, a3, a4, a5, a6);
}

static void release_fd_obj(struct ck_obj *obj)
{
	if (obj->fd >= 0)
		close(obj->fd);
	free(obj);
}

int res_keep_fd(struct rst_ctx *ctx, enum obj_kind kind, uint64_t k0, uint64_t k1, int *fd)
{
	struct ck_obj *o = objhash_find(&ctx->img->objs, kind, k0, k1, NULL, NULL);
	int err;

	if (o) {
		close(*fd);
		*fd = o->fd;
		return 0;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		close(*fd);
		return -ENOMEM;
	}
	o->kind = kind;
	o->key[0] = k0;
	o->key[1] = k1;
	o->fd = *fd;
	o->release = release_fd_obj;
	err = objhash_add(&ctx->img->objs, o);
	if (err) {
		release_fd_obj(o);
		return err;
	}
	return 1;
}

int res_read_scratch(struct ck_proc *p, size_t off, void *buf, size_t len)
{
	return remote_read(p->rec.pid, p->live->scratch + off, buf, len);
}

int res_link_path(const char *link, char **ret_path, struct stat *ret_st)
{
	char buf[PATH_MAX];
	struct stat via_link, via_path;
	int err = io_readlink(link, buf, sizeof(buf));

	if (err)
		return err;
	if (stat(link, &via_link))
		return -errno;
	if (buf[0] != '/' || stat(buf, &via_path) || via_path.st_dev != via_link.st_dev ||
	    via_path.st_ino != via_link.st_ino)
		return -ENOENT;
	*ret_path = strdup(buf);
	if (!*ret_path)
		return -ENOMEM;
	if (ret_st)
		*ret_st = via_link;
	return 0;
}
