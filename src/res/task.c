/*
 * task.c: attributes of a process that are not resources of their own:
 * personality, no_new_privs, the child-subreaper flag, the dumpable flag,
 * oom_score_adj, the audit login uid and the membarrier registrations.
 * Personality, no_new_privs and the login uid belong to each thread; they
 * must be the same in every thread (or the checkpoint is refused) and each
 * restored thread sets them on itself (the login uid, which threads and
 * children inherit, the main thread sets before any is created). The
 * dumpable flag is reset by any thread's credential change, so ckpt sets
 * it once every thread has run its list, with oom_score_adj.
 *
 * The login uid is written to /proc/thread-self/loginuid by the process
 * itself (the kernel takes it from no other), needing CAP_AUDIT_CONTROL
 * once the uid it inherited is set. Writing it gives the process a new
 * audit session id: the session id is saved and shown, not restored.
 * membarrier registrations are read with MEMBARRIER_CMD_GET_REGISTRATIONS
 * (Linux 6.3) inside the frozen process; an older kernel cannot tell
 * them, and they are then taken as none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/res.h"
#include "util/io.h"
#include "util/log.h"

#define CAP_SYS_RESOURCE_BIT (1ULL << 24)
#define CAP_AUDIT_CONTROL_BIT (1ULL << 30)
#define MEMBARRIER_GET_REGISTRATIONS (1 << 9) /* newer than the headers */

static const struct {
	uint32_t bit; /* the MEMBARRIER_CMD_REGISTER_* command */
	const char *name;
} membarriers[] = {
	{ CKPT_MEMBARRIER_GLOBAL_EXPEDITED, "global_expedited" },
	{ CKPT_MEMBARRIER_PRIVATE_EXPEDITED, "private_expedited" },
	{ CKPT_MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE, "private_expedited_sync_core" },
	{ CKPT_MEMBARRIER_PRIVATE_EXPEDITED_RSEQ, "private_expedited_rseq" },
};

/* An audit number of /proc, loginuid or sessionid: unset on a kernel
 * without audit, which has no such file. */
static int read_u32(const char *path, uint32_t *ret)
{
	char *text, *end;
	unsigned long v;
	int err = io_slurp(path, &text, NULL);

	if (err == -ENOENT) {
		*ret = CKPT_AUDIT_UNSET;
		return 0;
	}
	if (err)
		return err;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || v > UINT32_MAX)
		err = -EINVAL;
	else
		*ret = (uint32_t)v;
	free(text);
	return err;
}

static int read_loginuid(pid_t pid, pid_t tid, uint32_t *ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/loginuid", pid, tid);
	return read_u32(path, ret);
}

static int read_personality(pid_t pid, pid_t tid, uint32_t *ret)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/personality", pid, tid);
	err = io_slurp(path, &text, NULL);
	if (err)
		return err;
	*ret = (uint32_t)strtoul(text, NULL, 16);
	free(text);
	return 0;
}

/* Personality, no_new_privs and login uid of every thread are the main
 * thread's. */
static int same_in_threads(struct ck_proc *p)
{
	for (uint32_t i = 1; i < p->nthreads; i++) {
		const struct ck_thread *t = &p->threads[i];
		struct proc_status st;
		uint32_t pers, loginuid;
		int err = read_personality(p->rec.pid, t->rec.tid, &pers);

		if (!err)
			err = read_loginuid(p->rec.pid, t->rec.tid, &loginuid);
		if (!err)
			err = proc_read_status(p->rec.pid, t->rec.tid, &st);
		if (err)
			return err;
		proc_status_release(&st);
		if (pers != p->task.personality || loginuid != p->task.loginuid ||
		    !st.no_new_privs != !(p->task.flags & CKPT_TASK_NO_NEW_PRIVS)) {
			log_err("pid %d tid %d: its personality, no_new_privs or audit login uid "
				"differ from its process's: not supported",
				p->rec.pid, t->rec.tid);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Asked in this order: dumpable, the subreaper flag, membarrier
 * registrations */
static int ask(struct res_asks *a, struct ck_proc *p)
{
	int err = res_ask(a, SYS_prctl, (long[6]){ PR_GET_DUMPABLE });

	(void)p;
	if (!err)
		err = res_ask_buf(a, sizeof(int32_t), 1, SYS_prctl,
				  (long[6]){ PR_GET_CHILD_SUBREAPER });
	return err ? err
		   : res_ask(a, SYS_membarrier, (long[6]){ MEMBARRIER_GET_REGISTRATIONS, 0, 0 });
}

/*
 * A process with its parent's descriptor table sets no login uid of its own
 * at restart: the descriptor it would write it through would be in a table
 * its siblings use at the same time. It must have its parent's.
 */
static int collect_audit(struct ck_image *img, struct ck_proc *p)
{
	const struct ck_proc *parent = model_find_proc(img, p->rec.ppid);
	char path[64];
	int err = read_loginuid(p->rec.pid, p->rec.pid, &p->task.loginuid);

	snprintf(path, sizeof(path), "/proc/%d/sessionid", p->rec.pid);
	if (!err)
		err = read_u32(path, &p->task.sessionid);
	if (err) {
		log_err("pid %d: cannot read its audit login uid: %s", p->rec.pid, strerror(-err));
		return err;
	}
	if (p->rec.flags & CKPT_PROC_SHARES_FILES && parent &&
	    parent->task.loginuid != p->task.loginuid) {
		log_err("pid %d: audit login uid %u, not its parent's, whose descriptor table it "
			"has: not supported",
			p->rec.pid, p->task.loginuid);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int collect_membarrier(struct dump_ctx *ctx, struct ck_proc *p)
{
	long ret = res_answer(ctx, p, NULL, 2, NULL, 0);

	if (ret == -EINVAL || ret == -ENOSYS)
		return 0; /* a kernel before 6.3 (or without membarrier) cannot tell */
	if (ret < 0) {
		log_err("pid %d: cannot read its membarrier registrations: %s", p->rec.pid,
			strerror((int)-ret));
		return (int)ret;
	}
	if ((unsigned long)ret & ~(unsigned long)CKPT_MEMBARRIER_ALL) {
		log_err("pid %d: membarrier registrations 0x%lx: unknown ones: not supported",
			p->rec.pid, ret);
		return -EOPNOTSUPP;
	}
	p->task.membarrier = (uint32_t)ret;
	return 0;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	struct ckpt_rec_task *k = &p->task;
	char path[64], *text;
	int32_t subreaper = 0;
	long ret;
	int err;

	if (p->live->status.no_new_privs)
		k->flags |= CKPT_TASK_NO_NEW_PRIVS;
	err = read_personality(p->rec.pid, p->rec.pid, &k->personality);
	ret = res_answer(ctx, p, NULL, 0, NULL, 0);
	if (!err && ret < 0)
		err = (int)ret;
	k->dumpable = (int32_t)ret;
	ret = res_answer(ctx, p, NULL, 1, &subreaper, sizeof(subreaper));
	if (!err && ret < 0)
		err = (int)ret;
	if (!err) {
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", p->rec.pid);
		err = io_slurp(path, &text, NULL);
	}
	if (err) {
		log_err("pid %d: cannot read its attributes: %s", p->rec.pid, strerror(-err));
		return err;
	}
	k->oom_score_adj = (int32_t)strtol(text, NULL, 10);
	free(text);
	if (subreaper)
		k->flags |= CKPT_TASK_SUBREAPER;
	err = collect_audit(ctx->img, p);
	if (!err)
		err = collect_membarrier(ctx, p);
	if (!err)
		err = same_in_threads(p);
	if (!err)
		p->have |= 1U << CK_HAVE_TASK;
	return err;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	return img_write_rec1(w, CKPT_REC_TASK, &p->task, sizeof(p->task));
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_task *k = data;
	int err;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_TASK))
		return res_bad(type, "outside a process or repeated");
	err = res_check_len(type, len, sizeof(*k), 0);
	if (err)
		return err;
	if (k->flags & ~CKPT_TASK_FLAGS_ALL || k->dumpable < 0 || k->dumpable > 2 ||
	    k->oom_score_adj < -1000 || k->oom_score_adj > 1000 ||
	    k->membarrier & ~CKPT_MEMBARRIER_ALL || k->pad)
		return res_bad(type, "is malformed");
	p->task = *k;
	p->have |= 1U << CK_HAVE_TASK;
	return 0;
}

/*
 * The login uid p starts with at restart: its forker's (a helper has its
 * own forker's), set before it forks; the root's is ckpt's own.
 */
static int inherited_loginuid(struct ck_image *img, const struct ck_proc *p, uint32_t *ret)
{
	const struct ck_proc *q = p;

	while (!(q->rec.flags & CKPT_PROC_ROOT)) {
		q = model_find_proc(img, q->forker ? q->forker : q->rec.ppid);
		if (!q)
			return -EINVAL;
		if (q->have & (1U << CK_HAVE_TASK)) {
			*ret = q->task.loginuid;
			return 0;
		}
	}
	return read_u32("/proc/self/loginuid", ret);
}

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct proc_status st;
	uint32_t from = CKPT_AUDIT_UNSET;
	int err = inherited_loginuid(ctx->img, p, &from);

	if (err) {
		log_err("pid %d: cannot tell the audit login uid it inherits: %s", p->rec.pid,
			strerror(-err));
		return err;
	}
	if (p->rec.flags & CKPT_PROC_SHARES_FILES && from != p->task.loginuid)
		return res_bad(CKPT_REC_TASK, "gives a process with its parent's descriptor table "
					      "a login uid of its own");
	err = proc_read_status(getpid(), 0, &st);
	if (err)
		return err;
	proc_status_release(&st);
	if (p->task.oom_score_adj < 0 && !(st.cap_eff & CAP_SYS_RESOURCE_BIT)) {
		log_err("pid %d: cannot restore its oom_score_adj %d (below 0 needs "
			"CAP_SYS_RESOURCE)",
			p->rec.pid, p->task.oom_score_adj);
		return -EPERM;
	}
	if (from != p->task.loginuid && from != CKPT_AUDIT_UNSET &&
	    !(st.cap_eff & CAP_AUDIT_CONTROL_BIT)) {
		log_err("pid %d: cannot restore its audit login uid %u (changing %u needs "
			"CAP_AUDIT_CONTROL)",
			p->rec.pid, p->task.loginuid, from);
		return -EPERM;
	}
	return 0;
}

/*
 * Memory phase, before any thread or child exists: the login uid, unless
 * it is the one the process inherits. A process here holds no descriptor
 * but the temporaries, which are above every saved one (restart.c), so
 * the file opens as descriptor 0.
 */
static int plan_loginuid(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp)
{
	static const char path[] = "/proc/thread-self/loginuid";
	uint32_t from = CKPT_AUDIT_UNSET;
	char value[16];
	int n = snprintf(value, sizeof(value), "%u", p->task.loginuid);
	int64_t path_off, value_off;
	int err = inherited_loginuid(ctx->img, p, &from);

	if (err || from == p->task.loginuid)
		return err;
	path_off = plan_data(bp, path, sizeof(path));
	value_off = plan_data(bp, value, (size_t)n);
	if (path_off < 0 || value_off < 0)
		return -ENOMEM;
	err = plan_call(bp, 0, 1U << 1, SYS_openat, (uint64_t)AT_FDCWD, path_off,
			O_WRONLY | O_CLOEXEC, 0, 0, 0, "open its audit login uid");
	if (!err)
		err = plan_call(bp, 0, 1U << 1, SYS_write, 0, value_off, n, 0, 0, 0,
				"set the audit login uid %u", p->task.loginuid);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_close, 0, 0, 0, 0, 0, 0, "close its audit login uid");
	return err;
}

static int plan_membarrier(struct ck_proc *p, struct blob_plan *bp)
{
	int err = 0;

	for (size_t i = 0; i < sizeof(membarriers) / sizeof(membarriers[0]) && !err; i++)
		if (p->task.membarrier & membarriers[i].bit)
			err = plan_call(bp, 0, 0, SYS_membarrier, membarriers[i].bit, 0, 0, 0, 0, 0,
					"register for membarrier %s", membarriers[i].name);
	return err;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	int err;

	if (phase == PLAN_MEMORY)
		return plan_loginuid(ctx, p, bp);
	if (phase != PLAN_SETUP)
		return 0;
	err = plan_membarrier(p, bp);
	if (err || !(p->task.flags & CKPT_TASK_SUBREAPER))
		return err;
	return plan_call(bp, 0, 0, SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0, 0,
			 "become a child subreaper");
}

static int plan_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
		       struct blob_plan *bp)
{
	(void)ctx;
	(void)t;
	/* personality() returns the previous persona: no error to see */
	return plan_call(bp, BLOB_MAY_FAIL, 0, SYS_personality, p->task.personality, 0, 0, 0, 0, 0,
			 "set the personality 0x%x", p->task.personality);
}

/* After the credentials, which no_new_privs would constrain. */
static int plan_thread_final(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			     struct blob_plan *bp)
{
	(void)ctx;
	(void)t;
	if (!(p->task.flags & CKPT_TASK_NO_NEW_PRIVS))
		return 0;
	return plan_call(bp, 0, 0, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0,
			 "set no_new_privs");
}

static int finish(struct rst_ctx *ctx, struct ck_proc *p)
{
	char path[64], value[16];
	long ret;
	int err, fd, n;

	err = ctx->remote(ctx, p, &ret, SYS_prctl, PR_SET_DUMPABLE, p->task.dumpable);
	if (!err && ret < 0)
		err = (int)ret;
	if (err) {
		log_err("pid %d: cannot set its dumpable flag: %s", p->rec.pid, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", p->rst->pid);
	n = snprintf(value, sizeof(value), "%d\n", p->task.oom_score_adj);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	err = fd < 0 ? -errno : io_write_full(fd, value, (size_t)n);
	if (fd >= 0)
		close(fd);
	if (err)
		log_err("pid %d: cannot set its oom_score_adj: %s", p->rec.pid, strerror(-err));
	return err;
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	const struct ckpt_rec_task *k = &p->task;

	(void)img;
	show_obj_begin(s, "task", true);
	show_hex(s, "personality", k->personality);
	show_i64(s, "dumpable", k->dumpable);
	show_i64(s, "oom_score_adj", k->oom_score_adj);
	if (k->flags & CKPT_TASK_NO_NEW_PRIVS)
		show_bool(s, "no_new_privs", true);
	if (k->flags & CKPT_TASK_SUBREAPER)
		show_bool(s, "subreaper", true);
	if (k->loginuid != CKPT_AUDIT_UNSET)
		show_u64(s, "loginuid", k->loginuid);
	if (k->sessionid != CKPT_AUDIT_UNSET)
		show_u64(s, "sessionid", k->sessionid);
	if (k->membarrier) {
		char names[128] = "";

		for (size_t i = 0; i < sizeof(membarriers) / sizeof(membarriers[0]); i++)
			if (k->membarrier & membarriers[i].bit)
				snprintf(names + strlen(names), sizeof(names) - strlen(names),
					 "%s%s", names[0] ? "," : "", membarriers[i].name);
		show_str(s, "membarrier", names);
	}
	show_obj_end(s);
}

static const uint32_t types[] = { CKPT_REC_TASK, 0 };

const struct res_ops task_ops = {
	.name = "task",
	.types = types,
	.ask = ask,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.plan = plan,
	.plan_thread = plan_thread,
	.plan_thread_final = plan_thread_final,
	.finish = finish,
	.show = show,
};
