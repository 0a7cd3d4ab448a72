/*
 * unshared.c: what processes of a tree must not share.
 *
 * clone() lets two processes share their memory, descriptor table, root
 * and cwd without being threads of one process; a vfork child shares its
 * parent's memory until it calls exec or exits. Restart rebuilds each process's resources as its own, so such
 * sharing would come back as two copies that drift apart: it is refused.
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
	{ KCMP_FILES, "its descriptor table", "CLONE_FILES" },
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

int check_unshared(const struct ck_image *img)
{
	pid_t *pids = malloc((img->nprocs ? img->nprocs : 1) * sizeof(*pids));
	size_t n = 0;
	int err = 0;

	if (!pids)
		return -ENOMEM;
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			pids[n++] = img->procs[i].rec.pid;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !err; k++) {
		int type = kinds[k].type;

		qsort_r(pids, n, sizeof(*pids), kcmp_order, &type);
		for (size_t i = 1; i < n && !err; i++) {
			if (syscall(SYS_kcmp, pids[i - 1], pids[i], type, 0, 0) != 0)
				continue;
			log_err("pid %d: shares %s with pid %d (%s): not supported",
				pids[i] > pids[i - 1] ? pids[i] : pids[i - 1], kinds[k].what,
				pids[i] > pids[i - 1] ? pids[i - 1] : pids[i], kinds[k].how);
			err = -EOPNOTSUPP;
		}
	}
	free(pids);
	return err;
}
