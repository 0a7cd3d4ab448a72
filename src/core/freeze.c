/*
 * freeze.c: finding and freezing the tree rooted at a process.
 *
 * The tree is the root and all its descendants, as their parent links are
 * now (a process reparented to a subreaper inside the tree belongs to it).
 * Freezing goes in passes until one finds nothing new (the state of every
 * process is read once more when all is frozen, and kept in live->stat):
 *
 *  1. For every process known, list its threads and seize (and interrupt)
 *     those not seized yet, listing again at once while the listing is
 *     out of date. A process whose every thread is stopped can neither
 *     start a thread nor fork any more. Threads are seized with
 *     PTRACE_O_TRACECLONE: one that starts a thread while being stopped
 *     leaves it attached to ckpt and stopped, for the next listing.
 *  2. For every seized thread, list its children; a new one joins the tree
 *     (a zombie is recorded with its exit status, and needs no seizing).
 *
 * A thread that exits before it is seized is dropped; a process that exits
 * before any of its threads is seized becomes a zombie or disappears. A
 * tree that still changes after many passes is refused, and so are a
 * process waiting for its vfork child (it cannot be stopped) and one whose
 * main thread has exited while its other threads run.
 */
#include <errno.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/freeze.h"
#include "res/res.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_PASSES 64

static struct ck_proc *add_proc(struct ck_image *img, pid_t pid)
{
	struct ck_proc *n = model_add_proc(img, pid);

	if (!n)
		return NULL;
	n->live = calloc(1, sizeof(*n->live));
	if (!n->live) {
		model_drop_proc(img, img->nprocs - 1);
		return NULL;
	}
	return n;
}

static bool has_thread(const struct ck_proc *p, pid_t tid)
{
	for (uint32_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].rec.tid == tid)
			return true;
	return false;
}

/*
 * A thread in vfork (or clone with CLONE_VFORK) waits for its child to
 * call exec or exit, and the wait cannot be interrupted: seizing it would
 * block ckpt until the child is done. A thread blocked in a cloning call
 * with a child that shares its memory is in that wait.
 */
static int check_vfork(struct ck_proc *p, pid_t tid)
{
	char path[64], *text;
	long nr;
	pid_t *kids;
	size_t n;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", p->rec.pid, tid);
	if (io_slurp(path, &text, NULL))
		return 0;
	nr = strtol(text, NULL, 10);
	free(text);
	if (nr != SYS_vfork && nr != SYS_clone && nr != SYS_clone3)
		return 0;
	err = proc_read_children(p->rec.pid, tid, &kids, &n);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (size_t i = 0; i < n && !err; i++) {
		if (syscall(SYS_kcmp, p->rec.pid, kids[i], KCMP_VM, 0, 0) != 0)
			continue;
		log_err("pid %d: waits in vfork for its child %d, which shares its memory until it "
			"calls exec or exits: not supported",
			p->rec.pid, kids[i]);
		err = -EOPNOTSUPP;
	}
	free(kids);
	return err;
}

static int seize_thread(struct ck_proc *p, pid_t tid)
{
	struct ck_thread *n = realloc(p->threads, (p->nthreads + 1) * sizeof(*n));
	int err;

	if (!n)
		return -ENOMEM;
	p->threads = n;
	n += p->nthreads;
	memset(n, 0, sizeof(*n));
	n->trace = calloc(1, sizeof(*n->trace));
	if (!n->trace)
		return -ENOMEM;
	n->rec.tid = tid;
	n->trace->restarted_nr = -1;
	err = check_vfork(p, tid);
	if (!err)
		err = remote_seize(&n->trace->rt, tid, REMOTE_TRACECLONE);
	if (err && n->trace->rt.seized)
		remote_release(&n->trace->rt);
	if (err) {
		free(n->trace);
		n->trace = NULL;
		return err;
	}
	p->nthreads++;
	if (n->trace->rt.group_stopped) {
		log_err("pid %d: is stopped by job control (resume it first): not supported",
			p->rec.pid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* A zombie main thread whose process has other threads still running
 * (pthread_exit in main): the process is alive, with no main thread to
 * rebuild it around. Threads on their way out of an exit_group do not
 * count. */
static int check_main_thread_exit(pid_t pid)
{
	pid_t *tids;
	size_t n;
	int err = proc_list_tasks(pid, &tids, &n);

	if (err) /* gone meanwhile: a zombie like any other */
		return err == -ENOMEM ? err : 0;
	for (size_t i = 0; i < n && !err; i++) {
		struct proc_stat st;

		if (tids[i] == pid || proc_read_stat(pid, tids[i], &st) || st.state == 'Z' ||
		    st.state == 'X')
			continue;
		log_err("pid %d: its main thread has exited while other threads run: not "
			"supported",
			pid);
		err = -EOPNOTSUPP;
	}
	free(tids);
	return err;
}

/* Reads what /proc says of a process: zombie or not, parent, group and
 * session (and keeps the whole of it in live->stat). */
static int read_state(struct ck_proc *p)
{
	struct proc_stat probe, *st = p->live ? &p->live->stat : &probe;
	int err = proc_read_stat(p->rec.pid, 0, st);

	if (err)
		return err;
	p->rec.ppid = st->ppid;
	p->rec.pgid = st->pgrp;
	p->rec.sid = st->session;
	p->rec.exit_signal = st->exit_signal;
	if (st->state == 'Z') {
		err = check_main_thread_exit(p->rec.pid);
		p->rec.flags |= CKPT_PROC_ZOMBIE;
		p->rec.exit_status = st->exit_code;
	}
	return err;
}

/* One listing of the process's threads, each seized unless it already is,
 * newest first (the one least likely to have handed over to a successor
 * yet). *again when the listing was out of date: a thread vanished, or the
 * kernel counts more than were seized. */
static int seize_listed(struct ck_proc *p, bool *changed, bool *again)
{
	struct proc_stat st;
	pid_t *tids;
	size_t n;
	int err = proc_list_tasks(p->rec.pid, &tids, &n);

	if (err == -ENOENT)
		return -ESRCH;
	if (err)
		return err;
	for (size_t i = n; i-- > 0 && !err;) {
		if (has_thread(p, tids[i]))
			continue;
		err = seize_thread(p, tids[i]);
		if (err == -ESRCH || err == -EPERM) {
			/* gone, or a zombie thread: looked at again below. A
			 * thread may start another on its way out (a zombie
			 * main thread stays). */
			*again |= tids[i] != p->rec.pid;
			err = 0;
			continue;
		}
		*changed = true;
	}
	free(tids);
	if (err || !p->nthreads)
		return err;
	/* reading /proc/PID/task while threads start and end can miss both
	 * a new thread and the one that started it: the kernel's count tells
	 * when a thread is still out there */
	if (proc_read_stat(p->rec.pid, 0, &st) || st.num_threads != (long)p->nthreads)
		*again = true;
	return 0;
}

/* Step 1 for one process; *changed when a thread was seized or the
 * process still changes. Threads that start and end faster than a pass
 * are chased at once: every seized thread is attached with
 * PTRACE_O_TRACECLONE, so a relay stops at the first thread seized before
 * it started the next. */
static int seize_threads(struct ck_proc *p, bool *changed)
{
	int err = 0;

	if (p->rec.flags & CKPT_PROC_ZOMBIE || p->live->all_seized)
		return 0;
	for (int round = 0; round < MAX_PASSES && !err; round++) {
		bool again = false;

		err = seize_listed(p, changed, &again);
		if (!err && !p->nthreads) {
			/* no thread could be seized: it exited meanwhile */
			err = read_state(p);
			if (!err && !(p->rec.flags & CKPT_PROC_ZOMBIE))
				err = -ESRCH;
			*changed = true;
			return err;
		}
		if (!again) {
			/* stopped, all of them: it can start no more */
			p->live->all_seized = !err;
			return err;
		}
		*changed = true;
	}
	return err;
}

static void drop_proc(struct ck_image *img, size_t i)
{
	for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
		free(img->procs[i].threads[t].trace);
	free(img->procs[i].threads);
	free(img->procs[i].live);
	model_drop_proc(img, (uint32_t)i);
}

/* A zombie its parent's other threads reaped while the first ones were
 * being frozen is gone: a pass no longer finds it. */
static void drop_reaped(struct ck_image *img, unsigned int pass, bool *changed)
{
	for (size_t i = 1; i < img->nprocs; i++) {
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE) ||
		    img->procs[i].live->seen_pass == pass)
			continue;
		drop_proc(img, i--);
		*changed = true;
	}
}

/* Step 2 for one process; *changed when a child joined. Every child found
 * is marked seen in this pass. */
static int add_children(struct ck_image *img, size_t index, unsigned int pass, bool *changed)
{
	for (uint32_t t = 0; t < img->procs[index].nthreads; t++) {
		pid_t pid = img->procs[index].rec.pid, *kids;
		size_t n;
		int err = proc_read_children(pid, img->procs[index].threads[t].rec.tid, &kids, &n);

		if (err == -ESRCH || err == -ENOENT) {
			/* a thread on its way out: the next pass looks again */
			*changed = true;
			continue;
		}
		if (err)
			return err;
		for (size_t i = 0; i < n && !err; i++) {
			struct ck_proc probe = { .rec.pid = kids[i] },
				       *c = model_find_proc(img, kids[i]);
			pid_t tid = img->procs[index].threads[t].rec.tid;

			if (c) {
				/* the thread that forked it may have exited since */
				c->rec.parent_tid = tid != pid ? tid : 0;
				c->live->seen_pass = pass;
				continue;
			}
			err = read_state(&probe);
			if (err == -ENOENT || err == -ESRCH) { /* already reaped */
				err = 0;
				continue;
			}
			c = err ? NULL : add_proc(img, kids[i]);
			if (!err && !c)
				err = -ENOMEM;
			if (c) {
				c->live->seen_pass = pass;
				c->rec = probe.rec;
				c->rec.parent_tid = tid != pid ? tid : 0;
			}
			*changed = true;
		}
		free(kids);
		if (err)
			return err;
	}
	return 0;
}

/* The image lists the main thread (tid = pid) first. */
static int main_thread_first(struct ck_proc *p)
{
	p->rec.nthreads = p->nthreads;
	if (p->rec.flags & CKPT_PROC_ZOMBIE)
		return 0;
	for (uint32_t i = 0; i < p->nthreads; i++) {
		if (p->threads[i].rec.tid == p->rec.pid) {
			struct ck_thread main_thread = p->threads[i];

			p->threads[i] = p->threads[0];
			p->threads[0] = main_thread;
			return 0;
		}
	}
	log_err("pid %d: its main thread has exited while other threads run: not supported",
		p->rec.pid);
	return -EOPNOTSUPP;
}

/* Detaching fails (harmlessly) for a task ckpt does not trace. */
static void let_go_unseized(const struct ck_proc *p, const pid_t *tids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has_thread(p, tids[i]))
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

void freeze_let_go_started(const struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		const struct ck_proc *p = &img->procs[i];

		for (uint32_t t = 0; t < p->nthreads; t++) {
			pid_t *tids;
			size_t n;

			if (!p->threads[t].trace->rt.started_task)
				continue;
			if (!proc_list_tasks(p->rec.pid, &tids, &n)) {
				let_go_unseized(p, tids, n);
				free(tids);
			}
			if (!proc_read_children(p->rec.pid, p->threads[t].rec.tid, &tids, &n)) {
				let_go_unseized(p, tids, n);
				free(tids);
			}
		}
	}
}

int freeze_tree(struct ck_image *img, pid_t root)
{
	struct ck_proc *r;
	int err, pass;

	r = add_proc(img, root);
	if (!r)
		return -ENOMEM;
	r->rec.flags = CKPT_PROC_ROOT;
	err = read_state(r);
	if (err == -ENOENT)
		err = -ESRCH;
	if (!err && r->rec.flags & CKPT_PROC_ZOMBIE) {
		log_err("pid %d: has exited (a zombie): nothing to checkpoint", root);
		return -ESRCH;
	}
	for (pass = 0; !err && pass < MAX_PASSES; pass++) {
		bool changed = false;

		for (size_t i = 0; i < img->nprocs && !err; i++) {
			err = seize_threads(&img->procs[i], &changed);
			if (err == -ESRCH && i > 0) {
				/* a descendant vanished: drop it, its children are
				 * found again where they went */
				drop_proc(img, i--);
				err = 0;
				continue;
			}
			if (!err)
				err = add_children(img, i, (unsigned int)pass + 1, &changed);
		}
		if (!err)
			drop_reaped(img, (unsigned int)pass + 1, &changed);
		if (!changed)
			break;
	}
	if (err == -ESRCH)
		log_err("pid %d: no such process", root);
	else if (err == -EPERM)
		log_err("pid %d: cannot trace it (already traced by a debugger, or not permitted)",
			root);
	else if (!err && pass == MAX_PASSES) {
		log_err("pid %d: the tree keeps changing (processes or threads keep appearing)",
			root);
		err = -EBUSY;
	} else if (err && err != -EOPNOTSUPP)
		log_err("pid %d: cannot freeze the tree: %s", root, strerror(-err));
	/* a process found running may have changed its group or session
	 * before it was seized: what counts is now, all frozen */
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			err = read_state(&img->procs[i]);
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = main_thread_first(&img->procs[i]);
	return err;
}
