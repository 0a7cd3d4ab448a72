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
 * before any of its threads is seized becomes a zombie or, reaped already,
 * disappears. A tree that still changes after many passes is refused, and
 * so is a process whose main thread has exited while its other threads
 * run, one traced by another tracer, and one with a pending SIGTRAP.
 *
 * Waiting for a stop: a thread stops at once, unless the kernel holds it
 * uninterruptibly. A thread in vfork waits so until its child calls exec
 * or exits: if ckpt holds that child frozen (or the kernel attached it to
 * ckpt, CLONE_PTRACE), it is let go, to be seized afresh in a later pass.
 * A thread that has not stopped after STOP_DEADLINE_MS of waiting for it
 * alone (while nothing else is waited for: under load the clock only runs
 * for a thread that is stuck) fails the freeze, naming it; so does
 * ckpt_interrupt(). Thawing then lets it go once it stops.
 *
 * A process in a group stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) is frozen
 * like any other (the kernel puts it back in its stop when it is let go)
 * and flagged stopped in the image, with the signal that stopped it.
 */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/freeze.h"
#include "res/res.h"
#include "util/fault.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_PASSES 64
#define STOP_SLICE_MS 100 /* how often a thread slow to stop is looked at */
#define STOP_DEADLINE_MS 10000
#define VFORK_WHY ", in vfork: its child has neither called exec nor exited"

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
 * A thread in vfork (or clone with CLONE_VFORK) waits in the kernel,
 * uninterruptibly, for its child to call exec or exit: it stops only
 * then. It sleeps (state D) in a cloning call.
 */
static bool waits_in_vfork(pid_t pid, pid_t tid)
{
	struct proc_stat st;
	char path[64], *text;
	long nr;

	if (proc_read_stat(pid, tid, &st) || st.state != 'D')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (io_slurp(path, &text, NULL))
		return false;
	nr = strtol(text, NULL, 10);
	free(text);
	return nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3;
}

/* Detaching fails (harmlessly) for a task ckpt does not trace; a thread
 * of p or a process of the tree ckpt seized stays. */
static void let_go_unseized(const struct ck_image *img, const struct ck_proc *p, const pid_t *tids,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has_thread(p, tids[i]) && !model_find_proc(img, tids[i]))
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

/* The tasks thread t started while it was being seized, attached to ckpt
 * and waiting in their first stop, unless a listing took them since. */
static void let_go_started_by(const struct ck_image *img, const struct ck_proc *p,
			      const struct ck_thread *t)
{
	pid_t *tids;
	size_t n;

	if (!t->trace->rt.started_task)
		return;
	if (!proc_list_tasks(p->rec.pid, &tids, &n)) {
		let_go_unseized(img, p, tids, n);
		free(tids);
	}
	if (!proc_read_children(p->rec.pid, t->rec.tid, &tids, &n)) {
		let_go_unseized(img, p, tids, n);
		free(tids);
	}
}

/* Lets every thread of a frozen process run again; the next pass seizes
 * it afresh (or finds it gone). */
static void let_go_proc(const struct ck_image *img, struct ck_proc *q)
{
	for (uint32_t t = 0; t < q->nthreads; t++) {
		let_go_started_by(img, q, &q->threads[t]);
		remote_release(&q->threads[t].trace->rt);
		free(q->threads[t].trace);
	}
	free(q->threads);
	q->threads = NULL;
	q->nthreads = 0;
	q->live->all_seized = false;
}

/* Lets go the children of process pid that ckpt traces without having
 * them in the tree yet: attached by the kernel (CLONE_PTRACE) as they
 * were cloned, and waiting in their first stop. */
static void let_go_attached_children(const struct ck_image *img, pid_t pid)
{
	pid_t *tids, *kids;
	size_t n, nkids;

	if (proc_list_tasks(pid, &tids, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		if (proc_read_children(pid, tids[i], &kids, &nkids))
			continue;
		for (size_t k = 0; k < nkids; k++)
			if (!model_find_proc(img, kids[k]))
				ptrace(PTRACE_DETACH, kids[k], 0, 0);
		free(kids);
	}
	free(tids);
}

/* The child a vfork of p waits for is p's (or, with CLONE_PARENT, its
 * parent's): any of them ckpt holds frozen is let go, to reach its exec
 * or exit. */
static void let_go_vfork_child(struct ck_image *img, const struct ck_proc *p)
{
	let_go_attached_children(img, p->rec.pid);
	let_go_attached_children(img, p->rec.ppid);
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_proc *q = &img->procs[i];

		if (q == p || !q->nthreads ||
		    (q->rec.ppid != p->rec.pid && q->rec.ppid != p->rec.ppid))
			continue;
		log_dbg("pid %d: waits in vfork: letting pid %d go until it calls exec or exits",
			p->rec.pid, q->rec.pid);
		let_go_proc(img, q);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits until the seized thread stops: a thread in vfork once its child,
 * let go, has called exec or exited; anything else at once, or after an
 * uninterruptible sleep. One that has not stopped after STOP_DEADLINE_MS
 * (while nothing else moves: ckpt waits for this thread alone) fails the
 * freeze. */
static int await_stop(struct ck_image *img, struct ck_proc *p, struct remote_task *rt)
{
	uint64_t deadline = now_ms() + STOP_DEADLINE_MS;
	struct proc_stat st;
	bool vfork = false;
	int err;

	while ((err = remote_seize_wait(rt, STOP_SLICE_MS)) == -ETIMEDOUT) {
		if (waits_in_vfork(p->rec.pid, rt->tid)) {
			vfork = true;
			let_go_vfork_child(img, p);
		}
		if (now_ms() < deadline)
			continue;
		if (proc_read_stat(p->rec.pid, rt->tid, &st))
			st.state = '?';
		if (rt->tid == p->rec.pid)
			log_err("pid %d: did not stop within %d s (state %c%s)", p->rec.pid,
				STOP_DEADLINE_MS / 1000, st.state, vfork ? VFORK_WHY : "");
		else
			log_err("pid %d tid %d: did not stop within %d s (state %c%s)", p->rec.pid,
				rt->tid, STOP_DEADLINE_MS / 1000, st.state, vfork ? VFORK_WHY : "");
		/* a vfork that never ends is a state ckpt cannot take */
		err = vfork ? -EOPNOTSUPP : -ETIMEDOUT;
		break;
	}
	return err;
}

/* A thread ckpt cannot seize: traced by someone else, or a zombie. */
static int check_traced(struct ck_image *img, struct ck_proc *p, pid_t tid)
{
	struct proc_status st;
	pid_t tracer;

	if (proc_read_status(p->rec.pid, tid, &st))
		return 0;
	tracer = st.tracer;
	proc_status_release(&st);
	if (!tracer || tracer == getpid())
		return 0;
	if (model_find_proc(img, tracer))
		log_err("pid %d tid %d: is traced by pid %d of the tree (ptrace): not supported",
			p->rec.pid, tid, tracer);
	else
		log_err("pid %d tid %d: is traced by pid %d, outside the tree (a debugger?): "
			"not supported",
			p->rec.pid, tid, tracer);
	return -EOPNOTSUPP;
}

static int seize_thread(struct ck_image *img, struct ck_proc *p, pid_t tid)
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
	err = remote_seize_start(&n->trace->rt, tid, REMOTE_TRACECLONE);
	/* for tests: a window in which the thread, traced and not stopped yet,
	 * may clone a child the kernel attaches to ckpt (CLONE_PTRACE) */
	if (!err && fault_hit("freeze-seize-slow"))
		usleep(200000);
	if (!err)
		err = await_stop(img, p, &n->trace->rt);
	if (err && n->trace->rt.stopping) {
		/* still on its way to the stop: thawing lets it go after the rest */
		p->nthreads++;
		return err;
	}
	if (err && n->trace->rt.seized)
		remote_release(&n->trace->rt);
	if (err) {
		free(n->trace);
		n->trace = NULL;
		return err;
	}
	p->nthreads++;
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
static int seize_listed(struct ck_image *img, struct ck_proc *p, bool *changed, bool *again)
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
		err = seize_thread(img, p, tids[i]);
		if (err == -EPERM && check_traced(img, p, tids[i]))
			err = -EOPNOTSUPP;
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
static int seize_threads(struct ck_image *img, struct ck_proc *p, bool *changed)
{
	int err = 0;

	if (p->rec.flags & CKPT_PROC_ZOMBIE || p->live->all_seized)
		return 0;
	for (int round = 0; round < MAX_PASSES && !err; round++) {
		bool again = false;

		err = seize_listed(img, p, changed, &again);
		if (!err && !p->nthreads) {
			/* no thread could be seized: it exited meanwhile (and
			 * may be reaped already) */
			err = read_state(p);
			if (err == -ENOENT)
				err = -ESRCH;
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

/* A process a pass no longer finds has left the tree: a zombie its
 * parent's other threads reaped while the first ones were being frozen,
 * or a child of a process let go for a vfork, which then exited: the
 * child went to a reaper outside the tree. It is let go and dropped. */
static void drop_unseen(struct ck_image *img, unsigned int pass, bool *changed)
{
	for (size_t i = 1; i < img->nprocs; i++) {
		if (img->procs[i].live->seen_pass == pass)
			continue;
		let_go_proc(img, &img->procs[i]);
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

void freeze_let_go_started(const struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			let_go_started_by(img, &img->procs[i], &img->procs[i].threads[t]);
}

/* The root must be a process (not a thread of one), and not one whose
 * tree holds ckpt itself: ckpt would wait for its own stop. */
static int check_root(pid_t root)
{
	struct proc_status st;
	pid_t tgid = root, pid = getpid();
	int err = proc_read_status(root, 0, &st);

	/* a zombie main thread's status may not parse: read_state tells */
	if (err == -ENOENT)
		return -ESRCH;
	if (!err) {
		tgid = st.tgid;
		proc_status_release(&st);
	}
	if (tgid != root) {
		log_err("pid %d is a thread of process %d: give the process's pid", root, tgid);
		return -EINVAL;
	}
	for (int depth = 0; pid > 0 && depth < 4096; depth++) {
		struct proc_stat ps;

		if (pid == root && root == 1) {
			log_err("pid 1: is the init of ckpt's pid namespace: its tree holds every "
				"process, ckpt included");
			return -EINVAL;
		}
		if (pid == root) {
			log_err("pid %d: is an ancestor of ckpt: ckpt runs inside the tree it would "
				"freeze",
				root);
			return -EINVAL;
		}
		if (proc_read_stat(pid, 0, &ps))
			break;
		pid = ps.ppid;
	}
	return 0;
}

/* A pending SIGTRAP would be taken at restart for one of the restorer's
 * own breakpoint traps, and lost. */
static int check_pending_trap(const struct ck_proc *p)
{
	for (uint32_t t = 0; t < p->nthreads; t++) {
		struct proc_status st;
		uint64_t pending;

		if (proc_read_status(p->rec.pid, p->threads[t].rec.tid, &st))
			continue;
		pending = st.sigpnd | st.shdpnd;
		proc_status_release(&st);
		if (!(pending & (1ULL << (SIGTRAP - 1))))
			continue;
		log_err("pid %d tid %d: has a pending SIGTRAP (a breakpoint trap, or one sent): "
			"not supported",
			p->rec.pid, p->threads[t].rec.tid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* A process in a group stop (SIGSTOP, SIGTSTP...) comes back stopped: the
 * image records the wait status its stop has. */
static void note_stopped(struct ck_proc *p)
{
	for (uint32_t t = 0; t < p->nthreads; t++) {
		const struct remote_task *rt = &p->threads[t].trace->rt;

		if (!rt->group_stopped)
			continue;
		p->rec.flags |= CKPT_PROC_STOPPED;
		p->rec.exit_status = rt->stop_sig << 8 | 0x7f;
		return;
	}
}

int freeze_tree(struct ck_image *img, pid_t root)
{
	struct ck_proc *r;
	int err, pass;

	err = check_root(root);
	if (err == -ESRCH)
		log_err("pid %d: no such process", root);
	if (err)
		return err;
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
			err = is_interrupted() ? -ECANCELED
					       : seize_threads(img, &img->procs[i], &changed);
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
			drop_unseen(img, (unsigned int)pass + 1, &changed);
		if (!changed)
			break;
	}
	if (err == -ESRCH)
		log_err("pid %d: no such process", root);
	else if (err == -EPERM)
		log_err("pid %d: cannot trace it (not permitted)", root);
	else if (!err && pass == MAX_PASSES) {
		log_err("pid %d: the tree keeps changing (processes or threads keep appearing)",
			root);
		err = -EBUSY;
	} else if (err && err != -EOPNOTSUPP && err != -ETIMEDOUT && err != -ECANCELED)
		log_err("pid %d: cannot freeze the tree: %s", root, strerror(-err));
	/* a process found running may have changed its group or session
	 * before it was seized: what counts is now, all frozen */
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];

		if (p->rec.flags & CKPT_PROC_ZOMBIE)
			continue;
		err = read_state(p);
		if (err == -ENOENT || err == -ESRCH)
			log_err("pid %d: vanished while frozen (killed?)", p->rec.pid);
		if (!err)
			err = check_pending_trap(p);
		if (!err)
			note_stopped(p);
	}
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = main_thread_first(&img->procs[i]);
	return err;
}
