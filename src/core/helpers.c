/*
 * helpers.c: processes restart creates only to rebuild a session or a
 * process group whose leader has exited.
 *
 * A session exists only by its leader calling setsid, a group by a process
 * whose PID is the group's id; both outlive their leader. So for a session
 * S without its leader, restart creates a helper with PID S that calls
 * setsid and forks the session's processes with CLONE_PARENT (they are
 * the children of the helper's parent, as they were); for a group G, a
 * helper with PID G, forked by a process of the group's session, leads the
 * group while its members join it. Helpers then exit and their parent's
 * wait4, run by ckpt, reaps them: nothing of them is left.
 *
 * Helpers are entries of the tree appended after the image's processes,
 * flagged CK_PROC_HELPER, planned and driven like zombies (exit status 0).
 * checkpoint.c's check_groups() refuses the layouts these cannot rebuild.
 */
#include <errno.h>
#include <stdlib.h>
#include "core/helpers.h"
#include "res/res.h"
#include "util/log.h"

static struct ck_proc *add(struct ck_image *img, pid_t pid, pid_t ppid, pid_t parent_tid, pid_t sid)
{
	struct ck_proc *n = model_add_proc(img, pid);

	if (!n)
		return NULL;
	n->threads = calloc(1, sizeof(*n->threads));
	if (!n->threads) {
		model_drop_proc(img, img->nprocs - 1);
		return NULL;
	}
	n->rec.ppid = ppid;
	n->rec.parent_tid = parent_tid;
	n->rec.pgid = pid;
	n->rec.sid = sid;
	n->rec.flags = CKPT_PROC_ZOMBIE | CK_PROC_HELPER;
	return n;
}

static bool is_helper(const struct ck_image *img, pid_t pid)
{
	const struct ck_proc *p = model_find_proc(img, pid);

	return p && p->rec.flags & CK_PROC_HELPER;
}

int helpers_add(struct ck_image *img)
{
	uint32_t nimage = img->nprocs;

	/* sessions first: a session helper also leads the group of its id */
	for (uint32_t i = 1; i < nimage; i++) {
		struct ck_proc *x = &img->procs[i];
		const struct ck_proc *parent = model_find_proc(img, x->rec.ppid);
		pid_t sid = x->rec.sid;

		if (sid == x->rec.pid || sid == parent->rec.sid)
			continue;
		if (!is_helper(img, sid) && !add(img, sid, parent->rec.pid, x->rec.parent_tid, sid))
			return -ENOMEM;
		x = &img->procs[i];
		x->forker = sid;
	}
	for (uint32_t i = 1; i < nimage; i++) {
		const struct ck_proc *x = &img->procs[i], *forker = NULL;
		pid_t g = x->rec.pgid;

		if (g == x->rec.pid || model_find_proc(img, g) ||
		    (g == img->procs[0].rec.pgid && x->rec.sid == img->procs[0].rec.sid))
			continue;
		/* a live process of the group's session forks it */
		for (uint32_t k = 0; k < nimage && !forker; k++)
			if (img->procs[k].rec.sid == x->rec.sid &&
			    !(img->procs[k].rec.flags & CKPT_PROC_ZOMBIE))
				forker = &img->procs[k];
		if (!forker) {
			log_err("pid %d: no process of session %d can recreate its group %d",
				x->rec.pid, x->rec.sid, g);
			return -EINVAL;
		}
		if (!add(img, g, forker->rec.pid, 0, x->rec.sid))
			return -ENOMEM;
	}
	return 0;
}
