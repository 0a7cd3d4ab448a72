/*
 * timers.c: interval timers (alarm, setitimer) and POSIX timers
 * (timer_create), with the time left and the period of each, so periodic
 * timers keep firing at the same rate after restart. POSIX timers keep
 * their ids (PR_TIMER_CREATE_RESTORE_IDS), their clock, signal, value and
 * target thread. The time left is relative: the time a process spent
 * checkpointed does not count. Overrun counts are not kept.
 *
 * Restored by the blob near the end, once every thread a timer may target
 * exists.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include "res/res.h"
#include "util/compat.h"
#include "util/log.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

#define MAX_TIMERS (1U << 20)

/* The kernel's struct sigevent */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};
_Static_assert(sizeof(struct ksigevent) == 64, "sigevent size");

static const char *const itimer_names[3] = { "real", "virtual", "prof" };

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* The interval timers are asked, in the order of their numbers */
static int ask(struct res_asks *a, struct ck_proc *p)
{
	int err = 0;

	(void)p;
	for (int which = 0; which < 3 && !err; which++)
		err = res_ask_buf(a, sizeof(struct itimerval), 1, SYS_getitimer,
				  (long[6]){ which });
	return err;
}

static int collect_itimers(const struct dump_ctx *ctx, struct ck_proc *p)
{
	for (int which = 0; which < 3; which++) {
		struct itimerval v;
		long ret = res_answer(ctx, p, NULL, (unsigned int)which, &v, sizeof(v));

		if (ret < 0) {
			log_err("pid %d: cannot read its %s interval timer: %s", p->rec.pid,
				itimer_names[which], strerror((int)-ret));
			return (int)ret;
		}
		p->timers.itimer[which].interval_us =
			(int64_t)v.it_interval.tv_sec * 1000000 + v.it_interval.tv_usec;
		p->timers.itimer[which].value_us =
			(int64_t)v.it_value.tv_sec * 1000000 + v.it_value.tv_usec;
	}
	return 0;
}

static int collect_posix(struct ck_proc *p, const struct proc_timer *pt, struct ckpt_posix_timer *t)
{
	struct itimerspec its;
	long ret;
	int err;

	if ((pt->notify & ~SIGEV_THREAD_ID) == SIGEV_THREAD) {
		log_err("pid %d: POSIX timer %d: SIGEV_THREAD notification: not supported",
			p->rec.pid, pt->id);
		return -EOPNOTSUPP;
	}
	t->id = pt->id;
	t->clock = pt->clock;
	t->signo = pt->signo;
	t->notify = pt->notify;
	t->tid = pt->notify & SIGEV_THREAD_ID ? pt->target : 0;
	t->sigev_value = pt->sigev_value;
	err = res_remote(p, NULL, &ret, SYS_timer_gettime, pt->id, p->live->scratch, 0, 0, 0, 0);
	if (!err && ret < 0)
		err = (int)ret;
	if (!err)
		err = res_read_scratch(p, 0, &its, sizeof(its));
	if (!err)
		err = res_remote(p, NULL, &ret, SYS_timer_getoverrun, pt->id, 0, 0, 0, 0, 0);
	if (err) {
		log_err("pid %d: cannot read POSIX timer %d: %s", p->rec.pid, pt->id,
			strerror(-err));
		return err;
	}
	t->overrun = ret > 0 ? (int32_t)ret : 0;
	t->interval_ns = ts_ns(&its.it_interval);
	t->value_ns = ts_ns(&its.it_value);
	return 0;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	struct proc_timer *list = NULL;
	size_t n = 0;
	int err;

	err = collect_itimers(ctx, p);
	if (err)
		return err;
	err = proc_read_timers(p->rec.pid, &list, &n);
	if (err) {
		log_err("pid %d: cannot read its POSIX timers: %s", p->rec.pid, strerror(-err));
		return err;
	}
	if (n) {
		p->ptimers = calloc(n, sizeof(*p->ptimers));
		if (!p->ptimers)
			err = -ENOMEM;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = collect_posix(p, &list[i], &p->ptimers[i]);
	free(list);
	if (err)
		return err;
	p->timers.count = (uint32_t)n;
	p->have |= 1U << CK_HAVE_TIMERS;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	struct iovec iov[2] = {
		{ .iov_base = &p->timers, .iov_len = sizeof(p->timers) },
		{ .iov_base = p->ptimers, .iov_len = p->timers.count * sizeof(*p->ptimers) },
	};

	(void)img;
	return img_write_rec(w, CKPT_REC_TIMERS, iov, 2);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_timers *h = data;
	int err;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_TIMERS))
		return res_bad(type, "outside a process or repeated");
	err = res_check_len(type, len, sizeof(*h),
			    len >= sizeof(*h) ? (uint64_t)h->count * sizeof(struct ckpt_posix_timer)
					      : 0);
	if (err)
		return err;
	if (h->count > MAX_TIMERS)
		return res_bad(type, "lists too many timers");
	for (int i = 0; i < 3; i++)
		if (h->itimer[i].interval_us < 0 || h->itimer[i].value_us < 0)
			return res_bad(type, "holds a negative time");
	p->timers = *h;
	if (h->count) {
		const struct ckpt_posix_timer *src = (const void *)(h + 1);

		p->ptimers = malloc(h->count * sizeof(*p->ptimers));
		if (!p->ptimers)
			return -ENOMEM;
		memcpy(p->ptimers, src, h->count * sizeof(*p->ptimers));
		for (uint32_t i = 0; i < h->count; i++) {
			const struct ckpt_posix_timer *pt = &p->ptimers[i];
			int kind = pt->notify & ~SIGEV_THREAD_ID;

			if (pt->id < 0 || pt->interval_ns < 0 || pt->value_ns < 0 ||
			    (kind != SIGEV_SIGNAL && kind != SIGEV_NONE) || pt->signo < 0 ||
			    pt->signo > CKPT_NSIG)
				return res_bad(type, "holds a malformed timer");
		}
	}
	p->have |= 1U << CK_HAVE_TIMERS;
	return 0;
}

static int validate(struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	for (uint32_t i = 0; i < p->timers.count; i++) {
		const struct ckpt_posix_timer *pt = &p->ptimers[i];
		bool found = !(pt->notify & SIGEV_THREAD_ID);

		for (uint32_t t = 0; t < p->nthreads && !found; t++)
			found = p->threads[t].rec.tid == pt->tid;
		if (!found)
			return res_bad(CKPT_REC_TIMERS, "targets a thread the process lacks");
	}
	return 0;
}

static struct timespec ns_ts(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

static int plan_posix(struct blob_plan *bp, const struct ckpt_posix_timer *pt)
{
	struct ksigevent sev = {
		.value = pt->sigev_value, .signo = pt->signo, .notify = pt->notify, .tid = pt->tid
	};
	struct itimerspec its = { .it_interval = ns_ts(pt->interval_ns),
				  .it_value = ns_ts(pt->value_ns) };
	int32_t id = pt->id;
	int64_t sev_off = plan_data(bp, &sev, sizeof(sev));
	int64_t id_off = plan_data(bp, &id, sizeof(id));
	int64_t its_off = plan_data(bp, &its, sizeof(its));
	int err;

	if (sev_off < 0 || id_off < 0 || its_off < 0)
		return -ENOMEM;
	/* with PR_TIMER_CREATE_RESTORE_IDS, *id asks for that id */
	err = plan_call(bp, 0, (1U << 1) | (1U << 2), SYS_timer_create, pt->clock, sev_off, id_off,
			0, 0, 0, "create POSIX timer %d", pt->id);
	if (!err && (pt->value_ns || pt->interval_ns))
		err = plan_call(bp, 0, 1U << 2, SYS_timer_settime, pt->id, 0, its_off, 0, 0, 0,
				"arm POSIX timer %d", pt->id);
	return err;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	int err = 0;

	(void)ctx;
	if (phase != PLAN_FINAL)
		return 0;
	if (p->timers.count)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS,
				PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0,
				"ask for POSIX timer ids (needs Linux 6.17 or later)");
	for (uint32_t i = 0; i < p->timers.count && !err; i++)
		err = plan_posix(bp, &p->ptimers[i]);
	if (!err && p->timers.count)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS,
				PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0, 0,
				"stop asking for timer ids");
	for (int which = 0; which < 3 && !err; which++) {
		const struct ckpt_itimer *it = &p->timers.itimer[which];
		struct itimerval v = {
			.it_interval = { it->interval_us / 1000000, it->interval_us % 1000000 },
			.it_value = { it->value_us / 1000000, it->value_us % 1000000 },
		};
		int64_t off;

		if (!it->value_us)
			continue;
		off = plan_data(bp, &v, sizeof(v));
		err = off < 0 ? -ENOMEM
			      : plan_call(bp, 0, 1U << 1, SYS_setitimer, which, off, 0, 0, 0, 0,
					  "arm the %s interval timer", itimer_names[which]);
	}
	return err;
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	bool any = p->timers.count;

	(void)img;
	for (int i = 0; i < 3; i++)
		any |= p->timers.itimer[i].value_us != 0;
	if (!any)
		return;
	show_list_begin(s, "timers");
	for (int i = 0; i < 3; i++) {
		const struct ckpt_itimer *it = &p->timers.itimer[i];

		if (!it->value_us)
			continue;
		show_obj_begin(s, NULL, true);
		show_fmt(s, "itimer", "%s", itimer_names[i]);
		show_fmt(s, "left", "%.6f", it->value_us / 1e6);
		show_fmt(s, "interval", "%.6f", it->interval_us / 1e6);
		show_obj_end(s);
	}
	for (uint32_t i = 0; i < p->timers.count; i++) {
		const struct ckpt_posix_timer *pt = &p->ptimers[i];

		show_obj_begin(s, NULL, true);
		show_i64(s, "posix_timer", pt->id);
		show_i64(s, "clock", pt->clock);
		show_i64(s, "signal", pt->signo);
		if (pt->notify & SIGEV_THREAD_ID)
			show_i64(s, "thread", pt->tid);
		show_fmt(s, "left", "%.9f", pt->value_ns / 1e9);
		show_fmt(s, "interval", "%.9f", pt->interval_ns / 1e9);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t types[] = { CKPT_REC_TIMERS, 0 };

const struct res_ops timers_ops = {
	.name = "timers",
	.types = types,
	.ask = ask,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.validate = validate,
	.plan = plan,
	.show = show,
};
