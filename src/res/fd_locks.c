/*
 * fd_locks.c: file locks, the part of the descriptor table resource
 * (files.c) that keeps them across checkpoint and restart. Three kinds of
 * lock live on regular files, and each has its owner:
 *
 *  - flock(2) locks (shared or exclusive, the whole file) and OFD locks
 *    (fcntl F_OFD_SETLK, byte ranges) belong to an open file description,
 *    whichever processes reach it;
 *  - POSIX record locks (fcntl F_SETLK, byte ranges) belong to a process.
 *
 * At checkpoint the "lock:" lines of each descriptor's fdinfo tell them:
 * the kernel lists there the locks taken through that very description
 * whose owner is the description or the process. The flock and OFD locks
 * of a description are taken from the first descriptor found to reach it
 * (every descriptor of it shows the same ones); a POSIX lock shows on each
 * descriptor of the process that shares the description it was taken
 * through, and is kept once. All of a process's go into one LOCKS record
 * after its descriptors: the POSIX locks it owns, the OFD locks of the
 * descriptions first written in its section, and the flocks it took (the
 * pid a flock's line shows) on descriptions it reaches, or else that are
 * first written in its section. Refused: leases
 * (their break notifications go to the process and signal set with
 * F_SETOWN and F_SETSIG, state ckpt does not carry), mandatory locks (gone
 * from Linux since 5.15), kinds the kernel does not name, POSIX locks in
 * the name of another process (one that shared the descriptor table and
 * is gone), and locks on anything but a regular file.
 *
 * At restart ckpt takes the flock and OFD locks itself on the description
 * it opened (the new processes inherit it, and the locks with it), before
 * any process exists. A POSIX lock must be taken by its owner: the
 * process does F_SETLK in its restorer list, after the temporary
 * descriptors are closed (closing any descriptor of a file drops every
 * POSIX lock the process holds on it). ckpt first checks, on its own
 * description, that nobody holds a conflicting lock, so that a file locked
 * by another process (the original, still running beside a copy) fails
 * the restart before anything is created, naming the file, the range and
 * the holder. A flock is then taken over by the process in whose section
 * it is, which lets ckpt's go and takes it again, so that /proc/locks
 * names its taker as before rather than ckpt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include "res/files.h"
#include "util/log.h"

static const char *kind_name(uint32_t kind)
{
	return kind == CKPT_LOCK_POSIX ? "posix" : kind == CKPT_LOCK_FLOCK ? "flock" : "ofd";
}

static const char *type_name(uint32_t type)
{
	return type == CKPT_LOCK_WRITE ? "write" : "read";
}

/* "bytes 0-99", "bytes 100 to the end", "the whole file" */
static const char *range_name(const struct ckpt_lock *l, char *buf, size_t len)
{
	if (l->kind == CKPT_LOCK_FLOCK)
		snprintf(buf, len, "the whole file");
	else if (!l->len)
		snprintf(buf, len, "bytes %llu to the end", (unsigned long long)l->start);
	else
		snprintf(buf, len, "bytes %llu-%llu", (unsigned long long)l->start,
			 (unsigned long long)(l->start + l->len - 1));
	return buf;
}

/* "its POSIX write lock of bytes 0-99", "its exclusive flock" */
static const char *lock_name(const struct ckpt_lock *l, char *buf, size_t len)
{
	char range[64];

	if (l->kind == CKPT_LOCK_FLOCK)
		snprintf(buf, len, "its %s flock",
			 l->type == CKPT_LOCK_WRITE ? "exclusive" : "shared");
	else
		snprintf(buf, len, "its %s %s lock of %s",
			 l->kind == CKPT_LOCK_POSIX ? "POSIX" : "OFD", type_name(l->type),
			 range_name(l, range, sizeof(range)));
	return buf;
}

/* ---- checkpoint ---- */

static bool has_lock(const struct ck_proc *p, const struct ck_lock *l)
{
	for (uint32_t i = 0; i < p->nlocks; i++)
		if (p->locks[i].file == l->file &&
		    !memcmp(&p->locks[i].rec, &l->rec, sizeof(l->rec)))
			return true;
	return false;
}

static int add_lock(struct ck_proc *p, const struct ck_lock *l)
{
	struct ck_lock *n;

	if (has_lock(p, l))
		return 0;
	n = realloc(p->locks, (p->nlocks + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->locks = n;
	n[p->nlocks++] = *l;
	return 0;
}

/* The flock of f goes to the section of p, which took it: found in the
 * section of the process that first reached f, it moves. */
static int move_flock(struct ck_image *img, struct ck_proc *p, const struct ck_file *f)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_proc *q = &img->procs[i];

		for (uint32_t k = 0; q != p && k < q->nlocks; k++) {
			struct ck_lock l = q->locks[k];

			if (l.file != f || l.rec.kind != CKPT_LOCK_FLOCK)
				continue;
			memmove(&q->locks[k], &q->locks[k + 1], (q->nlocks - k - 1) * sizeof(l));
			q->nlocks--;
			return add_lock(p, &l);
		}
	}
	return 0;
}

/* Why a lock line cannot be kept, or NULL when it can. */
static const char *refusal(const struct proc_lock *pl, const struct fd_probe *pr, char *buf,
			   size_t len)
{
	if (pl->kind == PROC_LOCK_LEASE)
		return "a file lease (F_SETLEASE) is not supported: its break notifications go to "
		       "the process and signal set with F_SETOWN and F_SETSIG, which ckpt does not "
		       "restore";
	if (pl->kind == PROC_LOCK_OTHER || pl->waiting || pl->type == PROC_LOCK_UNLCK)
		return "a file lock of a kind ckpt does not know is not supported";
	if (pl->mandatory)
		return "a mandatory lock is not supported (Linux has had none since 5.15)";
	if (pl->kind == PROC_LOCK_POSIX && pl->pid != pr->p->rec.pid) {
		snprintf(buf, len,
			 "a POSIX lock held in the name of pid %d, not of the process, is not "
			 "supported",
			 pl->pid);
		return buf;
	}
	return NULL;
}

int fd_locks_collect(struct ck_image *img, const struct fd_probe *pr, struct ck_file *f, bool first)
{
	struct proc_lock *pls;
	size_t n;
	int err = proc_parse_locks(pr->fdinfo, &pls, &n);

	if (err) {
		log_err("pid %d fd %d: cannot read its file locks: %s", pr->p->rec.pid, pr->fd,
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct proc_lock *pl = &pls[i];
		struct ck_lock l = { .file = f };
		char why[128];
		const char *no = refusal(pl, pr, why, sizeof(why));

		if (no) {
			err = fd_refuse(pr, pr->target, no);
			break;
		}
		if (f->rec.kind != CKPT_FILE_REG) {
			err = fd_refuse(pr, pr->target,
					"file locks are supported on regular files only");
			break;
		}
		l.rec.kind = pl->kind == PROC_LOCK_POSIX ? CKPT_LOCK_POSIX
			     : pl->kind == PROC_LOCK_OFD ? CKPT_LOCK_OFD
							 : CKPT_LOCK_FLOCK;
		/* a description's own locks show on every descriptor of it; its
		 * flock goes with the process that took it, if it reaches it */
		if (l.rec.kind == CKPT_LOCK_FLOCK && !first && pl->pid == pr->p->rec.pid)
			err = move_flock(img, pr->p, f);
		if (l.rec.kind != CKPT_LOCK_POSIX && !first)
			continue;
		l.rec.type = pl->type == PROC_LOCK_WRITE ? CKPT_LOCK_WRITE : CKPT_LOCK_READ;
		if (l.rec.kind != CKPT_LOCK_FLOCK) {
			l.rec.start = pl->start;
			l.rec.len = pl->to_eof ? 0 : pl->end - pl->start + 1;
		}
		err = add_lock(pr->p, &l);
	}
	free(pls);
	return err;
}

int fd_locks_write(struct img_writer *w, struct ck_proc *p)
{
	struct ckpt_rec_locks h = { .count = p->nlocks };
	struct ckpt_lock *recs;
	struct iovec iov[2];
	int err;

	if (!p->nlocks)
		return 0;
	recs = calloc(p->nlocks, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nlocks; i++) {
		recs[i] = p->locks[i].rec;
		recs[i].file_id = p->locks[i].file->obj.id;
	}
	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
	iov[1] = (struct iovec){ .iov_base = recs, .iov_len = p->nlocks * sizeof(*recs) };
	err = img_write_rec(w, CKPT_REC_LOCKS, iov, 2);
	free(recs);
	return err;
}

/* ---- image to model ---- */

static bool is_valid(const struct ckpt_lock *l)
{
	if (l->pad || l->kind < CKPT_LOCK_POSIX || l->kind > CKPT_LOCK_OFD ||
	    (l->type != CKPT_LOCK_READ && l->type != CKPT_LOCK_WRITE))
		return false;
	if (l->kind == CKPT_LOCK_FLOCK)
		return !l->start && !l->len;
	return l->start <= INT64_MAX && l->len <= INT64_MAX &&
	       (!l->len || l->start + (l->len - 1) <= INT64_MAX);
}

int fd_locks_read(struct ck_image *img, struct ck_proc *p, const void *data, uint32_t len)
{
	const struct ckpt_rec_locks *h = data;
	const struct ckpt_lock *recs = (const void *)(h + 1);
	int err = res_check_len(CKPT_REC_LOCKS, len, sizeof(*h),
				len >= sizeof(*h) ? (uint64_t)h->count * sizeof(*recs) : 0);

	if (err)
		return err;
	if (!p || p->locks || !h->count || h->pad)
		return res_bad(CKPT_REC_LOCKS, "is misplaced, repeated or empty");
	p->locks = calloc(h->count, sizeof(*p->locks));
	if (!p->locks)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->count; i++) {
		struct ck_obj *o = objhash_by_id(&img->objs, recs[i].file_id);
		struct ck_file *f = o && o->kind == OBJ_FILE ? (struct ck_file *)o : NULL;

		if (!is_valid(&recs[i]))
			return res_bad(CKPT_REC_LOCKS, "holds a malformed lock");
		if (!f || f->rec.kind != CKPT_FILE_REG || (f->rec.flags & O_PATH))
			return res_bad(CKPT_REC_LOCKS, "locks something other than a regular file");
		p->locks[p->nlocks++] = (struct ck_lock){ .rec = recs[i], .file = f };
	}
	return 0;
}

/* The lowest descriptor of p that reaches f, or -1. */
static int fd_of(const struct ck_proc *p, const struct ck_file *f)
{
	int fd = -1;

	for (uint32_t i = 0; i < p->nfds; i++)
		if (p->fds[i].file == f && (fd < 0 || p->fds[i].rec.fd < fd))
			fd = p->fds[i].rec.fd;
	return fd;
}

int fd_locks_validate(struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nlocks; i++)
		if (fd_of(p, p->locks[i].file) < 0)
			return res_bad(CKPT_REC_LOCKS,
				       "locks a file no descriptor of its process reaches");
	return 0;
}

/* ---- restart ---- */

static struct flock flock_of(const struct ckpt_lock *l)
{
	return (struct flock){
		.l_type = l->type == CKPT_LOCK_WRITE ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)l->start,
		.l_len = (off_t)l->len,
	};
}

/* Names who holds what stands in l's way (F_OFD_GETLK on ckpt's own
 * description sees every lock but the description's own); -EAGAIN. */
static int conflict(const struct ck_proc *p, int fd, const struct ck_lock *l)
{
	struct flock fl = flock_of(&l->rec);
	char what[128], holder[128];

	if (l->rec.kind == CKPT_LOCK_FLOCK) {
		snprintf(holder, sizeof(holder), "another open file holds a flock of it");
	} else if (fcntl(l->file->obj.fd, F_OFD_GETLK, &fl) || fl.l_type == F_UNLCK) {
		snprintf(holder, sizeof(holder), "another process holds a lock in the way");
	} else {
		struct ckpt_lock h = { .kind = fl.l_pid < 0 ? CKPT_LOCK_OFD : CKPT_LOCK_POSIX,
				       .type = fl.l_type == F_WRLCK ? CKPT_LOCK_WRITE
								    : CKPT_LOCK_READ,
				       .start = (uint64_t)fl.l_start,
				       .len = (uint64_t)fl.l_len };
		char range[64];

		if (fl.l_pid < 0)
			snprintf(holder, sizeof(holder),
				 "another open file holds an OFD %s lock of %s", type_name(h.type),
				 range_name(&h, range, sizeof(range)));
		else if (!fl.l_pid)
			snprintf(holder, sizeof(holder),
				 "a process outside ckpt's pid namespace holds a %s lock of %s",
				 type_name(h.type), range_name(&h, range, sizeof(range)));
		else
			snprintf(holder, sizeof(holder), "pid %d holds a %s lock of %s", fl.l_pid,
				 type_name(h.type), range_name(&h, range, sizeof(range)));
	}
	log_err("pid %d fd %d: '%s': cannot take %s: %s", p->rec.pid, fd, l->file->path,
		lock_name(&l->rec, what, sizeof(what)), holder);
	return -EAGAIN;
}

static int take(const struct ck_proc *p, int fd, const struct ck_lock *l)
{
	int ofd = l->file->obj.fd, err = 0;
	struct flock fl = flock_of(&l->rec);
	char what[128];

	switch (l->rec.kind) {
	case CKPT_LOCK_FLOCK:
		if (flock(ofd, (l->rec.type == CKPT_LOCK_WRITE ? LOCK_EX : LOCK_SH) | LOCK_NB))
			err = -errno;
		break;
	case CKPT_LOCK_OFD:
		if (fcntl(ofd, F_OFD_SETLK, &fl))
			err = -errno;
		break;
	default:
		/* its owner takes it; only look for a lock in its way */
		if (fcntl(ofd, F_OFD_GETLK, &fl))
			err = -errno;
		else if (fl.l_type != F_UNLCK)
			err = -EAGAIN;
		break;
	}
	if (err == -EAGAIN || err == -EACCES)
		return conflict(p, fd, l);
	if (err)
		log_err("pid %d fd %d: '%s': cannot take %s: %s", p->rec.pid, fd, l->file->path,
			lock_name(&l->rec, what, sizeof(what)), strerror(-err));
	return err;
}

int fd_locks_prepare(struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nlocks; i++) {
		int err = take(p, fd_of(p, p->locks[i].file), &p->locks[i]);

		if (err)
			return err;
	}
	return 0;
}

/* ckpt holds the flock since prepare, in the name of its own pid: the
 * process lets it go and takes it again, in its own (a process outside
 * could take it in between; the restart then fails). */
static int plan_flock(struct blob_plan *bp, const struct ck_lock *l, int fd)
{
	char what[128];
	int op = l->rec.type == CKPT_LOCK_WRITE ? LOCK_EX : LOCK_SH;
	int err = plan_call(bp, 0, 0, SYS_flock, (uint64_t)fd, LOCK_UN, 0, 0, 0, 0,
			    "let go of ckpt's flock of '%s' (fd %d)", l->file->path, fd);

	if (!err)
		err = plan_call(bp, 0, 0, SYS_flock, (uint64_t)fd, (uint64_t)(op | LOCK_NB), 0, 0,
				0, 0, "take %s of '%s' (fd %d)",
				lock_name(&l->rec, what, sizeof(what)), l->file->path, fd);
	return err;
}

int fd_locks_plan(struct ck_proc *p, struct blob_plan *bp)
{
	for (uint32_t i = 0; i < p->nlocks; i++) {
		const struct ck_lock *l = &p->locks[i];
		struct flock fl = flock_of(&l->rec);
		int fd = fd_of(p, l->file), err;
		int64_t off;
		char what[128];

		if (l->rec.kind == CKPT_LOCK_FLOCK) {
			err = plan_flock(bp, l, fd);
			if (err)
				return err;
		}
		if (l->rec.kind != CKPT_LOCK_POSIX)
			continue;
		off = plan_data(bp, &fl, sizeof(fl));
		if (off < 0)
			return -ENOMEM;
		err = plan_call(bp, 0, 1U << 2, SYS_fcntl, (uint64_t)fd, F_SETLK, (uint64_t)off, 0,
				0, 0, "take %s of '%s' (fd %d)",
				lock_name(&l->rec, what, sizeof(what)), l->file->path, fd);
		if (err)
			return err;
	}
	return 0;
}

/* ---- show ---- */

void fd_locks_show(struct show_ctx *s, struct ck_proc *p)
{
	if (!p->nlocks)
		return;
	show_list_begin(s, "locks");
	for (uint32_t i = 0; i < p->nlocks; i++) {
		const struct ckpt_lock *l = &p->locks[i].rec;

		show_obj_begin(s, NULL, true);
		show_str(s, "kind", kind_name(l->kind));
		show_str(s, "type", type_name(l->type));
		show_u64(s, "file", p->locks[i].file->obj.id);
		if (l->kind != CKPT_LOCK_FLOCK) {
			show_u64(s, "start", l->start);
			if (l->len)
				show_u64(s, "len", l->len);
			else
				show_bool(s, "to_eof", true);
		}
		show_obj_end(s);
	}
	show_list_end(s);
}
