/*
 * unshared.c: what processes of a tree must not share.
 *
 * clone() lets two processes share their memory, descriptor table, root
 * and cwd without being threads of one process; a vfork child shares its
 * parent's memory until it calls exec or exits. Restart rebuilds each
 * process's memory and fs context as its own, so such sharing would come
 * back as two copies that drift apart: it is refused.
 *
 * A descriptor table is shared again: a process that has its parent's
 * (CLONE_FILES) is marked CKPT_PROC_SHARES_FILES and restart creates it
 * with CLONE_FILES. Every process of a table must so reach, from parent to
 * parent, the one process of it whose parent does not have it; a table
 * shared otherwise (by siblings only, after CLONE_PARENT) is refused.
 *
 * kcmp(2) orders the kernel objects, so sorting the processes by each kind
 * puts the sharers side by side.
 */
#include <errno.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/freeze.h"
#include "res/res.h"
#include "util/log.h"

struct shared_kind {
	int type;
	const char *what;
	const char *how;
};

static const struct shared_kind kinds[] = {
	{ KCMP_VM, "its memory",
	  "CLONE_VM without CLONE_THREAD, as a vfork child has until it calls exec or exits" },
	{ KCMP_FILES, "its descriptor table", "CLONE_FILES, but not from its parent's" },
	{ KCMP_FS, "its root, cwd and umask", "CLONE_FS" },
};

static int kcmp_order(const void *a, const void *b, void *arg)
{
	pid_t pa = *(const pid_t *)a, pb = *(const pid_t *)b;
	long r = syscall(SYS_kcmp, pa, pb, *(const int *)arg, 0, 0);

	/* 0 equal, 1 less, 2 greater; an error sorts by pid, never equal */
	if (r == 1)
		return -1;
	if (r == 2)
		return 1;
	if (r == 0)
		return 0;
	return pa < pb ? -1 : pa > pb;
}

/* Marks the processes that have their parent's descriptor table. */
static void mark_shared_files(struct ck_image *img)
{
	for (uint32_t i = 1; i < img->nprocs; i++) {
		struct ck_proc *p = &img->procs[i];

		if (!(p->rec.flags & CKPT_PROC_ZOMBIE) &&
		    syscall(SYS_kcmp, p->rec.pid, p->rec.ppid, KCMP_FILES, 0, 0) == 0)
			p->rec.flags |= CKPT_PROC_SHARES_FILES;
	}
}

/* The process of pid's descriptor table whose parent does not have it. */
static pid_t files_owner(const struct ck_image *img, pid_t pid)
{
	const struct ck_proc *p = model_find_proc(img, pid);

	while (p && p->rec.flags & CKPT_PROC_SHARES_FILES)
		p = model_find_proc(img, p->rec.ppid);
	return p ? p->rec.pid : pid;
}

int check_unshared(struct ck_image *img)
{
	pid_t *pids = malloc((img->nprocs ? img->nprocs : 1) * sizeof(*pids));
	size_t n = 0;
	int err = 0;

	if (!pids)
		return -ENOMEM;
	mark_shared_files(img);
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			pids[n++] = img->procs[i].rec.pid;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !err; k++) {
		int type = kinds[k].type;

		qsort_r(pids, n, sizeof(*pids), kcmp_order, &type);
		for (size_t i = 1; i < n && !err; i++) {
			if (syscall(SYS_kcmp, pids[i - 1], pids[i], type, 0, 0) != 0)
				continue;
			if (type == KCMP_FILES &&
			    files_owner(img, pids[i - 1]) == files_owner(img, pids[i]))
				continue;
			log_err("pid %d: shares %s with pid %d (%s%s): not supported",
				pids[i] > pids[i - 1] ? pids[i] : pids[i - 1], kinds[k].what,
				pids[i] > pids[i - 1] ? pids[i - 1] : pids[i], kinds[k].how,
				type == KCMP_FILES ? ", not both from parents that have it" : "");
			err = -EOPNOTSUPP;
		}
	}
	free(pids);
	return err;
}
