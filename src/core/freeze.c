/*
 * freeze.c: finding and freezing the tree rooted at a process.
 *
 * The tree is the root and all its descendants, as their parent links are
 * now (a process reparented to a subreaper inside the tree belongs to it).
 * Freezing goes in passes until one finds nothing new:
 *
 *  1. For every process known, list its threads and seize (and interrupt)
 *     those not seized yet. A process whose every thread is stopped can
 *     neither start a thread nor fork any more.
 *  2. For every seized thread, list its children; a new one joins the tree
 *     (a zombie is recorded with its exit status, and needs no seizing).
 *
 * A thread that exits before it is seized is dropped; a process that exits
 * before any of its threads is seized becomes a zombie or disappears. A
 * tree that still changes after many passes is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/freeze.h"
#include "util/log.h"

#define MAX_PASSES 64

static struct ck_proc *add_proc(struct ck_image *img, pid_t pid)
{
	struct ck_proc *n = realloc(img->procs, (img->nprocs + 1) * sizeof(*n));

	if (!n)
		return NULL;
	img->procs = n;
	n += img->nprocs;
	memset(n, 0, sizeof(*n));
	n->rec.pid = pid;
	n->live = calloc(1, sizeof(*n->live));
	if (!n->live)
		return NULL;
	img->nprocs++;
	return n;
}

static bool has_thread(const struct ck_proc *p, pid_t tid)
{
	for (uint32_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].rec.tid == tid)
			return true;
	return false;
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
	n->rec.tid = tid;
	n->restarted_nr = -1;
	err = remote_seize(&n->rt, tid, 0);
	if (err)
		return err;
	p->nthreads++;
	if (n->rt.group_stopped) {
		log_err("pid %d: is stopped by job control (resume it first): not supported",
			p->rec.pid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Reads what /proc says of a process: zombie or not, parent, group and
 * session. */
static int read_state(struct ck_proc *p)
{
	struct proc_stat st;
	int err = proc_read_stat(p->rec.pid, 0, &st);

	if (err)
		return err;
	p->rec.ppid = st.ppid;
	p->rec.pgid = st.pgrp;
	p->rec.sid = st.session;
	if (st.state == 'Z') {
		p->rec.flags |= CKPT_PROC_ZOMBIE;
		p->rec.exit_status = st.exit_code;
	}
	return 0;
}

/* Step 1 for one process; *changed when a thread was seized. */
static int seize_threads(struct ck_proc *p, bool *changed)
{
	pid_t *tids;
	size_t n;
	int err;

	if (p->rec.flags & CKPT_PROC_ZOMBIE)
		return 0;
	err = proc_list_tasks(p->rec.pid, &tids, &n);
	if (err == -ENOENT)
		return -ESRCH;
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		if (has_thread(p, tids[i]))
			continue;
		err = seize_thread(p, tids[i]);
		if (err == -ESRCH || err == -EPERM) {
			/* gone, or a zombie thread: looked at again below */
			err = 0;
			continue;
		}
		*changed = true;
	}
	free(tids);
	if (!err && !p->nthreads) {
		/* no thread could be seized: it exited meanwhile */
		err = read_state(p);
		if (!err && !(p->rec.flags & CKPT_PROC_ZOMBIE))
			err = -ESRCH;
		*changed = true;
	}
	return err;
}

static bool in_tree(const struct ck_image *img, pid_t pid)
{
	return model_find_proc(img, pid) != NULL;
}

/* Step 2 for one process; *changed when a child joined. */
static int add_children(struct ck_image *img, size_t index, bool *changed)
{
	for (uint32_t t = 0; t < img->procs[index].nthreads; t++) {
		pid_t pid = img->procs[index].rec.pid, *kids;
		size_t n;
		int err = proc_read_children(pid, img->procs[index].threads[t].rec.tid, &kids, &n);

		if (err)
			return err;
		for (size_t i = 0; i < n && !err; i++) {
			struct ck_proc probe = { .rec.pid = kids[i] }, *c;

			if (in_tree(img, kids[i]))
				continue;
			err = read_state(&probe);
			if (err == -ENOENT) { /* already reaped */
				err = 0;
				continue;
			}
			c = err ? NULL : add_proc(img, kids[i]);
			if (!err && !c)
				err = -ENOMEM;
			if (c)
				c->rec = probe.rec;
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
				free(img->procs[i].threads);
				free(img->procs[i].live);
				memmove(&img->procs[i], &img->procs[i + 1],
					(img->nprocs - i - 1) * sizeof(img->procs[0]));
				img->nprocs--;
				i--;
				err = 0;
				continue;
			}
			if (!err)
				err = add_children(img, i, &changed);
		}
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
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = main_thread_first(&img->procs[i]);
	return err;
}
