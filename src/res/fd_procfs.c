/*
 * fd_procfs.c: descriptions of files of a process's /proc directory that a
 * program keeps open (/proc/self/status, /proc/PID/stat of another process
 * of the tree, the /proc/PID directory itself, /proc/PID/task/TID/...), and
 * the links /proc/self and /proc/thread-self opened with O_PATH|O_NOFOLLOW.
 *
 * The path is kept as the process it names and the rest: /proc/PID/rest.
 * The processes have their PIDs again at restart, so the same path names
 * the restored process; the process opens it itself (plan_open) once every
 * process of the tree exists, then seeks it (a seq file regenerates its
 * text up to the offset). A /proc/PID of a process outside the tree is
 * refused, as is one of a thread of another process than the holder
 * (created concurrently with the holder's restore). Other files of /proc
 * (/proc/meminfo, ...) are regular files of fd_reg.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/files.h"
#include "util/log.h"

#define MAX_REST 4096

struct proc_file {
	struct ckpt_file_proc rec;
	char *rest;
};

static bool is_procfs(const struct stat *st)
{
	struct stat proc;

	return !stat("/proc", &proc) && proc.st_dev == st->st_dev;
}

/* /proc/N... or /proc/self, /proc/thread-self: the pid (0 for the links)
 * and where the rest begins; -1 when it is no such path. */
static pid_t split(const char *path, const char **ret_rest)
{
	const char *s = path + 6;
	char *end;
	long n;

	if (strncmp(path, "/proc/", 6))
		return -1;
	if (!strcmp(s, "self") || !strcmp(s, "thread-self")) {
		*ret_rest = s - 1;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -1;
	n = strtol(s, &end, 10);
	if (n <= 0 || n > 1 << 22 || (*end && *end != '/'))
		return -1;
	*ret_rest = end;
	return (pid_t)n;
}

static bool is_proc(const struct fd_probe *pr)
{
	const char *rest;

	return split(pr->target, &rest) >= 0 && is_procfs(&pr->st);
}

static const struct ck_proc *proc_of_tid(const struct ck_image *img, pid_t tid)
{
	const struct ck_proc *p = model_find_proc(img, tid);

	for (uint32_t i = 0; i < img->nprocs && !p; i++)
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			if (img->procs[i].threads[t].rec.tid == tid)
				p = &img->procs[i];
	return p;
}

/* pid (and a /task/TID after it) must be the holder's, or a process of the
 * tree: NULL, or why not. */
static const char *why_not(const struct ck_image *img, const struct ck_proc *holder, pid_t pid,
			   const char *rest, char *buf, size_t len)
{
	const struct ck_proc *p = proc_of_tid(img, pid);

	if (!p) {
		snprintf(buf, len, "it names pid %d, outside the tree", pid);
		return buf;
	}
	if (p->rec.pid != pid && p != holder) {
		snprintf(buf, len, "it names thread %d of pid %d, another process: not supported",
			 pid, p->rec.pid);
		return buf;
	}
	if (!strncmp(rest, "/task/", 6) && rest[6] >= '1' && rest[6] <= '9') {
		long tid = strtol(rest + 6, NULL, 10);
		const struct ck_proc *q = proc_of_tid(img, (pid_t)tid);

		if (q != p || (p != holder && tid != p->rec.pid)) {
			snprintf(buf, len, "it names thread %ld of pid %d, %s", tid, p->rec.pid,
				 q != p ? "which is not in the tree"
					: "not the holder's: not supported");
			return buf;
		}
	}
	return NULL;
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct proc_file *pf = calloc(1, sizeof(*pf));
	const char *rest, *why;
	char buf[128];
	pid_t pid;

	if (!pf)
		return -ENOMEM;
	f->priv = pf;
	f->rec.kind = CKPT_FILE_PROC;
	pid = split(pr->target, &rest);
	if (pid > 0) {
		why = why_not(ctx->img, pr->p, pid, rest, buf, sizeof(buf));
		if (why)
			return fd_refuse(pr, pr->target, why);
	}
	if (strlen(rest) > MAX_REST)
		return fd_refuse(pr, pr->target, "its path is too long");
	if (S_ISLNK(pr->st.st_mode))
		f->rec.flags |= O_PATH | O_NOFOLLOW;
	pf->rec.pid = pid;
	pf->rest = strdup(rest);
	if (!pf->rest)
		return -ENOMEM;
	pf->rec.rest_len = (uint32_t)strlen(pf->rest);
	return 0;
}

/* A file of a thread inherited by another process than the thread's. */
static int reach(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	const struct proc_file *pf = f->priv;
	const char *why;
	char buf[128];

	if (pf->rec.pid <= 0)
		return 0;
	why = why_not(ctx->img, pr->p, pf->rec.pid, pf->rest, buf, sizeof(buf));
	return why ? fd_refuse(pr, pr->target, why) : 0;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct proc_file *pf = f->priv;
	struct iovec iov[2] = {
		{ .iov_base = &pf->rec, .iov_len = sizeof(pf->rec) },
		{ .iov_base = pf->rest, .iov_len = pf->rec.rest_len },
	};

	return fd_write_rec(w, CKPT_REC_FILE_PROC, f, iov, 2);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_file *r = data;
	const struct ckpt_file_proc *h = (const void *)(r + 1);
	struct proc_file *pf;
	int err;

	if (len < sizeof(*r) + sizeof(*h))
		return res_bad(CKPT_REC_FILE_PROC, "is too short");
	err = res_check_len(CKPT_REC_FILE_PROC, len, sizeof(*r) + sizeof(*h), h->rest_len);
	if (err)
		return err;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	f->priv = pf;
	pf->rec = *h;
	pf->rest = res_strndup(h + 1, h->rest_len);
	if (!pf->rest)
		return -ENOMEM;
	if (h->rest_len > MAX_REST || strlen(pf->rest) != h->rest_len ||
	    (h->rest_len && pf->rest[0] != '/') || strstr(pf->rest, "/..") ||
	    (h->pid == 0 && strcmp(pf->rest, "/self") && strcmp(pf->rest, "/thread-self")))
		return res_bad(CKPT_REC_FILE_PROC, "is malformed");
	/* which process it names is checked at restart, once every thread
	 * of the image is read */
	(void)img;
	if (h->pid < 0)
		return res_bad(CKPT_REC_FILE_PROC, "names no process");
	return 0;
}

static int plan_open(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f,
		     struct blob_plan *bp)
{
	const struct proc_file *pf = f->priv;
	char path[MAX_REST + 32], buf[128];
	const char *why = NULL;
	int64_t off;
	int at, err;

	if (pf->rec.pid > 0)
		why = why_not(ctx->img, p, pf->rec.pid, pf->rest, buf, sizeof(buf));
	if (why) {
		log_err("pid %d fd %d: '/proc/%d%s': %s", p->rec.pid, fd, pf->rec.pid, pf->rest,
			why);
		return -EBADMSG;
	}
	if (pf->rec.pid)
		snprintf(path, sizeof(path), "/proc/%d%s", pf->rec.pid, pf->rest);
	else
		snprintf(path, sizeof(path), "/proc%s", pf->rest);
	off = plan_data(bp, path, strlen(path) + 1);
	if (off < 0)
		return -ENOMEM;
	at = fd_plan_number(bp, p, fd);
	if (at < 0)
		return at;
	err = plan_call(bp, 0, 1U << 1, SYS_openat, (uint64_t)AT_FDCWD, (uint64_t)off,
			f->rec.flags | O_NOCTTY, 0, 0, 0, "open '%s' for fd %d", path, fd);
	if (!err)
		err = fd_plan_move(bp, p, fd, at);
	if (!err && f->rec.pos && !(f->rec.flags & O_PATH))
		err = plan_call(bp, 0, 0, SYS_lseek, (uint64_t)fd, f->rec.pos, SEEK_SET, 0, 0, 0,
				"seek fd %d ('%s') to %llu", fd, path,
				(unsigned long long)f->rec.pos);
	return err;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct proc_file *pf = f->priv;

	if (pf->rec.pid)
		show_i64(s, "pid", pf->rec.pid);
	show_str(s, "proc", pf->rest);
	if (!(f->rec.flags & O_PATH))
		show_u64(s, "pos", f->rec.pos);
}

static void release(struct ck_file *f)
{
	struct proc_file *pf = f->priv;

	if (pf)
		free(pf->rest);
	free(pf);
}

static const uint32_t kinds[] = { CKPT_FILE_PROC, 0 };

const struct fd_ops fd_procfs_ops = {
	.name = "proc",
	.kinds = kinds,
	.rec_type = CKPT_REC_FILE_PROC,
	.is = is_proc,
	.collect = collect,
	.reach = reach,
	.write = write_rec,
	.read = read_rec,
	.plan_open = plan_open,
	.show = show,
	.release = release,
};
