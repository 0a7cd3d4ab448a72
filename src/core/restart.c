/*
 * restart.c: ckpt_restart(), the restart sequence.
 *
 *  1. Read the metadata into the model; the mark's checksum proves it
 *     intact before anything acts on it. The model is validated.
 *  2. Check this machine can take it: PIDs free, files unchanged, same
 *     special mappings, CPU state, limits (each resource's check).
 *  3. Prepare: ckpt opens every file, directory and shared memory object
 *     the tree needs. The new processes inherit them all, as temporary
 *     descriptors above any the tree uses.
 *  4. Plan: the restorer program of the whole tree, one syscall list per
 *     task (core/plan.c), placed where neither ckpt's memory nor any saved
 *     layout has anything. A process's list:
 *       [root: unregister ckpt's rseq area; install the temporaries]
 *       [setsid, if it leads a session]  memory layout      trap 1
 *       fork its children (clone3 with set_tid; each runs its own list;
 *       one a thread forked is forked by that thread, created here, whose
 *       list forks and traps first)                          trap 2
 *       descriptors, directories, mm fields, signals, threads, timers,
 *       limits, credentials                                  trap 3 (end)
 *     A zombie's list: [setsid], trap, then exit with its status. A
 *     helper (core/helpers.c) is planned as a zombie that forks the
 *     processes of its session before its trap, and is reaped by its
 *     parent's wait4, run by ckpt once it has exited.
 *  5. Create the root with clone3(set_tid) and seize it (PTRACE_O_EXITKILL:
 *     should ckpt die, so does the tree; PTRACE_O_TRACEFORK and CLONE: every
 *     task it creates is seized too). It maps the restorer area, ckpt
 *     patches the list's first call to unregister the child's own rseq, and
 *     lets it go.
 *  6. Stream the page data: shared memory objects first, then processes in
 *     tree order. A process gets its pages at trap 1; once they are all
 *     written it forks its children, which then reach their own trap 1.
 *     Then the trailer: checksum and record count. Only now is the image
 *     known to be whole.
 *  7. Process groups (setpgid, run by ckpt in each process, group leaders
 *     first); zombies exit.
 *  8. Every process runs on to the end of its list; its threads are created
 *     and run theirs.
 *  9. Finish: unmap the restorer, set FPU state and signal masks, set the
 *     saved registers (an interrupted syscall is restarted by the kernel as
 *     it would have been), detach (a process that was stopped gets SIGSTOP
 *     first, and stops again).
 *
 * A failure at any step kills every process created so far.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptrace.h>
#include "arch/x86_64/arch.h"
#include "ckpt.h"
#include "core/child.h"
#include "core/helpers.h"
#include "core/image.h"
#include "core/restart.h"
#include "res/res.h"
#include "util/fault.h"
#include "util/io.h"
#include "util/log.h"

#define ZOMBIE_WAIT_MS 2000
#define TRAP_MEMORY 1
#define TRAP_FORKED 2
#define TRAP_END 3

struct restart {
	struct rst_ctx ctx;
	struct ck_image *img;
	struct img_reader *r;
	pid_t root_pid; /* the root as ckpt sees it */
	size_t next; /* next process, in tree order, whose pages may come */
	bool created;
};

static bool is_zombie(const struct ck_proc *p)
{
	return p->rec.flags & CKPT_PROC_ZOMBIE;
}

static bool is_helper(const struct ck_proc *p)
{
	return p->rec.flags & CK_PROC_HELPER;
}

/* ---- 1. the image ---- */

static char proc_state(pid_t pid, char *comm, size_t len)
{
	struct proc_stat st;

	if (proc_read_stat(pid, 0, &st))
		return 0;
	snprintf(comm, len, "%s", st.comm);
	return st.state;
}

/* Inside a new PID namespace, PID 1 is its init's. */
static int check_pid1_free(const struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		const struct ck_proc *p = &img->procs[i];

		for (uint32_t t = 0; t < p->nthreads; t++) {
			if ((t ? p->threads[t].rec.tid : p->rec.pid) != 1)
				continue;
			log_err("pid %d: cannot restart pid 1 in a new pid namespace: its init has it",
				p->rec.pid);
			return -EEXIST;
		}
	}
	return 0;
}

static bool pid_held_by_live_process(pid_t pid)
{
	char comm[64];
	char state;

	if (kill(pid, 0) && errno == ESRCH)
		return false;
	state = proc_state(pid, comm, sizeof(comm));
	return state && state != 'Z' && state != 'X';
}

/*
 * Streaming on one machine (`checkpoint --kill -o - PID | restart -`): the
 * original keeps its PID until the whole image is written, but the pages
 * come after the point where restart needs the PID. So when a saved PID is
 * held by a live process and the image comes through a pipe, the rest of
 * the stream goes to an unnamed temporary file first and restart goes on
 * from there, checksum running as before.
 */
static int spool_if_needed(struct ck_image *img, struct img_stream *s, int *ret_spool)
{
	const char *dir = getenv("TMPDIR");
	struct stat st;
	bool held = false;
	int fd;

	for (uint32_t i = 0; i < img->nprocs && !held; i++) {
		held = pid_held_by_live_process(img->procs[i].rec.pid);
		for (uint32_t t = 1; t < img->procs[i].nthreads && !held; t++)
			held = pid_held_by_live_process(img->procs[i].threads[t].rec.tid);
	}
	if (!held || fstat(s->fd, &st) || S_ISREG(st.st_mode))
		return 0;
	fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("cannot create a temporary file to hold the image: %s", strerror(errno));
		return -errno;
	}
	log_info("a saved pid is in use: reading the rest of the image before restarting");
	for (;;) {
		ssize_t n = splice(s->fd, NULL, fd, NULL, 1 << 20, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR && !is_interrupted())
			continue;
		if (n < 0) {
			int err = errno == EINTR ? -ECANCELED : -errno;

			log_err("cannot hold the image in a temporary file: %s", strerror(-err));
			close(fd);
			return err;
		}
		if (n == 0)
			break;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -errno;
	}
	s->fd = fd;
	*ret_spool = fd;
	return 0;
}

/* ---- 2. checks on this machine ---- */

/* A saved PID (or thread ID, what) must be free. One held by a zombie about
 * to be reaped (the original, just killed by `checkpoint --kill`) is waited
 * for briefly. */
static int check_pid_free(pid_t pid, const char *what)
{
	for (int waited = 0;; waited += 10) {
		struct timespec ts = { 0, 10 * 1000000 };
		char comm[64] = "";
		char state;

		if (kill(pid, 0) && errno == ESRCH)
			return 0;
		/* no state: it went away between the two looks */
		state = proc_state(pid, comm, sizeof(comm));
		if ((state && state != 'Z' && state != 'X') || waited >= ZOMBIE_WAIT_MS) {
			log_err("%s %d: the %s is in use by '%s'", what, pid, what, comm);
			return -EEXIST;
		}
		nanosleep(&ts, NULL);
	}
}

static int check(struct rst_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];
		int err = check_pid_free(p->rec.pid, "pid");

		for (uint32_t t = 1; t < p->nthreads && !err; t++)
			err = check_pid_free(p->threads[t].rec.tid, "tid");
		for (size_t k = 0; res_table[k] && !err && !is_zombie(p); k++)
			if (res_table[k]->check)
				err = res_table[k]->check(ctx, p);
		if (err)
			return err;
	}
	return 0;
}

/* ---- 3. prepare ---- */

static int max_open_fd(void)
{
	int *fds, max = 2;
	size_t n;

	if (proc_list_fds(getpid(), &fds, &n))
		return 1024;
	for (size_t i = 0; i < n; i++)
		if (fds[i] > max)
			max = fds[i];
	free(fds);
	return max;
}

static int prepare(struct rst_ctx *ctx)
{
	int base = max_open_fd() + 1;

	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];

		p->rst = calloc(1, sizeof(*p->rst));
		if (!p->rst)
			return -ENOMEM;
		/* a zombie has no thread record, and one task all the same */
		for (uint32_t t = 0; t < (p->nthreads ? p->nthreads : 1); t++) {
			p->threads[t].trace = calloc(1, sizeof(*p->threads[t].trace));
			if (!p->threads[t].trace)
				return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];
		int err = 0;

		p->rst->list = -1;
		p->rst->parent = i ? model_find_proc(ctx->img, p->rec.ppid) : NULL;
		p->rst->forker = p->forker ? model_find_proc(ctx->img, p->forker) : p->rst->parent;
		if (p->rec.flags & CKPT_PROC_SHARES_FILES) {
			p->rst->files_shared = true;
			p->rst->parent->rst->files_shared = true;
		}
		if (is_zombie(p) && !is_helper(p) && p->rec.exit_signal != SIGCHLD)
			p->rst->parent->rst->zombie_signals = true;
		for (uint32_t t = 1; p->rec.parent_tid && t < p->rst->parent->nthreads; t++)
			if (p->rst->parent->threads[t].rec.tid == p->rec.parent_tid)
				p->rst->parent->threads[t].trace->st.forks = true;
		if (is_zombie(p))
			continue;
		for (size_t k = 0; res_table[k] && !err; k++)
			if (res_table[k]->prepare)
				err = res_table[k]->prepare(ctx, p);
		if (err)
			return err;
		for (uint32_t f = 0; f < p->nfds; f++)
			if (p->fds[f].rec.fd >= base)
				base = p->fds[f].rec.fd + 1;
	}
	/* above every descriptor of ckpt and of the tree */
	ctx->temp_base = base > max_open_fd() ? base : max_open_fd() + 1;
	return 0;
}

/* ---- 4. plan ---- */

static int plan_phase(struct rst_ctx *ctx, struct ck_proc *p, enum plan_phase phase)
{
	for (size_t k = 0; res_table[k]; k++) {
		int err = res_table[k]->plan ? res_table[k]->plan(ctx, p, &ctx->plan, phase) : 0;

		if (err)
			return err;
	}
	return 0;
}

static int plan_thread_hooks(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			     bool final)
{
	for (size_t k = 0; res_table[k]; k++) {
		const struct res_ops *ops = res_table[k];
		int err = 0;

		if (!final && ops->plan_thread)
			err = ops->plan_thread(ctx, p, t, &ctx->plan);
		if (final && ops->plan_thread_final)
			err = ops->plan_thread_final(ctx, p, t, &ctx->plan);
		if (err)
			return err;
	}
	return 0;
}

/* The root starts with ckpt's descriptors: keep the ones the tree needs as
 * the temporaries, close every other. */
static int plan_temporaries(struct rst_ctx *ctx)
{
	struct blob_plan *bp = &ctx->plan;
	int err = 0;

	for (size_t i = 0; i < ctx->ntemps && !err; i++)
		err = plan_call(bp, 0, 0, SYS_dup3, ctx->temp_src[i], ctx->temp_base + (int)i,
				O_CLOEXEC, 0, 0, 0, "keep ckpt's fd %d", ctx->temp_src[i]);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_close_range, 0, ctx->temp_base - 1, 0, 0, 0, 0,
				"close ckpt's descriptors");
	if (!err)
		err = plan_call(bp, 0, 0, SYS_close_range, ctx->temp_base + ctx->ntemps, ~0U, 0, 0,
				0, 0, "close ckpt's other descriptors");
	return err;
}

/* The signal a child's exit sends its parent: its own, but a helper's,
 * which its parent reaps with a plain wait4, is SIGCHLD. */
static int exit_signal(const struct ck_proc *child)
{
	return is_helper(child) ? SIGCHLD : child->rec.exit_signal;
}

/* clone3 of a child process (or zombie), which runs its own list, with its
 * exit signal. A helper forks its processes as children of its own parent
 * (which clone3 wants without an exit signal: the child gets the
 * helper's, SIGCHLD, which must be theirs). */
static int plan_fork(struct rst_ctx *ctx, const struct ck_proc *child)
{
	struct blob_plan *bp = &ctx->plan;
	int32_t pid = child->rec.pid;
	int64_t tid_off = plan_data(bp, &pid, sizeof(pid));
	bool by_helper = child->rst->forker != child->rst->parent;
	bool files = child->rec.flags & CKPT_PROC_SHARES_FILES;
	struct clone_args args = {
		.flags = (by_helper ? CLONE_PARENT : 0) | (files ? CLONE_FILES : 0),
		.exit_signal = by_helper ? 0 : (uint64_t)exit_signal(child),
		.stack_size = PLAN_STACK_SIZE,
		.set_tid = (uint64_t)tid_off,
		.set_tid_size = 1,
	};
	int64_t off = plan_data(bp, &args, sizeof(args));

	if (by_helper && files) {
		log_err("pid %d: a process its session's helper forks cannot have its parent's "
			"descriptor table: not supported",
			pid);
		return -EOPNOTSUPP;
	}
	if (by_helper && exit_signal(child) != SIGCHLD) {
		log_err("pid %d: exit signal %d: a process its session's helper forks signals "
			"SIGCHLD: not supported",
			pid, exit_signal(child));
		return -EOPNOTSUPP;
	}
	if (tid_off < 0 || off < 0 ||
	    plan_reloc(bp, (uint64_t)off + offsetof(struct clone_args, set_tid)) ||
	    plan_reloc_stack(bp, (uint64_t)off + offsetof(struct clone_args, stack),
			     (size_t)child->threads[0].trace->st.list))
		return -ENOMEM;
	return plan_call(bp, BLOB_THREAD, 1U << 0, SYS_clone3, off, sizeof(args), 0, 0, 0, 0,
			 "create process %d", pid);
}

/* Forks the children of p that thread tid forked (0: the main thread), or
 * every process a helper p forks. */
static int plan_forks(struct rst_ctx *ctx, const struct ck_proc *p, pid_t tid)
{
	int err = 0;

	for (uint32_t i = 0; i < ctx->img->nprocs && !err; i++) {
		const struct ck_proc *c = &ctx->img->procs[i];

		if (c->rst->forker == p && (is_helper(p) || c->rec.parent_tid == tid))
			err = plan_fork(ctx, c);
	}
	return err;
}

static int plan_zombie(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct blob_plan *bp = &ctx->plan;
	int status = p->rec.exit_status, sig = status & 0x7f;
	int err = 0;

	if (p->rec.sid == p->rec.pid)
		err = plan_call(bp, 0, 0, SYS_setsid, 0, 0, 0, 0, 0, 0, "lead a session");
	if (!err && is_helper(p))
		err = plan_forks(ctx, p, 0);
	if (!err)
		err = plan_trap(bp, "zombie waits");
	if (err)
		return err;
	if (!sig)
		return plan_call(bp, 0, 0, SYS_exit_group, (status >> 8) & 0xff, 0, 0, 0, 0, 0,
				 "exit with status %d", (status >> 8) & 0xff);
	{
		/* die from the signal, as it did (checkpoint refuses a zombie
		 * that dumped core: the bit would be lost) */
		struct rlimit no_core = { 0, 0 };
		uint64_t mask = 1ULL << (sig - 1);
		uint64_t dfl[4] = { 0 };
		int64_t core_off = plan_data(bp, &no_core, sizeof(no_core));
		int64_t mask_off = plan_data(bp, &mask, sizeof(mask));
		int64_t act_off = plan_data(bp, dfl, sizeof(dfl));

		if (core_off < 0 || mask_off < 0 || act_off < 0)
			return -ENOMEM;
		err = plan_call(bp, 0, 1U << 2, SYS_prlimit64, 0, RLIMIT_CORE, core_off, 0, 0, 0,
				"leave no core file");
		if (!err)
			err = plan_call(bp, 0, 1U << 1, SYS_rt_sigaction, sig, act_off, 0, 8, 0, 0,
					"reset signal %d", sig);
		if (!err)
			err = plan_call(bp, 0, 1U << 1, SYS_rt_sigprocmask, SIG_UNBLOCK, mask_off,
					0, 8, 0, 0, "unblock signal %d", sig);
		if (!err)
			err = plan_call(bp, 0, 0, SYS_kill, p->rec.pid, sig, 0, 0, 0, 0,
					"die from signal %d", sig);
	}
	return err;
}

/*
 * A thread of the process: its own list (the children it forked, if any,
 * and a trap; the per-thread hooks, then the final ones) and the clone3
 * that starts it, on its process's list. It shares everything else with
 * the main thread.
 */
static int plan_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	struct blob_plan *bp = &ctx->plan;
	size_t main_list = bp->cur;
	int32_t tid = t->rec.tid;
	int64_t tid_off;
	struct clone_args args = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM,
		.stack_size = PLAN_STACK_SIZE,
		.set_tid_size = 1,
	};
	int64_t off;
	int list = plan_new_list(bp), err;

	if (list < 0)
		return list;
	t->trace->st.list = list;
	plan_use_list(bp, (size_t)list);
	err = 0;
	if (t->trace->st.forks) {
		err = plan_forks(ctx, p, tid);
		if (!err)
			err = plan_trap(bp, "children forked");
	}
	if (!err)
		err = plan_thread_hooks(ctx, p, t, false);
	if (!err)
		err = plan_thread_hooks(ctx, p, t, true);
	plan_use_list(bp, main_list);
	if (err)
		return err;
	tid_off = plan_data(bp, &tid, sizeof(tid));
	args.set_tid = (uint64_t)tid_off;
	off = plan_data(bp, &args, sizeof(args));
	if (tid_off < 0 || off < 0 ||
	    plan_reloc(bp, (uint64_t)off + offsetof(struct clone_args, set_tid)) ||
	    plan_reloc_stack(bp, (uint64_t)off + offsetof(struct clone_args, stack), (size_t)list))
		return -ENOMEM;
	return plan_call(bp, BLOB_THREAD, 1U << 0, SYS_clone3, off, sizeof(args), 0, 0, 0, 0,
			 "create thread %d", tid);
}

static int plan_process(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct blob_plan *bp = &ctx->plan;
	struct ck_thread *main_thread = &p->threads[0];
	uint64_t sigchld = 1ULL << (SIGCHLD - 1);
	struct timespec zero = { 0, 0 };
	int64_t set_off, ts_off;
	int err = 0;

	plan_use_list(bp, (size_t)main_thread->trace->st.list);
	if (p->rec.flags & CKPT_PROC_ROOT) {
		/* patched once ckpt knows the child's own rseq registration */
		err = plan_call(bp, 0, 0, SYS_rseq, 0, 0, 0, 0, 0, 0,
				"unregister ckpt's rseq area");
		if (!err)
			err = plan_temporaries(ctx);
	}
	if (!err && p->rec.sid == p->rec.pid)
		err = plan_call(bp, 0, 0, SYS_setsid, 0, 0, 0, 0, 0, 0, "lead a session");
	if (!err)
		err = plan_phase(ctx, p, PLAN_MEMORY);
	if (!err)
		err = plan_trap(bp, "memory mapped");
	/* children forked by other threads than the main one are forked by
	 * that thread (their parent is the thread), created first */
	for (uint32_t i = 1; i < p->nthreads && !err; i++)
		if (p->threads[i].trace->st.forks)
			err = plan_thread(ctx, p, &p->threads[i]);
	if (!err)
		err = plan_forks(ctx, p, 0);
	if (!err)
		err = plan_trap(bp, "children forked");
	if (err)
		return err;
	/* zombies' and helpers' deaths were no news to it: forget their SIGCHLD */
	set_off = plan_data(bp, &sigchld, sizeof(sigchld));
	ts_off = plan_data(bp, &zero, sizeof(zero));
	if (set_off < 0 || ts_off < 0)
		return -ENOMEM;
	err = plan_call(bp, BLOB_MAY_FAIL, (1U << 0) | (1U << 2), SYS_rt_sigtimedwait, set_off, 0,
			ts_off, 8, 0, 0, "forget SIGCHLD");
	/* and the other exit signals of its zombies, one each (real-time
	 * signals queue once per death) */
	for (uint32_t i = 0; i < ctx->img->nprocs && p->rst->zombie_signals && !err; i++) {
		const struct ck_proc *c = &ctx->img->procs[i];
		uint64_t set;

		if (c->rst->parent != p || !is_zombie(c) || exit_signal(c) == SIGCHLD ||
		    !exit_signal(c))
			continue;
		set = 1ULL << (exit_signal(c) - 1);
		set_off = plan_data(bp, &set, sizeof(set));
		if (set_off < 0)
			return -ENOMEM;
		err = plan_call(bp, BLOB_MAY_FAIL, (1U << 0) | (1U << 2), SYS_rt_sigtimedwait,
				set_off, 0, ts_off, 8, 0, 0, "forget signal %d of zombie %d",
				exit_signal(c), c->rec.pid);
	}
	for (uint32_t i = 1; i < p->nthreads && !err; i++)
		if (!p->threads[i].trace->st.forks)
			err = plan_thread(ctx, p, &p->threads[i]);
	if (!err)
		err = plan_phase(ctx, p, PLAN_SETUP);
	if (!err)
		err = plan_thread_hooks(ctx, p, main_thread, false);
	/* a table shared with another process of the tree: ckpt closes them
	 * once every list has run (see finish) */
	if (!err && !p->rst->files_shared)
		err = plan_call(bp, 0, 0, SYS_close_range, ctx->temp_base, ~0U, 0, 0, 0, 0,
				"close the temporary descriptors");
	if (!err)
		err = plan_phase(ctx, p, PLAN_FINAL);
	if (!err)
		err = plan_thread_hooks(ctx, p, main_thread, true);
	return err;
}

/* Placed free of ckpt's own memory and of every saved layout. */
static int place(struct rst_ctx *ctx)
{
	struct proc_maps self;
	uint64_t(*busy)[2];
	size_t n = 0, cap;
	int err = proc_read_smaps(getpid(), &self);

	if (err)
		return err;
	cap = self.count + 1;
	for (uint32_t i = 0; i < ctx->img->nprocs; i++)
		cap += ctx->img->procs[i].nvmas;
	busy = malloc(cap * sizeof(*busy));
	if (!busy) {
		proc_maps_release(&self);
		return -ENOMEM;
	}
	for (size_t i = 0; i < self.count; i++) {
		busy[n][0] = self.vmas[i].start;
		busy[n++][1] = self.vmas[i].end;
	}
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		const struct ck_proc *p = &ctx->img->procs[i];

		for (uint32_t v = 0; v < p->nvmas; v++) {
			busy[n][0] = p->vmas[v].rec.start;
			busy[n++][1] = p->vmas[v].rec.end;
		}
	}
	proc_maps_release(&self);
	err = plan_place(&ctx->plan, (const uint64_t(*)[2])busy, n);
	free(busy);
	if (err)
		log_err("found no room for the restorer in the saved memory layouts");
	return err ? err : plan_build(&ctx->plan);
}

static int plan_all(struct rst_ctx *ctx)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	/* lists first, so that forks can name the lists of their children */
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		int list = plan_new_list(&ctx->plan);

		if (list < 0)
			return list;
		img->procs[i].threads[0].trace->st.list = list;
		img->procs[i].rst->list = list;
	}
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];

		if (is_zombie(p)) {
			plan_use_list(&ctx->plan, (size_t)p->rst->list);
			err = plan_zombie(ctx, p);
		} else {
			err = plan_process(ctx, p);
		}
	}
	return err ? err : place(ctx);
}

/* ---- driving the new tasks (steps 5 to 9) ---- */

static struct ck_thread *task_of(struct ck_image *img, pid_t tid, struct ck_proc **ret_p)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_proc *p = &img->procs[i];
		uint32_t n = is_zombie(p) ? 1 : p->nthreads;

		for (uint32_t t = 0; t < n; t++) {
			if (p->threads[t].trace->rt.tid == tid ||
			    (!p->threads[t].trace->st.created &&
			     (t ? p->threads[t].rec.tid : p->rec.pid) == tid)) {
				*ret_p = p;
				return &p->threads[t];
			}
		}
	}
	return NULL;
}

/* A failed call in the blob, or a signal it should not have had. */
static int blob_failed(struct restart *rs, struct ck_proc *p, struct ck_thread *t, int sig)
{
	struct blob_plan *bp = &rs->ctx.plan;
	struct blob_list hdr;
	struct blob_call c;

	if (sig != SIGTRAP) {
		struct user_regs_struct regs;

		arch_get_regs(t->trace->rt.tid, &regs);
		log_err("pid %d: the restorer got signal %d at 0x%llx", p->rec.pid, sig,
			(unsigned long long)regs.rip);
		return -EIO;
	}
	if (remote_read(t->trace->rt.tid, plan_list_addr(bp, (size_t)t->trace->st.list), &hdr,
			sizeof(hdr)))
		return -EIO;
	if (hdr.failed < 0)
		return 0;
	if (remote_read(t->trace->rt.tid,
			plan_list_addr(bp, (size_t)t->trace->st.list) + BLOB_LIST_HDR +
				(uint64_t)hdr.failed * BLOB_CALL_SIZE,
			&c, sizeof(c)))
		c.ret = -EIO;
	log_err("pid %d: cannot %s: %s", p->rec.pid,
		plan_what(bp, (size_t)t->trace->st.list, (size_t)hdr.failed),
		strerror((int)-c.ret));
	return -EIO;
}

/* One ptrace event of any task of the tree. */
static int handle_event(struct restart *rs, pid_t tid, int status)
{
	struct ck_proc *p;
	struct ck_thread *t = task_of(rs->img, tid, &p);
	int event = status >> 16;

	if (!t) {
		log_err("restart: an unknown task %d appeared", tid);
		return -EIO;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->trace->st.exited = true;
		t->trace->rt.seized = false;
		if (t->trace->st.may_exit)
			return 0;
		log_err("pid %d: the new process died while being restored (%s %d)", p->rec.pid,
			WIFEXITED(status) ? "status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
	    event == PTRACE_EVENT_CLONE)
		return ptrace(PTRACE_CONT, tid, 0, 0) ? -errno : 0;
	if (event == PTRACE_EVENT_STOP && !t->trace->st.created) {
		/* a task the blob created: it runs its list */
		t->trace->st.created = true;
		t->trace->rt.tid = tid;
		t->trace->rt.seized = true;
		if (t == &p->threads[0])
			p->rst->pid = tid;
		return ptrace(PTRACE_CONT, tid, 0, 0) ? -errno : 0;
	}
	if (event == PTRACE_EVENT_STOP) {
		t->trace->st.stopped = true;
		return 0;
	}
	if (!event && t->trace->st.may_exit) /* a zombie killing itself: pass the signal on */
		return ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(status)) ? -errno : 0;
	if (event || WSTOPSIG(status) != SIGTRAP)
		return blob_failed(rs, p, t, WSTOPSIG(status));
	t->trace->st.traps++;
	t->trace->st.stopped = true;
	return blob_failed(rs, p, t, SIGTRAP);
}

static int next_event(struct restart *rs)
{
	int status;
	pid_t tid;

	for (;;) {
		tid = waitpid(-1, &status, __WALL);
		if (tid >= 0)
			break;
		if (errno != EINTR)
			return -errno;
		if (is_interrupted())
			return -ECANCELED;
	}
	return handle_event(rs, tid, status);
}

/* Runs events until the task has reached its trap n. */
static int wait_trap(struct restart *rs, struct ck_thread *t, unsigned int n)
{
	while (t->trace->st.traps < n) {
		int err = next_event(rs);

		if (err)
			return err;
	}
	return 0;
}

static int wait_exit(struct restart *rs, struct ck_thread *t)
{
	while (!t->trace->st.exited) {
		int err = next_event(rs);

		if (err)
			return err;
	}
	return 0;
}

static int cont(struct ck_thread *t)
{
	t->trace->st.stopped = false;
	return ptrace(PTRACE_CONT, t->trace->rt.tid, 0, 0) ? -errno : 0;
}

/* A syscall ckpt runs in a task stopped at a trap of its list, which then
 * goes on with its list as if nothing happened. */
static int blob_remote(struct restart *rs, struct ck_thread *t, long *ret, long nr, long a1,
		       long a2)
{
	struct user_regs_struct saved;
	int err = arch_get_regs(t->trace->rt.tid, &saved);

	if (err)
		return err;
	t->trace->rt.regs = saved;
	t->trace->rt.syscall_ip = plan_syscall_ip(&rs->ctx.plan);
	err = remote_syscall(&t->trace->rt, ret, nr, a1, a2, 0, 0, 0, 0);
	if (!err)
		err = arch_set_regs(t->trace->rt.tid, &saved);
	t->trace->rt.regs_changed = false;
	t->trace->rt.mask_changed = false;
	return err;
}

/* ---- 5. the root ---- */

/* Seizes the root, which waits for the go, and lets it into its list. */
static int go_root(struct restart *rs, int go_fd)
{
	struct ck_proc *root = &rs->img->procs[0];
	struct ck_thread *t = &root->threads[0];
	struct ptrace_rseq_configuration cfg;
	struct blob_call c = { .nr = SYS_getpid };
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP | PTRACE_O_EXITKILL |
		    PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
	int status;

	if (ptrace(PTRACE_SEIZE, rs->root_pid, 0, opts) ||
	    ptrace(PTRACE_INTERRUPT, rs->root_pid, 0, 0))
		return -errno;
	t->trace->rt.tid = rs->root_pid;
	t->trace->rt.seized = true;
	t->trace->st.created = true;
	if (remote_wait(rs->root_pid, &status))
		return -EIO;
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, rs->root_pid, sizeof(cfg), &cfg) < 0)
		return -errno;
	if (cfg.rseq_abi_pointer) {
		c.nr = SYS_rseq;
		c.args[0] = cfg.rseq_abi_pointer;
		c.args[1] = cfg.rseq_abi_size;
		c.args[2] = 1; /* RSEQ_FLAG_UNREGISTER */
		c.args[3] = cfg.signature;
	}
	if (remote_write(rs->root_pid,
			 plan_list_addr(&rs->ctx.plan, (size_t)t->trace->st.list) + BLOB_LIST_HDR,
			 &c, sizeof(c)) ||
	    cont(t) || write(go_fd, "g", 1) != 1)
		return -EIO;
	return wait_trap(rs, t, TRAP_MEMORY);
}

static int create_root(struct restart *rs)
{
	struct ck_proc *root = &rs->img->procs[0];
	struct blob_plan *bp = &rs->ctx.plan;
	pid_t pid = root->rec.pid, self = getpid();
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};
	int report[2] = { -1, -1 }, go[2] = { -1, -1 }, err = 0, cerr;
	sigset_t all, old;
	char line[4];
	long ret;

	if (pipe2(report, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		err = -errno;
		goto out;
	}
	sigfillset(&all);
	/*
	 * A task just reaped leaves kill()'s view before its PID number is
	 * free again, so a PID found free may still be taken for a moment.
	 */
	for (int waited = 0;; waited += 5) {
		struct timespec ts = { 0, 5 * 1000000 };

		sigprocmask(SIG_SETMASK, &all, &old);
		ret = syscall(SYS_clone3, &args, sizeof(args));
		if (ret == 0) {
			close(report[0]);
			close(go[1]);
			child_main(bp, (size_t)root->rst->list, report[1], go[0], self);
		}
		cerr = ret < 0 ? errno : 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (cerr != EEXIST || waited >= ZOMBIE_WAIT_MS || !(kill(pid, 0) && errno == ESRCH))
			break;
		nanosleep(&ts, NULL);
	}
	if (ret < 0) {
		if (cerr == EEXIST)
			log_err("pid %d: the pid is in use", pid);
		else
			log_err("pid %d: cannot create the process: %s", pid, strerror(cerr));
		err = -cerr;
		goto out;
	}
	rs->root_pid = (pid_t)ret;
	root->rst->pid = (pid_t)ret;
	rs->created = true;
	close(report[1]);
	report[1] = -1;
	if (io_read_full(report[0], line, 2) != 2) {
		log_err("pid %d: cannot map the restorer at 0x%llx", pid,
			(unsigned long long)bp->base);
		err = -EIO;
		goto out;
	}
	err = go_root(rs, go[1]);
out:
	for (int k = 0; k < 2; k++) {
		if (report[k] >= 0)
			close(report[k]);
		if (go[k] >= 0)
			close(go[k]);
	}
	return err;
}

/* ---- 6. page data ---- */

/* Lets every process before index upto, in tree order, fork its children:
 * their pages are all written. */
static int release_forks(struct restart *rs, size_t upto)
{
	for (; rs->next < upto; rs->next++) {
		struct ck_proc *p = &rs->img->procs[rs->next];
		int err;

		if (is_zombie(p))
			continue;
		err = wait_trap(rs, &p->threads[0], TRAP_MEMORY);
		if (!err)
			err = cont(&p->threads[0]);
		if (err)
			return err;
		p->rst->done_pages = true;
	}
	return 0;
}

/* A process gets its pages once the root exists and every process before
 * it in tree order has forked its children. */
static int pages_ready(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct restart *rs = (struct restart *)ctx; /* ctx is its first member */
	int err = 0;

	if (p < &rs->img->procs[rs->next])
		return res_bad(CKPT_REC_PAGES, "is out of tree order");
	if (!rs->created)
		err = create_root(rs);
	if (!err)
		err = release_forks(rs, (size_t)(p - rs->img->procs));
	return err ? err : wait_trap(rs, &p->threads[0], TRAP_MEMORY);
}

/* Page data, each resource's in table order, each record to its owner. */
static int stream_pages(struct restart *rs)
{
	size_t last = 0;
	int err = 0;

	rs->ctx.pages_ready = pages_ready;
	rs->ctx.page_buf = malloc(RES_PAGE_CHUNK);
	if (!rs->ctx.page_buf)
		return -ENOMEM;
	while (!err) {
		const struct res_ops *ops;
		struct ckpt_rec_pages h;
		uint32_t type, len;
		uint64_t bytes;
		size_t k = last;

		err = img_next(rs->r, &type, &len);
		if (err || type == CKPT_REC_TRAILER)
			break;
		if (type != CKPT_REC_PAGES) {
			log_dbg("skipping a record of unknown type %u", type);
			continue;
		}
		err = res_read_pages_hdr(rs->r, len, &h, &bytes);
		if (err)
			break;
		ops = res_for_pages(h.kind, &k);
		if (!ops)
			err = res_bad(CKPT_REC_PAGES, "has an unknown kind");
		else if (k < last)
			err = res_bad(CKPT_REC_PAGES, "is out of order");
		else
			err = ops->restore_pages(&rs->ctx, rs->r, &h, bytes);
		last = k;
		if (!err && fault_hit("restart-pages"))
			err = -EIO;
	}
	free(rs->ctx.page_buf);
	rs->ctx.page_buf = NULL;
	for (size_t k = 0; res_table[k] && !err; k++)
		if (res_table[k]->check_pages)
			err = res_table[k]->check_pages(rs->img);
	return err;
}

/* ---- 7. groups and zombies ---- */

/*
 * Process groups, set by ckpt in each process stopped at its trap 2 (or a
 * zombie at its trap): group leaders first, so the groups exist when their
 * members join. The root's group, when its leader was outside the tree,
 * becomes that of the ckpt restarting it.
 */
static int set_groups(struct restart *rs)
{
	const struct ck_proc *root = &rs->img->procs[0];

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < rs->img->nprocs; i++) {
			struct ck_proc *p = &rs->img->procs[i];
			bool leader = p->rec.pgid == p->rec.pid;
			pid_t pgid = p->rec.pgid;
			long ret;
			int err;

			if (p->rec.sid == p->rec.pid || leader != (pass == 0))
				continue;
			if (leader)
				pgid = 0;
			else if (pgid == root->rec.pgid && !model_find_proc(rs->img, pgid))
				pgid = getpgrp();
			if (!pgid && !leader)
				continue; /* ckpt's group, outside its pid namespace: in it already */
			err = blob_remote(rs, &p->threads[0], &ret, SYS_setpgid, 0, pgid);
			if (!err && ret)
				err = (int)ret;
			if (err) {
				log_err("pid %d: cannot join process group %d: %s", p->rec.pid,
					p->rec.pgid, strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

/* A helper has exited: its parent reaps it before it runs again. */
static int reap_helper(struct restart *rs, const struct ck_proc *h)
{
	struct ck_proc *parent = (struct ck_proc *)h->rst->parent;
	long ret;
	int err = blob_remote(rs, &parent->threads[0], &ret, SYS_wait4, h->rec.pid, 0);

	if (!err && ret != h->rec.pid)
		err = ret < 0 ? (int)ret : -EIO;
	if (err)
		log_err("pid %d: cannot reap the helper %d: %s", parent->rec.pid, h->rec.pid,
			strerror(-err));
	return err;
}

/* 7. Process groups, then zombies (and helpers) exit. */
static int groups_and_zombies(struct restart *rs)
{
	struct ck_image *img = rs->img;
	int err = 0;

	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];

		err = wait_trap(rs, &p->threads[0], is_zombie(p) ? 1 : TRAP_FORKED);
		for (uint32_t t = 1; t < p->nthreads && !err && !is_zombie(p); t++)
			if (p->threads[t].trace->st.forks)
				err = wait_trap(rs, &p->threads[t], 1);
	}
	if (!err)
		err = set_groups(rs);
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_thread *z = &img->procs[i].threads[0];

		if (!is_zombie(&img->procs[i]))
			continue;
		z->trace->st.may_exit = true;
		err = cont(z);
		if (!err)
			err = wait_exit(rs, z);
		if (!err && is_helper(&img->procs[i]))
			err = reap_helper(rs, &img->procs[i]);
	}
	return err;
}

/* ---- 8. every list to its end ---- */

static int run_lists(struct restart *rs)
{
	struct ck_image *img = rs->img;
	int err = 0;

	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];

		for (uint32_t t = 0; t < p->nthreads && !err && !is_zombie(p); t++)
			if (t == 0 || p->threads[t].trace->st.forks)
				err = cont(&p->threads[t]);
	}
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];

		for (uint32_t t = 0; t < p->nthreads && !err && !is_zombie(p); t++)
			err = wait_trap(rs, &p->threads[t],
					t ? 1 + p->threads[t].trace->st.forks : TRAP_END);
	}
	return err;
}

/* ---- 9. finish ---- */

static int remote_in_main(struct rst_ctx *ctx, struct ck_proc *p, long *ret, long nr, long a1,
			  long a2)
{
	struct restart *rs = (struct restart *)ctx; /* ctx is its first member */

	return blob_remote(rs, &p->threads[0], ret, nr, a1, a2);
}

static int finish(struct restart *rs, struct ck_proc *p)
{
	struct blob_plan *bp = &rs->ctx.plan;
	long ret;
	int err = 0;

	for (size_t k = 0; res_table[k] && !err; k++)
		if (res_table[k]->finish)
			err = res_table[k]->finish(&rs->ctx, p);
	if (!err && p->rst->files_shared) {
		err = blob_remote(rs, &p->threads[0], &ret, SYS_close_range, rs->ctx.temp_base,
				  (long)~0U);
		if (!err && ret)
			err = (int)ret;
		if (err) {
			log_err("pid %d: cannot close the temporary descriptors: %s", p->rec.pid,
				strerror(-err));
			return err;
		}
	}
	if (!err)
		err = blob_remote(rs, &p->threads[0], &ret, SYS_munmap, (long)bp->base,
				  (long)bp->size);
	if (!err && ret)
		err = (int)ret;
	if (err) {
		log_err("pid %d: cannot unmap the restorer: %s", p->rec.pid, strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < p->nthreads; i++) {
		struct ck_thread *t = &p->threads[i];
		struct user_regs_struct regs;

		for (size_t k = 0; res_table[k]; k++) {
			err = res_table[k]->finish_thread
				      ? res_table[k]->finish_thread(&rs->ctx, p, t)
				      : 0;
			if (err)
				return err;
		}
		memcpy(&regs, &t->regs, sizeof(regs));
		arch_convert_restart_block(&regs);
		err = remote_resume_restarted(&t->trace->rt, &regs);
		if (err) {
			log_err("pid %d: cannot set its registers: %s", p->rec.pid, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int finish_all(struct restart *rs)
{
	struct ck_image *img = rs->img;
	int err = 0;

	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		if (!is_zombie(&img->procs[i]))
			err = finish(rs, &img->procs[i]);
	if (err)
		return err;
	/* a process stopped at the checkpoint stops again as it is let go:
	 * SIGSTOP waits in its queue for the first thread detached */
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (img->procs[i].rec.flags & CKPT_PROC_STOPPED)
			kill(img->procs[i].threads[0].trace->rt.tid, SIGSTOP);
	for (uint32_t i = 0; i < img->nprocs; i++)
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			remote_detach(&img->procs[i].threads[t].trace->rt);
	return 0;
}

/* ---- the sequence ---- */

/* Steps 2 to 9, once the metadata is read (step 1, restart_tree()). */
static int restore(struct restart *rs)
{
	int err = helpers_add(rs->img);

	if (!err)
		err = check(&rs->ctx); /* 2 */
	if (!err)
		err = prepare(&rs->ctx); /* 3 */
	if (!err)
		err = plan_all(&rs->ctx); /* 4 */
	if (!err && fault_hit("restart-create"))
		err = -EIO;
	if (!err)
		err = stream_pages(rs); /* 6, creating the root (5) at the first process's pages */
	if (!err && !rs->created)
		err = create_root(rs); /* 5, for an image without process pages */
	if (!err)
		err = release_forks(rs, rs->img->nprocs);
	if (!err)
		err = groups_and_zombies(rs); /* 7 */
	if (!err)
		err = run_lists(rs); /* 8 */
	if (!err && fault_hit("restart-finish"))
		err = -EIO;
	return err ? err : finish_all(rs); /* 9 */
}

static void kill_all(struct restart *rs)
{
	if (!rs->created)
		return;
	for (uint32_t i = 0; i < rs->img->nprocs; i++) {
		struct ck_thread *t = &rs->img->procs[i].threads[0];

		if (t->trace->st.created && !t->trace->st.exited)
			kill(t->trace->rt.tid, SIGKILL);
	}
	/* the tracer hears of every death; the root is also its child. A task
	 * just forked, not seen yet, shows up stopped: it goes too. */
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);

		if (tid < 0 && errno == EINTR)
			continue;
		if (tid < 0)
			break;
		if (WIFSTOPPED(status))
			kill(tid, SIGKILL);
	}
}

static void release_rst(struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_rst *r = img->procs[i].rst;

		if (!r)
			continue;
		free(r->installs);
		free(r);
		img->procs[i].rst = NULL;
	}
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int restart_tree(int in_fd, bool in_pidns, pid_t *ret_pid)
{
	struct ck_image img;
	struct restart rs = { .img = &img };
	struct img_stream s;
	struct img_reader r;
	int err, spool = -1;

	err = img_stream_read_fd(&s, in_fd);
	if (err)
		return err;
	img_reader_init(&r, &s);
	rs.r = &r;
	rs.ctx.img = &img;
	rs.ctx.remote = remote_in_main;
	plan_init(&rs.ctx.plan);
	raise_nofile();
	err = image_read_meta(&r, &img);
	if (!err && in_pidns)
		err = check_pid1_free(&img);
	if (!err)
		err = spool_if_needed(&img, &s, &spool);
	if (!err)
		err = proc_read_smaps(getpid(), &rs.ctx.self_maps);
	if (!err)
		err = restore(&rs);
	if (err) {
		kill_all(&rs);
	} else {
		*ret_pid = rs.root_pid;
		log_info("restarted %u process(es) from an image of %.1f MiB, root pid %d",
			 img.nprocs, s.offset / 1048576.0, *ret_pid);
	}
	release_rst(&img);
	plan_release(&rs.ctx.plan);
	free(rs.ctx.temp_src);
	proc_maps_release(&rs.ctx.self_maps);
	model_release(&img);
	img_reader_release(&r);
	img_stream_release(&s);
	if (spool >= 0)
		close(spool);
	return err;
}
