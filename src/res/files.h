/*
 * files.h: the kinds of open file description. The descriptor table
 * resource (files.c) lists a process's descriptors, keeps descriptions
 * shared between descriptors and processes shared (one OBJ_FILE object
 * each, found again with kcmp), and hands each new description to its
 * kind: one file per kind (fd_reg.c, fd_pipe.c, ...), each behind one
 * struct fd_ops registered in fd_kinds (files.c). Adding a kind is a new
 * file, its CKPT_FILE_* number (and record type, if it has state of its
 * own), a line in fd_kinds, docs and a scenario.
 *
 * Every description has the common part struct ckpt_rec_file. A kind
 * without state of its own writes it as CKPT_REC_FILE (with a path); one
 * with state has a record type of its own whose payload begins with it.
 */
#ifndef RES_FILES_H
#define RES_FILES_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "res/res.h"

/* What checkpoint knows of a descriptor before its kind is chosen. */
struct fd_probe {
	struct ck_proc *p;
	int fd;
	const char *link; /* /proc/PID/fd/N */
	const char *target; /* what the link reads */
	const char *kind; /* the kind the target names: "pipe", "eventfd", a path */
	struct stat st; /* stat through the link */
	struct proc_fdinfo fi;
	const char *fdinfo; /* the whole text of /proc/PID/fdinfo/N */
};

struct fd_ops {
	const char *name; /* in messages and in show */
	const uint32_t *kinds; /* the CKPT_FILE_* of its descriptions, 0-terminated */
	uint32_t rec_type; /* CKPT_REC_FILE, or its own record type */

	/* checkpoint: whether the description is of this kind */
	bool (*is)(const struct fd_probe *pr);
	/* checkpoint: fills f (rec.flags and rec.pos are set; the kind sets
	 * what else it keeps) from the first descriptor found to reach it;
	 * -EOPNOTSUPP (logged with fd_refuse) refuses */
	int (*collect)(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f);
	/* checkpoint, once every process is collected: what becomes of
	 * descriptor d of p, which reaches a description of this kind: 0 it
	 * stays, FD_EXTERNAL it is connected outside the tree (only 0-2 can
	 * be), or -errno (a refusal logs its reason) */
	int (*settle)(struct dump_ctx *ctx, struct ck_proc *p, struct ck_fd *d);
	/* checkpoint, once every process is collected and settled: finds
	 * the descriptions f's state names among the descriptors of p, the
	 * process that first reached f (at fd) (fd_file_of: NULL for an
	 * external one); -EOPNOTSUPP (logged) refuses */
	int (*resolve)(struct ck_proc *p, int fd, struct ck_file *f);
	/* checkpoint: descriptor pr reaches f, which another descriptor (of
	 * its process or another) reached first; -EOPNOTSUPP (logged with
	 * fd_refuse) refuses. NULL: any may. */
	int (*reach)(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f);
	/* checkpoint: writes f's record, after any object it refers to;
	 * NULL: CKPT_REC_FILE with the path (fd_write_plain) */
	int (*write)(struct img_writer *w, struct ck_file *f);
	/* restart and show: the rest of f's record (f->rec and f->path are
	 * read; data and len are the whole payload); NULL: nothing more */
	int (*read)(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len);
	/* restart, in ckpt, before any process exists: opens the description
	 * (f->obj.fd), which the new processes inherit; p and fd are the
	 * first descriptor to reach it, for messages. A kind with plan_open
	 * may leave f->obj.fd at -1 (or have no open): the process opens it. */
	int (*open)(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f);
	/* restart, in the process instead, once every process of the tree
	 * exists (for what names a process: pidfds, /proc/PID files): the
	 * blob's calls that open it at descriptor number fd, which are the
	 * call that opens it, then fd_plan_move. Other descriptors of the
	 * process that reach f are copies of the first (a description that
	 * several processes reach becomes one per process). */
	int (*plan_open)(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f,
			 struct blob_plan *bp);
	/* records of other types the kind reads (objects its descriptions
	 * share, or more of a description), 0-terminated, and their reader */
	const uint32_t *more_types;
	int (*read_more)(struct ck_image *img, uint32_t type, const void *data, uint32_t len);
	void (*show)(struct show_ctx *s, const struct ck_file *f);
	/* frees f->priv */
	void (*release)(struct ck_file *f);
};

#define FD_EXTERNAL 1

/* Logs "pid N fd F: <what>: <why>" and returns -EOPNOTSUPP. */
int fd_refuse(const struct fd_probe *pr, const char *what, const char *why);
/* Writes f's record unless it is in the image already: for kinds whose
 * record refers to other descriptions, written before it. */
int fd_write_file(struct img_writer *w, struct ck_file *f);
/* Writes f as a CKPT_REC_FILE record followed by its path. */
int fd_write_plain(struct img_writer *w, struct ck_file *f);
/* Writes f as a record of type type: f->rec, then the iov. */
int fd_write_rec(struct img_writer *w, uint32_t type, struct ck_file *f, const struct iovec *iov,
		 int iovcnt);
/* The description that descriptor fd of p reached at checkpoint, for kinds
 * whose state names other descriptors (epoll); NULL if none. */
struct ck_file *fd_file_of(const struct ck_proc *p, int fd);
/* Restart: makes sure f is open in ckpt (f->obj.fd), for kinds whose own
 * opening needs another description open first; f->obj.fd stays -1 for a
 * description the process opens itself (plan_open). */
int fd_open_file(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f);
/* plan_open: the number the next call that opens a descriptor returns in
 * p when it opens descriptor fd (the lowest free one: the process then
 * holds every descriptor installed and those opened before fd, and a call
 * planned here closes anything else there); a negative -errno on failure. */
int fd_plan_number(struct blob_plan *bp, const struct ck_proc *p, int fd);
/* plan_open: moves the descriptor just opened at number at to its saved
 * number fd, with its close-on-exec flag. */
int fd_plan_move(struct blob_plan *bp, const struct ck_proc *p, int fd, int at);

/* Owners and signals of descriptions (fd_owner.c). Checkpoint: f's, read
 * through descriptor pr of the process whose pidfd is pidfd; a refusal
 * is -EOPNOTSUPP. */
int fd_owner_collect(struct dump_ctx *ctx, const struct fd_probe *pr, int pidfd, struct ck_file *f);
/* Checkpoint: descriptor pr reaches f too (its owner thread must be pr's). */
int fd_owner_reach(const struct ck_image *img, const struct fd_probe *pr, const struct ck_file *f);
/* f's CKPT_REC_FILE_OWNER, after its own record (none when it has none). */
int fd_owner_write(struct img_writer *w, struct ck_file *f);
int fd_owner_read(struct ck_image *img, const void *data, uint32_t len);
/* PLAN_SETUP, once d is installed: p sets its description's owner. */
int fd_owner_plan(const struct ck_image *img, struct ck_proc *p, const struct ck_fd *d,
		  struct blob_plan *bp);
void fd_owner_show(struct show_ctx *s, const struct ck_file *f);

/* File locks (fd_locks.c). Checkpoint: the locks descriptor pr shows,
 * taken through f (first: f was just found, its own flock and OFD locks
 * are kept from this descriptor); they join pr->p->locks, or a flock that
 * pr->p took moves there from another process of img. */
int fd_locks_collect(struct ck_image *img, const struct fd_probe *pr, struct ck_file *f,
		     bool first);
/* The process's LOCKS record, after its FD records (none without locks). */
int fd_locks_write(struct img_writer *w, struct ck_proc *p);
int fd_locks_read(struct ck_image *img, struct ck_proc *p, const void *data, uint32_t len);
/* Every lock is taken through a description a descriptor of p reaches. */
int fd_locks_validate(struct ck_proc *p);
/* Restart, in ckpt, once p's descriptions are open: takes their flock and
 * OFD locks, and checks nobody holds a lock in the way of p's POSIX ones. */
int fd_locks_prepare(struct ck_proc *p);
/* PLAN_FINAL, after the temporary descriptors are closed: p takes its
 * POSIX locks, and takes over the flocks in its section. */
int fd_locks_plan(struct ck_proc *p, struct blob_plan *bp);
void fd_locks_show(struct show_ctx *s, struct ck_proc *p);

#endif
