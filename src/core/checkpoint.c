/*
 * checkpoint.c: ckpt_checkpoint(), the checkpoint sequence.
 *
 *  1. Discover and freeze: seize every thread of the target with ptrace and
 *     interrupt it (core/freeze.c: every wait for a stop has a deadline).
 *     Refuse what cannot be restarted (see tree_refuse).
 *  2. Inspect: read /proc, find a syscall instruction in the target, map a
 *     scratch page in it for remote syscall results.
 *  3. Collect: every resource fills its part of the model (res_table
 *     order). Anything unsupported is refused here, before a byte is
 *     written.
 *  4. Unmap the scratch page.
 *  5. Write the metadata: header, tree, one section per process, mark.
 *  6. Copy memory: the page data of every process and shared object.
 *  7. Write the trailer, flush (fdatasync for a file).
 *  8. Thaw (registers and signal mask back, detach: interrupted syscalls
 *     resume as the kernel would have resumed them) or, with --kill, kill
 *     the tree and wait until it is gone.
 *
 * Any failure before step 8 goes straight to thawing: the target runs on
 * as before, and the partial output has no trailer, so no restart accepts it.
 * So does ckpt_interrupt() (SIGINT, SIGTERM to the ckpt command): the waits
 * of the freeze end at once, and the steps after it do not begin.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ckpt.h"
#include "arch/x86_64/arch.h"
#include "core/freeze.h"
#include "core/image.h"
#include "res/res.h"
#include "util/fault.h"
#include "util/io.h"
#include "util/log.h"

static const char *const namespaces[] = { "mnt", "pid",	 "net",	   "ipc",
					  "uts", "user", "cgroup", "time" };
#define NNS (sizeof(namespaces) / sizeof(namespaces[0]))

/* The namespaces of process pid ("self" for ckpt), by device and inode; a
 * kind this kernel lacks stays zero. */
static int read_namespaces(const char *pid, struct stat ids[NNS])
{
	char path[64];
	int dir, err = 0;

	snprintf(path, sizeof(path), "/proc/%s/ns", pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	for (size_t i = 0; i < NNS && !err; i++) {
		memset(&ids[i], 0, sizeof(ids[i]));
		if (fstatat(dir, namespaces[i], &ids[i], 0) && errno != ENOENT)
			err = -errno;
	}
	close(dir);
	return err;
}

static int check_namespaces(pid_t pid, const struct stat own[NNS])
{
	struct stat ids[NNS];
	char name[16];
	int err;

	snprintf(name, sizeof(name), "%d", pid);
	err = read_namespaces(name, ids);
	if (err)
		log_err("pid %d: cannot read its namespaces: %s", pid, strerror(-err));
	for (size_t i = 0; i < NNS && !err; i++) {
		if (ids[i].st_ino == own[i].st_ino && ids[i].st_dev == own[i].st_dev)
			continue;
		log_err("pid %d: runs in a different %s namespace than ckpt: not supported", pid,
			namespaces[i]);
		err = -EOPNOTSUPP;
	}
	return err;
}

/*
 * A session whose leader exited, which x is in without being its parent's
 * (x was reparented): restart recreates it with a helper that takes the
 * session's id, a child of x's parent that forks x (core/helpers.c). One
 * helper serves every such process of the session, so they must share
 * their parent.
 */
static int check_dead_session(const struct ck_image *img, const struct ck_proc *x)
{
	const struct ck_proc *root = &img->procs[0];
	pid_t s = x->rec.sid;

	if (x->rec.flags & CKPT_PROC_SHARES_FILES) {
		log_err("pid %d: in session %d, whose leader exited, with its parent's descriptor "
			"table: the helper that restores it cannot share it: not supported",
			x->rec.pid, s);
		return -EOPNOTSUPP;
	}
	if (x->rec.exit_signal != SIGCHLD) {
		log_err("pid %d: in session %d, whose leader exited, with exit signal %d: the "
			"helper that restores it gives it SIGCHLD: not supported",
			x->rec.pid, s, x->rec.exit_signal);
		return -EOPNOTSUPP;
	}
	if (model_find_proc(img, s) || s == root->rec.sid || !kill(s, 0)) {
		log_err("pid %d: in session %d, neither its parent's nor its own, whose leader "
			"%s: not supported",
			x->rec.pid, s, model_find_proc(img, s) ? "left it" : "is outside the tree");
		return -EOPNOTSUPP;
	}
	for (uint32_t i = 1; i < img->nprocs; i++) {
		const struct ck_proc *y = &img->procs[i];
		const struct ck_proc *parent = model_find_proc(img, y->rec.ppid);

		if (y->rec.sid != s || y->rec.sid == y->rec.pid || y->rec.sid == parent->rec.sid)
			continue;
		if (y->rec.ppid != x->rec.ppid || y->rec.parent_tid != x->rec.parent_tid) {
			log_err("pid %d: in session %d, whose leader exited, as is pid %d, which "
				"has another parent: not supported",
				x->rec.pid, s, y->rec.pid);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* A live process of the session, to fork a helper for a group whose
 * leader exited. */
static bool session_has_process(const struct ck_image *img, pid_t sid)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (img->procs[i].rec.sid == sid && !(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			return true;
	return false;
}

/*
 * Sessions and process groups restart can rebuild: a process is in its
 * parent's session (it inherits it), leads its own (setsid), or is in one
 * whose leader exited (see above); its group is its own, that of a leader
 * in the tree, one whose leader exited (a helper leads it while its
 * members join), or the root's when the root's group leader is outside
 * the tree (the restarted tree then joins the group of the ckpt that
 * restarts it). A group or session id still taken by a process of the
 * tree that left it cannot be recreated.
 */
static int check_groups(struct ck_image *img)
{
	const struct ck_proc *root = &img->procs[0];

	for (uint32_t i = 0; i < img->nprocs; i++) {
		const struct ck_proc *x = &img->procs[i], *leader;
		pid_t g = x->rec.pgid;

		if (i > 0) {
			const struct ck_proc *parent = model_find_proc(img, x->rec.ppid);

			if (x->rec.sid != parent->rec.sid && x->rec.sid != x->rec.pid) {
				int err = check_dead_session(img, x);

				if (err)
					return err;
			}
		}
		if (g == x->rec.pid)
			continue;
		leader = model_find_proc(img, g);
		if (leader && leader->rec.pgid == g && leader->rec.sid == x->rec.sid)
			continue;
		if (!leader && g == root->rec.pgid && x->rec.sid == root->rec.sid)
			continue;
		if (!leader && kill(g, 0) &&
		    (session_has_process(img, x->rec.sid) || g == x->rec.sid))
			continue;
		log_err("pid %d: process group %d %s: not supported", x->rec.pid, g,
			leader	      ? "lost its leader, whose pid is still in the tree"
			: !kill(g, 0) ? "has its leader outside the tree"
				      : "has no leader and no process of its session in the tree");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * A thread continuing an interrupted sleep or poll through restart_syscall
 * (after a stop and continue, or a previous checkpoint) shows no sign of
 * which call it continues. Looking at it blocked in the call tells; the
 * image then records the original call, which restart can resume.
 */
static int resolve_restart(struct ck_proc *p, struct ck_thread *t)
{
	uint8_t code[ARCH_CODE_BEFORE];
	char stack[4096];
	int err;

	t->trace->restarted_nr = -1;
	if (!arch_in_restart_syscall(&t->trace->rt.regs))
		return 0;
	if (!remote_read(p->rec.pid, t->trace->rt.regs.rip - sizeof(code), code, sizeof(code))) {
		t->trace->restarted_nr = arch_restarted_call(&t->trace->rt.regs, code, NULL);
		if (t->trace->restarted_nr >= 0)
			return 0;
	}
	err = remote_probe_restart(&t->trace->rt, stack, sizeof(stack));
	if (err) {
		log_err("pid %d tid %d: cannot look into its restarted syscall: %s", p->rec.pid,
			t->trace->rt.tid, strerror(-err));
		return err;
	}
	if (!arch_in_restart_syscall(&t->trace->rt.regs))
		return 0; /* the call ended meanwhile */
	memset(code, 0, sizeof(code));
	t->trace->restarted_nr = arch_restarted_call(&t->trace->rt.regs, code, stack);
	if (t->trace->restarted_nr < 0) {
		log_err("pid %d tid %d: blocked in a syscall the kernel continues through "
			"restart_syscall, which ckpt cannot tell: not supported",
			p->rec.pid, t->trace->rt.tid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * A zombie killed by a signal comes back killed by it, but without a core
 * dump: the core dump bit of its status, which only a real dump sets, would
 * be lost.
 */
static int check_zombie(const struct ck_proc *z)
{
	int status = z->rec.exit_status;

	if (!WIFSIGNALED(status) || !WCOREDUMP(status))
		return 0;
	log_err("pid %d: zombie killed by signal %d with a core dump: its status cannot be "
		"restored: not supported",
		z->rec.pid, WTERMSIG(status));
	return -EOPNOTSUPP;
}

/* Freezes the tree and refuses what restart could not rebuild. */
static int freeze(struct ck_image *img, pid_t pid)
{
	struct stat own[NNS];
	int err;

	if (pid == getpid()) {
		log_err("pid %d: ckpt cannot checkpoint itself", pid);
		return -EINVAL;
	}
	err = freeze_tree(img, pid);
	if (!err && read_namespaces("self", own)) {
		log_err("cannot read ckpt's own namespaces");
		err = -EIO;
	}
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];

		if (p->rec.flags & CKPT_PROC_ZOMBIE) {
			err = check_zombie(p);
			continue;
		}
		err = check_namespaces(p->rec.pid, own);
		for (uint32_t t = 0; t < p->nthreads && !err; t++)
			err = resolve_restart(p, &p->threads[t]);
	}
	if (!err)
		err = check_unshared(img);
	return err ? err : check_groups(img);
}

/* A page-aligned hint for the scratch page: the first free page above
 * 1 MiB (mmap ignores a hint it cannot honour). */
static unsigned long low_free_page(const struct proc_maps *maps)
{
	unsigned long addr = 1UL << 20, ps = (unsigned long)sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < maps->count; i++) {
		if (maps->vmas[i].end <= addr)
			continue;
		if (maps->vmas[i].start >= addr + ps)
			break;
		addr = maps->vmas[i].end;
	}
	return addr;
}

static int inspect(struct ck_proc *p)
{
	struct ck_live *live = p->live;
	long ret;
	int err;

	err = proc_read_status(p->rec.pid, 0, &live->status);
	if (!err)
		err = proc_read_smaps(p->rec.pid, &live->maps);
	if (err) {
		log_err("pid %d: cannot read its /proc files: %s", p->rec.pid, strerror(-err));
		return err;
	}
	err = remote_find_syscall_ip(p->rec.pid, &live->maps, &live->syscall_ip);
	if (err) {
		log_err("pid %d: found no syscall instruction to run syscalls with", p->rec.pid);
		return err;
	}
	for (uint32_t i = 0; i < p->nthreads; i++)
		p->threads[i].trace->rt.syscall_ip = live->syscall_ip;
	/* low in the address space, so the first lines of smaps describe it */
	err = res_remote(p, NULL, &ret, SYS_mmap, low_free_page(&live->maps), RES_SCRATCH_SIZE,
			 PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!err && ret < 0 && ret > -4096)
		err = (int)ret;
	if (err) {
		log_err("pid %d: cannot map a scratch page in it: %s", p->rec.pid, strerror(-err));
		return err;
	}
	live->scratch = (unsigned long)ret;
	err = remote_write_stub(p->rec.pid, live->scratch + RES_SCRATCH_STUB);
	if (err) {
		log_err("pid %d: cannot write to its scratch page: %s", p->rec.pid, strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < p->nthreads; i++)
		p->threads[i].trace->rt.stub_ip = live->scratch + RES_SCRATCH_STUB;
	return 0;
}

static int unmap_scratch(struct ck_proc *p)
{
	long ret;
	int err;

	if (!p->live || !p->live->scratch)
		return 0;
	for (uint32_t i = 0; i < p->nthreads; i++)
		p->threads[i].trace->rt.stub_ip = 0;
	err = res_remote(p, NULL, &ret, SYS_munmap, p->live->scratch, RES_SCRATCH_SIZE, 0, 0, 0, 0);
	if (!err && ret)
		err = (int)ret;
	if (err)
		log_err("pid %d: cannot unmap the scratch page: %s", p->rec.pid, strerror(-err));
	else
		p->live->scratch = 0;
	return err;
}

static int collect(struct dump_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];
		int err;

		if (p->rec.flags & CKPT_PROC_ZOMBIE)
			continue;
		err = inspect(p);
		if (!err) {
			err = res_ask_all(ctx, p);
			if (err)
				log_err("pid %d: cannot run ckpt's queries in it: %s", p->rec.pid,
					strerror(-err));
		}
		for (size_t k = 0; res_table[k] && !err; k++) {
			const struct res_ops *ops = res_table[k];

			ctx->op = k;
			if (ops->collect)
				err = ops->collect(ctx, p);
			for (uint32_t t = 0; t < p->nthreads && !err; t++)
				if (ops->collect_thread)
					err = ops->collect_thread(ctx, p, &p->threads[t]);
		}
		res_asks_release(p);
		if (!err)
			err = unmap_scratch(p);
		if (err)
			return err;
	}
	for (size_t k = 0; res_table[k]; k++) {
		int err = res_table[k]->collect_done ? res_table[k]->collect_done(ctx) : 0;

		if (err)
			return err;
	}
	return fault_hit("checkpoint-collect") ? -EIO : 0;
}

static int write_meta(struct img_writer *w, struct ck_image *img)
{
	int err;

	image_make_header(&img->hdr);
	err = img_write_header(w, &img->hdr);
	for (uint32_t i = 0; i < img->nprocs && !err; i++)
		err = img_write_rec1(w, CKPT_REC_PROC, &img->procs[i].rec,
				     sizeof(img->procs[i].rec));
	for (uint32_t i = 0; i < img->nprocs && !err; i++) {
		struct ck_proc *p = &img->procs[i];
		struct ckpt_rec_proc_begin b = { .pid = p->rec.pid };

		if (p->rec.flags & CKPT_PROC_ZOMBIE)
			continue;
		err = img_write_rec1(w, CKPT_REC_PROC_BEGIN, &b, sizeof(b));
		for (size_t k = 0; res_table[k] && !err; k++)
			if (res_table[k]->write)
				err = res_table[k]->write(w, img, p);
		for (uint32_t t = 0; t < p->nthreads && !err; t++) {
			struct ck_thread *th = &p->threads[t];

			err = img_write_rec1(w, CKPT_REC_THREAD, &th->rec, sizeof(th->rec));
			for (size_t k = 0; res_table[k] && !err; k++)
				if (res_table[k]->write_thread)
					err = res_table[k]->write_thread(w, p, th);
		}
	}
	if (!err)
		err = img_write_mark(w);
	return err;
}

/* Page data, each resource's in table order (shared memory objects before
 * the memory of processes: restart fills them before any process maps
 * them). */
static int dump_pages(struct dump_ctx *ctx, struct img_writer *w)
{
	int err = 0;

	if (posix_memalign(&ctx->page_buf, (size_t)sysconf(_SC_PAGESIZE), RES_PAGE_CHUNK))
		return -ENOMEM;
	for (size_t k = 0; res_table[k] && !err; k++)
		if (res_table[k]->dump_pages)
			err = res_table[k]->dump_pages(ctx, w);
	free(ctx->page_buf);
	ctx->page_buf = NULL;
	return err;
}

static int write_image(struct dump_ctx *ctx, int out_fd)
{
	struct img_stream s;
	struct img_writer w;
	struct stat st;
	int err;

	err = img_stream_write_fd(&s, out_fd);
	if (err)
		return err;
	img_writer_init(&w, &s);
	err = write_meta(&w, ctx->img);
	if (!err && fault_hit("checkpoint-pages"))
		err = -EIO;
	if (!err)
		err = dump_pages(ctx, &w);
	if (!err && fault_hit("checkpoint-trailer"))
		err = -EIO;
	if (!err)
		err = img_write_trailer(&w);
	if (!err && !fstat(out_fd, &st) && S_ISREG(st.st_mode) && fdatasync(out_fd))
		err = -errno;
	if (err && err != -ECANCELED && err != -EOPNOTSUPP)
		log_err("cannot write the image: %s", strerror(-err));
	img_stream_release(&s);
	return err;
}

static void release_live(struct ck_proc *p)
{
	if (!p->live)
		return;
	proc_status_release(&p->live->status);
	proc_maps_release(&p->live->maps);
	res_asks_release(p);
	free(p->live->runs);
	free(p->live->data);
	free(p->live);
	p->live = NULL;
}

/* Lets every thread go exactly as it was: the stopped ones first, then
 * any that never stopped (one waiting in vfork for a child just let go). */
static int thaw(struct ck_image *img)
{
	int ret = 0;

	freeze_let_go_started(img);
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < img->nprocs; i++) {
			struct ck_proc *p = &img->procs[i];

			if (!round && p->live && p->live->scratch && p->threads[0].trace->rt.seized)
				unmap_scratch(p);
			for (uint32_t t = 0; t < p->nthreads; t++) {
				struct remote_task *rt = &p->threads[t].trace->rt;
				int err;

				if (rt->stopping != (round == 1))
					continue;
				err = remote_release(rt);
				if (err == -ETIMEDOUT)
					log_err("pid %d tid %d: never stopped: it stays attached to ckpt "
						"until ckpt exits",
						p->rec.pid, rt->tid);
				else if (err && err != -ESRCH)
					log_err("pid %d tid %d: cannot resume it: %s", p->rec.pid,
						rt->tid, strerror(-err));
				if (err && err != -ESRCH)
					ret = err;
			}
		}
	}
	return ret;
}

static struct remote_task *seized_task(struct ck_image *img, pid_t tid)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			if (img->procs[i].threads[t].trace->rt.tid == tid &&
			    img->procs[i].threads[t].trace->rt.seized)
				return &img->procs[i].threads[t].trace->rt;
	return NULL;
}

/* Kills the tree and waits until the tracer has heard every thread die (a
 * main thread's death is reported only after its other threads'). */
static void kill_tree(struct ck_image *img)
{
	size_t alive = 0;

	for (uint32_t i = 0; i < img->nprocs; i++) {
		if (img->procs[i].rec.flags & CKPT_PROC_ZOMBIE)
			continue;
		kill(img->procs[i].rec.pid, SIGKILL);
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			alive += img->procs[i].threads[t].trace->rt.seized;
	}
	while (alive) {
		struct remote_task *rt;
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);

		if (tid < 0 && errno == EINTR)
			continue;
		if (tid < 0)
			break;
		rt = seized_task(img, tid);
		if (!rt)
			continue;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			rt->seized = false;
			alive--;
		} else {
			ptrace(PTRACE_CONT, tid, 0, 0);
		}
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void report(const struct ck_image *img, uint64_t start, uint64_t frozen)
{
	uint32_t threads = 0, vmas = 0;
	uint64_t end = now_ns();

	for (uint32_t i = 0; i < img->nprocs; i++) {
		threads += img->procs[i].nthreads;
		vmas += img->procs[i].nvmas;
	}
	log_info("checkpointed %u process(es), %u thread(s), %u memory areas, %.1f MiB of pages "
		 "in %.1f ms (frozen %.1f ms)",
		 img->nprocs, threads, vmas, img->pages * (double)sysconf(_SC_PAGESIZE) / 1048576,
		 (end - start) / 1e6, (end - frozen) / 1e6);
}

int ckpt_checkpoint(pid_t pid, int out_fd, unsigned int flags)
{
	struct ck_image img = { 0 };
	struct dump_ctx ctx = { .img = &img, .flags = flags };
	uint64_t start = now_ns(), frozen = 0;
	int err;

	objhash_init(&img.objs);
	if (flags & ~CKPT_CHECKPOINT_KILL)
		return -EINVAL;
	frozen = now_ns();
	err = freeze(&img, pid);
	if (!err && fault_hit("checkpoint-freeze"))
		err = -EIO;
	if (!err && is_interrupted())
		err = -ECANCELED;
	if (!err)
		err = collect(&ctx);
	if (!err && is_interrupted())
		err = -ECANCELED;
	if (!err)
		err = write_image(&ctx, out_fd);
	if (!err && (flags & CKPT_CHECKPOINT_KILL)) {
		kill_tree(&img);
		img.killed = true;
	} else {
		int terr = thaw(&img);

		if (!err)
			err = terr;
	}
	if (!err)
		report(&img, start, frozen);
	for (uint32_t i = 0; i < img.nprocs; i++)
		release_live(&img.procs[i]);
	model_release(&img);
	return err;
}
