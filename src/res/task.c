/*
 * task.c: attributes of a process that are not resources of their own:
 * personality, no_new_privs, the child-subreaper flag, the dumpable flag and
 * oom_score_adj. Personality and no_new_privs belong to each thread; they
 * must be the same in every thread (or the checkpoint is refused) and each
 * restored thread sets them on itself. The dumpable flag is reset by any
 * thread's credential change, so ckpt sets it once every thread has run its
 * list, with oom_score_adj.
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

/* Personality and no_new_privs of every thread are the main thread's. */
static int same_in_threads(struct ck_proc *p)
{
	for (uint32_t i = 1; i < p->nthreads; i++) {
		const struct ck_thread *t = &p->threads[i];
		struct proc_status st;
		uint32_t pers;
		int err = read_personality(p->rec.pid, t->rec.tid, &pers);

		if (!err)
			err = proc_read_status(p->rec.pid, t->rec.tid, &st);
		if (err)
			return err;
		proc_status_release(&st);
		if (pers != p->task.personality ||
		    !st.no_new_privs != !(p->task.flags & CKPT_TASK_NO_NEW_PRIVS)) {
			log_err("pid %d tid %d: its personality or no_new_privs differ from its "
				"process's: not supported",
				p->rec.pid, t->rec.tid);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Asked in this order: dumpable, then the subreaper flag */
static int ask(struct res_asks *a, struct ck_proc *p)
{
	int err = res_ask(a, SYS_prctl, (long[6]){ PR_GET_DUMPABLE });

	(void)p;
	return err ? err
		   : res_ask_buf(a, sizeof(int32_t), 1, SYS_prctl,
				 (long[6]){ PR_GET_CHILD_SUBREAPER });
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
	    k->oom_score_adj < -1000 || k->oom_score_adj > 1000)
		return res_bad(type, "is malformed");
	p->task = *k;
	p->have |= 1U << CK_HAVE_TASK;
	return 0;
}

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct proc_status st;
	bool can_lower;
	int err;

	(void)ctx;
	if (p->task.oom_score_adj >= 0)
		return 0;
	err = proc_read_status(getpid(), 0, &st);
	if (err)
		return err;
	can_lower = st.cap_eff & CAP_SYS_RESOURCE_BIT;
	proc_status_release(&st);
	if (can_lower)
		return 0;
	log_err("pid %d: cannot restore its oom_score_adj %d (below 0 needs CAP_SYS_RESOURCE)",
		p->rec.pid, p->task.oom_score_adj);
	return -EPERM;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	(void)ctx;
	if (phase != PLAN_SETUP || !(p->task.flags & CKPT_TASK_SUBREAPER))
		return 0;
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
