/*
 * sched.c: how each thread is scheduled: policy, priority and nice value
 * (sched_getattr), the CPUs it may run on, and its timer slack. Read by
 * ckpt from outside (the slack from inside); each restored thread sets them
 * on itself while still privileged. Restart fails, saying so, when this
 * machine cannot honour them (CPUs it lacks, deadline bandwidth).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "res/res.h"
#include "util/log.h"

/* The kernel's struct sched_attr (first version, 48 bytes) */
struct ksched_attr {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime;
	uint64_t deadline;
	uint64_t period;
};
_Static_assert(sizeof(struct ksched_attr) == 48, "sched_attr size");

/* SCHED_FLAG_RESET_ON_FORK and SCHED_FLAG_RECLAIM, DL_OVERRUN: the
 * flags that describe the thread rather than the call */
#define KEPT_FLAGS 0x07ULL

/* Its timer slack is asked: only the thread itself can read it */
static int ask_thread(struct res_asks *a, struct ck_proc *p, struct ck_thread *t)
{
	(void)p;
	(void)t;
	return res_ask(a, SYS_prctl, (long[6]){ PR_GET_TIMERSLACK });
}

static int collect_thread(struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	struct ckpt_rec_thread_sched *s = &t->sched;
	struct ksched_attr a = { .size = sizeof(a) };
	char name[64];
	long slack;
	int err = 0;

	model_task_name(p, t, name, sizeof(name));
	if (syscall(SYS_sched_getattr, t->rec.tid, &a, sizeof(a), 0) ||
	    syscall(SYS_sched_getaffinity, t->rec.tid, sizeof(s->affinity), s->affinity) < 0)
		err = -errno;
	slack = res_answer(ctx, p, t, 0, NULL, 0);
	if (!err && slack < 0)
		err = (int)slack;
	if (err) {
		log_err("%s: cannot read its scheduling: %s", name, strerror(-err));
		return err;
	}
	s->policy = a.policy;
	s->flags = (uint32_t)(a.flags & KEPT_FLAGS);
	s->nice = a.nice;
	s->priority = a.priority;
	s->runtime = a.runtime;
	s->deadline = a.deadline;
	s->period = a.period;
	s->timerslack_ns = (uint64_t)slack;
	t->has_sched = true;
	return 0;
}

static int write_thread(struct img_writer *w, struct ck_proc *p, struct ck_thread *t)
{
	(void)p;
	return img_write_rec1(w, CKPT_REC_THREAD_SCHED, &t->sched, sizeof(t->sched));
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	int err;

	(void)img;
	(void)p;
	if (!t || t->has_sched)
		return res_bad(type, "outside a thread or repeated");
	err = res_check_len(type, len, sizeof(t->sched), 0);
	if (err)
		return err;
	memcpy(&t->sched, data, sizeof(t->sched));
	if (t->sched.flags & ~KEPT_FLAGS || t->sched.nice < -20 || t->sched.nice > 19)
		return res_bad(type, "is malformed");
	t->has_sched = true;
	return 0;
}

static int validate(struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	for (uint32_t i = 0; i < p->nthreads; i++)
		if (!p->threads[i].has_sched)
			return res_bad(CKPT_REC_THREAD_SCHED, "is missing from a thread");
	return 0;
}

static int plan_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
		       struct blob_plan *bp)
{
	const struct ckpt_rec_thread_sched *s = &t->sched;
	struct ksched_attr a = {
		.size = sizeof(a),
		.policy = s->policy,
		.flags = s->flags,
		.nice = s->nice,
		.priority = s->priority,
		.runtime = s->runtime,
		.deadline = s->deadline,
		.period = s->period,
	};
	/* the kernel keeps a nice value under every policy but sets it only
	 * under SCHED_OTHER and SCHED_BATCH */
	struct ksched_attr fair = { .size = sizeof(fair), .policy = SCHED_OTHER, .nice = s->nice };
	int64_t a_off = plan_data(bp, &a, sizeof(a));
	int64_t fair_off = plan_data(bp, &fair, sizeof(fair));
	int64_t mask_off = plan_data(bp, s->affinity, sizeof(s->affinity));
	int err;

	(void)ctx;
	(void)p;
	if (a_off < 0 || fair_off < 0 || mask_off < 0)
		return -ENOMEM;
	err = plan_call(bp, 0, 1U << 2, SYS_sched_setaffinity, 0, sizeof(s->affinity), mask_off, 0,
			0, 0, "run tid %d on its CPUs", t->rec.tid);
	if (!err && s->policy != SCHED_OTHER && s->policy != SCHED_BATCH)
		err = plan_call(bp, 0, 1U << 1, SYS_sched_setattr, 0, fair_off, 0, 0, 0, 0,
				"set the nice value of tid %d (%d)", t->rec.tid, s->nice);
	if (!err)
		err = plan_call(bp, 0, 1U << 1, SYS_sched_setattr, 0, a_off, 0, 0, 0, 0,
				"set the scheduling of tid %d (policy %u, nice %d)", t->rec.tid,
				s->policy, s->nice);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_SET_TIMERSLACK, s->timerslack_ns, 0, 0, 0,
				0, "set the timer slack of tid %d", t->rec.tid);
	return err;
}

static void show_thread(struct show_ctx *s, struct ck_proc *p, struct ck_thread *t)
{
	const struct ckpt_rec_thread_sched *sc = &t->sched;
	unsigned int cpus = 0;

	(void)p;
	for (size_t i = 0; i < sizeof(sc->affinity); i++)
		cpus += (unsigned int)__builtin_popcount(sc->affinity[i]);
	show_obj_begin(s, "sched", true);
	show_u64(s, "policy", sc->policy);
	if (sc->priority)
		show_u64(s, "priority", sc->priority);
	show_i64(s, "nice", sc->nice);
	show_u64(s, "cpus", cpus);
	show_u64(s, "timerslack_ns", sc->timerslack_ns);
	show_obj_end(s);
}

static const uint32_t types[] = { CKPT_REC_THREAD_SCHED, 0 };

const struct res_ops sched_ops = {
	.name = "sched",
	.types = types,
	.ask_thread = ask_thread,
	.collect_thread = collect_thread,
	.write_thread = write_thread,
	.read = read_rec,
	.validate = validate,
	.plan_thread = plan_thread,
	.show_thread = show_thread,
};
