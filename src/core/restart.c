/*
 * restart.c: ckpt_restart(), the restart sequence.
 *
 *  1. Read the metadata into the model; the mark's checksum proves it
 *     intact before anything acts on it. The model is validated.
 *  2. Check this machine can take it: PIDs free, files unchanged, same
 *     special mappings, CPU state, limits (each resource's check).
 *  3. Prepare: ckpt opens every file and creates every shared memory
 *     object the new processes will inherit (resources' prepare).
 *  4. Plan: build each process's restorer program (core/plan.c) and place
 *     it where neither ckpt's nor the saved memory layout has anything.
 *  5. Create the processes with clone3(set_tid) at their saved PIDs. Each
 *     runs core/child.c: descriptors, directories, signal actions, maps its
 *     blob, reports ready. ckpt seizes it (PTRACE_O_EXITKILL: should ckpt
 *     die, so do they), patches the blob's first call to unregister the
 *     child's own rseq area, and lets it jump into its blob.
 *  6. Phase A of the blob: ckpt's mappings go, the saved address space is
 *     mapped; the blob traps.
 *  7. Page data streams from the image straight into the processes and
 *     shared memory objects; then the trailer: checksum and record count.
 *     Only now is the image known to be whole.
 *  8. Phase B of the blob: protections, mm fields, signal queues, thread
 *     attributes, limits, credentials; the blob traps at its end.
 *  9. Finish: unmap the blob through its own syscall instruction, set FPU
 *     state and signal masks, set the saved registers (an interrupted
 *     syscall is restarted by the kernel as it would have been), detach.
 *
 * A failure at any step kills and reaps every process created so far.
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
#include "core/image.h"
#include "res/mm.h"
#include "res/res.h"
#include "util/fault.h"
#include "util/io.h"
#include "util/log.h"

#define ZOMBIE_WAIT_MS 2000

static char proc_state(pid_t pid, char *comm, size_t len)
{
	struct proc_stat st;

	if (proc_read_stat(pid, 0, &st))
		return 0;
	snprintf(comm, len, "%s", st.comm);
	return st.state;
}

/* A saved PID must be free. One held by a zombie about to be reaped (the
 * original, just killed by `checkpoint --kill`) is waited for briefly. */
static int check_pid_free(pid_t pid)
{
	for (int waited = 0;; waited += 10) {
		struct timespec ts = { 0, 10 * 1000000 };
		char comm[64] = "";
		char state;

		if (kill(pid, 0) && errno == ESRCH)
			return 0;
		state = proc_state(pid, comm, sizeof(comm));
		if ((state != 'Z' && state != 'X') || waited >= ZOMBIE_WAIT_MS) {
			log_err("pid %d: the pid is in use by '%s'", pid, comm);
			return -EEXIST;
		}
		nanosleep(&ts, NULL);
	}
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

	for (uint32_t i = 0; i < img->nprocs && !held; i++)
		held = pid_held_by_live_process(img->procs[i].rec.pid);
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

static int check(struct rst_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];
		int err = check_pid_free(p->rec.pid);

		for (size_t k = 0; res_table[k] && !err; k++)
			if (res_table[k]->check)
				err = res_table[k]->check(ctx, p);
		if (err)
			return err;
	}
	return 0;
}

static int prepare(struct rst_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];
		int err = 0, next = 3;

		p->rst = calloc(1, sizeof(*p->rst));
		if (!p->rst)
			return -ENOMEM;
		p->rst->child_err[0] = p->rst->child_err[1] = -1;
		p->rst->go[0] = p->rst->go[1] = -1;
		plan_init(&p->rst->plan);
		for (uint32_t f = 0; f < p->nfds; f++)
			if (p->fds[f].rec.fd >= next)
				next = p->fds[f].rec.fd + 1;
		p->rst->next_temp_fd = p->rst->first_temp_fd = next;
		for (size_t k = 0; res_table[k] && !err; k++)
			if (res_table[k]->prepare)
				err = res_table[k]->prepare(ctx, p);
		if (err)
			return err;
	}
	return 0;
}

static int plan_phase(struct rst_ctx *ctx, struct ck_proc *p, enum plan_phase phase)
{
	for (size_t k = 0; res_table[k]; k++) {
		int err = res_table[k]->plan ? res_table[k]->plan(ctx, p, &p->rst->plan, phase) : 0;

		if (err)
			return err;
	}
	return 0;
}

static int place(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct proc_maps self;
	uint64_t(*busy)[2];
	size_t n = 0;
	int err = proc_read_smaps(getpid(), &self);

	if (err)
		return err;
	busy = malloc((self.count + p->nvmas + 1) * sizeof(*busy));
	if (!busy) {
		proc_maps_release(&self);
		return -ENOMEM;
	}
	for (size_t i = 0; i < self.count; i++) {
		busy[n][0] = self.vmas[i].start;
		busy[n++][1] = self.vmas[i].end;
	}
	for (uint32_t i = 0; i < p->nvmas; i++) {
		busy[n][0] = p->vmas[i].rec.start;
		busy[n++][1] = p->vmas[i].rec.end;
	}
	proc_maps_release(&self);
	err = plan_place(&p->rst->plan, (const uint64_t(*)[2])busy, n);
	free(busy);
	if (err)
		log_err("pid %d: found no room for the restorer", p->rec.pid);
	(void)ctx;
	return err ? err : plan_build(&p->rst->plan);
}

static int build_plan(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_rst *r = p->rst;
	struct blob_plan *bp = &r->plan;
	int err = plan_new_list(bp);

	if (err < 0)
		return err;
	plan_use_list(bp, 0);
	/* patched once ckpt knows the child's own rseq registration */
	err = plan_call(bp, 0, 0, SYS_rseq, 0, 0, 0, 0, 0, 0, "unregister ckpt's rseq area");
	if (!err)
		err = plan_phase(ctx, p, PLAN_MEMORY);
	if (!err)
		err = plan_trap(bp, "memory mapped");
	if (!err)
		err = plan_phase(ctx, p, PLAN_SETUP);
	for (size_t k = 0; res_table[k] && !err; k++)
		if (res_table[k]->plan_thread)
			err = res_table[k]->plan_thread(ctx, p, &p->threads[0], bp);
	for (size_t i = 0; i < r->ninstalls && !err; i++)
		if (r->installs[i].fd >= r->first_temp_fd)
			err = plan_call(bp, 0, 0, SYS_close, r->installs[i].fd, 0, 0, 0, 0, 0,
					"close temporary fd %d", r->installs[i].fd);
	if (!err)
		err = plan_phase(ctx, p, PLAN_FINAL);
	for (size_t k = 0; res_table[k] && !err; k++)
		if (res_table[k]->plan_thread_final)
			err = res_table[k]->plan_thread_final(ctx, p, &p->threads[0], bp);
	return err ? err : place(ctx, p);
}

static int create(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_rst *r = p->rst;
	pid_t pid = p->rec.pid, self = getpid();
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};
	sigset_t all, old;
	long ret;
	int cerr;

	if (pipe2(r->child_err, O_CLOEXEC) || pipe2(r->go, O_CLOEXEC))
		return -errno;
	sigfillset(&all);
	/*
	 * A task just reaped leaves kill()'s view before its PID number is
	 * free again, so a PID found free may still be taken for a moment.
	 */
	for (int waited = 0;; waited += 5) {
		struct timespec ts = { 0, 5 * 1000000 };

		sigprocmask(SIG_SETMASK, &all, &old);
		ret = syscall(SYS_clone3, &args, sizeof(args));
		if (ret == 0)
			child_main(ctx, p, self);
		cerr = ret < 0 ? errno : 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (cerr != EEXIST || waited >= ZOMBIE_WAIT_MS || !(kill(pid, 0) && errno == ESRCH))
			break;
		nanosleep(&ts, NULL);
	}
	if (ret < 0) {
		if (cerr == EEXIST)
			log_err("pid %d: the pid is in use", p->rec.pid);
		else
			log_err("pid %d: cannot create the process: %s", p->rec.pid, strerror(cerr));
		return -cerr;
	}
	r->pid = (pid_t)ret;
	r->created = true;
	close(r->child_err[1]);
	close(r->go[0]);
	r->child_err[1] = r->go[0] = -1;
	return 0;
}

/* Reads the child's report: log lines, then the ready line (0) or EOF. */
static int wait_ready(struct ck_proc *p)
{
	char buf[4096];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(p->rst->child_err[0], buf + len, sizeof(buf) - 1 - len);
		char *nl;

		if (n < 0 && errno == EINTR && !is_interrupted())
			continue;
		if (n <= 0) {
			log_err("pid %d: the new process failed before restoring its memory",
				p->rec.pid);
			return n < 0 ? -errno : -EIO;
		}
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (!strcmp(buf, CHILD_READY))
				return 0;
			log_replay_line(buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0;
	}
}

static int go(struct ck_proc *p)
{
	struct ck_rst *r = p->rst;
	struct remote_task *rt = &p->threads[0].rt;
	struct ptrace_rseq_configuration cfg;
	struct blob_call c = { .nr = SYS_getpid };
	int err;

	err = wait_ready(p);
	if (!err)
		err = remote_seize(rt, r->pid, REMOTE_EXITKILL);
	if (err)
		return err;
	r->seized = true;
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, r->pid, sizeof(cfg), &cfg) < 0)
		return -errno;
	if (cfg.rseq_abi_pointer) {
		c.nr = SYS_rseq;
		c.args[0] = cfg.rseq_abi_pointer;
		c.args[1] = cfg.rseq_abi_size;
		c.args[2] = 1; /* RSEQ_FLAG_UNREGISTER */
		c.args[3] = cfg.signature;
	}
	err = remote_write(r->pid, plan_list_addr(&r->plan, 0) + BLOB_LIST_HDR, &c, sizeof(c));
	if (err)
		return err;
	if (ptrace(PTRACE_CONT, r->pid, 0, 0))
		return -errno;
	if (write(r->go[1], "g", 1) != 1)
		return -errno;
	close(r->go[1]);
	r->go[1] = -1;
	return 0;
}

/* Waits for the blob of the thread to trap and reports how it went. */
static int blob_stop(struct ck_proc *p, struct ck_thread *t, size_t list, const char *phase)
{
	struct blob_plan *bp = &p->rst->plan;
	struct blob_list hdr;
	int sig, err;

	err = remote_wait_stop(&t->rt, &sig);
	if (err == -ESRCH) {
		log_err("pid %d: the new process died while %s", p->rec.pid, phase);
		return -EIO;
	}
	if (err)
		return err;
	if (sig != SIGTRAP) {
		struct user_regs_struct regs;

		arch_get_regs(t->rt.tid, &regs);
		log_err("pid %d: the restorer got signal %d at 0x%llx while %s", p->rec.pid, sig,
			(unsigned long long)regs.rip, phase);
		return -EIO;
	}
	err = remote_read(t->rt.tid, plan_list_addr(bp, list), &hdr, sizeof(hdr));
	if (err)
		return err;
	if (hdr.failed >= 0) {
		struct blob_call c;

		err = remote_read(t->rt.tid,
				  plan_list_addr(bp, list) + BLOB_LIST_HDR +
					  (uint64_t)hdr.failed * BLOB_CALL_SIZE,
				  &c, sizeof(c));
		log_err("pid %d: cannot %s: %s", p->rec.pid,
			plan_what(bp, list, (size_t)hdr.failed),
			err ? "unknown error" : strerror((int)-c.ret));
		return -EIO;
	}
	return 0;
}

static int resume_blob(struct ck_thread *t)
{
	return ptrace(PTRACE_CONT, t->rt.tid, 0, 0) ? -errno : 0;
}

static int stream_pages(struct rst_ctx *ctx, struct img_reader *r)
{
	void *buf = malloc(mm_io_chunk());
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (!err) {
		uint32_t type, len;

		err = img_next(r, &type, &len);
		if (err)
			break;
		if (type == CKPT_REC_TRAILER)
			break;
		if (type == CKPT_REC_PAGES)
			err = mm_restore_pages(ctx, r, len, buf);
		else
			log_dbg("skipping a record of unknown type %u", type);
		if (!err && fault_hit("restart-pages"))
			err = -EIO;
	}
	free(buf);
	return err ? err : mm_check_all_pages(ctx->img);
}

static int finish(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct blob_plan *bp = &p->rst->plan;
	struct ck_thread *main_thread = &p->threads[0];
	struct remote_task *rt = &main_thread->rt;
	long ret;
	int err;

	err = arch_get_regs(rt->tid, &rt->regs);
	if (err)
		return err;
	rt->syscall_ip = plan_syscall_ip(bp);
	err = remote_syscall(rt, &ret, SYS_munmap, (long)bp->base, (long)bp->size, 0, 0, 0, 0);
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
			err = res_table[k]->finish_thread ? res_table[k]->finish_thread(ctx, p, t)
							  : 0;
			if (err)
				return err;
		}
		memcpy(&regs, &t->regs, sizeof(regs));
		arch_convert_restart_block(&regs);
		err = remote_resume_restarted(&t->rt, &regs);
		if (err) {
			log_err("pid %d: cannot set its registers: %s", p->rec.pid, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void kill_all(struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_rst *r = img->procs[i].rst;

		if (r && r->created) {
			kill(r->pid, SIGKILL);
			while (waitpid(r->pid, NULL, __WALL) < 0 && errno == EINTR)
				;
			r->created = false;
		}
	}
}

static void release_rst(struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_rst *r = img->procs[i].rst;

		if (!r)
			continue;
		for (int k = 0; k < 2; k++) {
			if (r->child_err[k] >= 0)
				close(r->child_err[k]);
			if (r->go[k] >= 0)
				close(r->go[k]);
		}
		plan_release(&r->plan);
		free(r->installs);
		free(r);
		img->procs[i].rst = NULL;
	}
}

static int restore(struct rst_ctx *ctx, struct img_reader *r)
{
	struct ck_image *img = ctx->img;
	int err = check(ctx);

	if (!err)
		err = prepare(ctx);
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = build_plan(ctx, &img->procs[i]);
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = create(ctx, &img->procs[i]);
	if (!err && fault_hit("restart-create"))
		err = -EIO;
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = go(&img->procs[i]);
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = blob_stop(&img->procs[i], &img->procs[i].threads[0], 0,
				"restoring its memory layout");
	if (!err)
		err = stream_pages(ctx, r);
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		err = resume_blob(&img->procs[i].threads[0]);
		if (!err)
			err = blob_stop(&img->procs[i], &img->procs[i].threads[0], 0,
					"restoring its state");
	}
	if (!err && fault_hit("restart-finish"))
		err = -EIO;
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = finish(ctx, &img->procs[i]);
	if (err)
		return err;
	for (uint32_t i = 0; i < img->nprocs; i++)
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			remote_detach(&img->procs[i].threads[t].rt);
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int ckpt_restart(int in_fd, unsigned int flags, pid_t *ret_pid)
{
	struct ck_image img;
	struct rst_ctx ctx = { .img = &img, .flags = flags };
	struct img_stream s;
	struct img_reader r;
	int err, spool = -1;

	if (flags)
		return -EINVAL;
	err = img_stream_read_fd(&s, in_fd);
	if (err)
		return err;
	img_reader_init(&r, &s);
	raise_nofile();
	err = image_read_meta(&r, &img);
	if (!err)
		err = spool_if_needed(&img, &s, &spool);
	if (!err)
		err = proc_read_smaps(getpid(), &ctx.self_maps);
	if (!err)
		err = restore(&ctx, &r);
	if (err) {
		kill_all(&img);
	} else {
		*ret_pid = img.procs[0].rst->pid;
		log_info("restarted %u process(es) from an image of %.1f MiB, root pid %d",
			 img.nprocs, s.offset / 1048576.0, *ret_pid);
	}
	release_rst(&img);
	proc_maps_release(&ctx.self_maps);
	model_release(&img);
	img_reader_release(&r);
	img_stream_release(&s);
	if (spool >= 0)
		close(spool);
	return err;
}
