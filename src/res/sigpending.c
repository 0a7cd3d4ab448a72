/*
 * sigpending.c: signals queued and not yet delivered, process-wide and per
 * thread, with their siginfo, in queue order. Read with PTRACE_PEEKSIGINFO,
 * which does not dequeue them, so a checkpoint that leaves the process
 * running changes nothing. The new process queues them to itself while all
 * its signals are blocked: the main thread the process-wide ones, each
 * thread its own (the kernel lets a task queue an arbitrary siginfo only
 * to itself).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/ptrace.h>
#include "res/res.h"
#include "util/log.h"

#define PEEK_BATCH 32
#define MAX_QUEUED 1000000

static int peek(pid_t tid, bool shared, struct ck_sigqueue *q)
{
	uint8_t buf[PEEK_BATCH][CKPT_SIGINFO_SIZE];

	for (;;) {
		struct ptrace_peeksiginfo_args a = {
			.off = q->count,
			.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
			.nr = PEEK_BATCH,
		};
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf);

		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++) {
			int err = model_sigqueue_add(q, buf[i]);

			if (err)
				return err;
		}
		if (n < PEEK_BATCH)
			return 0;
	}
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	int err;

	(void)ctx;
	err = peek(p->threads[0].rec.tid, true, &p->shared_pending);
	if (err)
		log_err("pid %d: cannot read its pending signals: %s", p->rec.pid, strerror(-err));
	return err;
}

static int collect_thread(struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	int err;

	(void)ctx;
	err = peek(t->rec.tid, false, &t->pending);
	if (err) {
		char name[64];

		log_err("%s: cannot read its pending signals: %s",
			model_task_name(p, t, name, sizeof(name)), strerror(-err));
	}
	return err;
}

static int write_queue(struct img_writer *w, const struct ck_sigqueue *q, bool shared)
{
	struct ckpt_rec_sigpending h = { .count = q->count, .shared = shared };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = q->info, .iov_len = (size_t)q->count * CKPT_SIGINFO_SIZE },
	};

	if (!q->count)
		return 0;
	return img_write_rec(w, CKPT_REC_SIGPENDING, iov, 2);
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	return write_queue(w, &p->shared_pending, true);
}

static int write_thread(struct img_writer *w, struct ck_proc *p, struct ck_thread *t)
{
	(void)p;
	return write_queue(w, &t->pending, false);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_sigpending *h = data;
	struct ck_sigqueue *q;
	int err;

	(void)img;
	err = res_check_len(type, len, sizeof(*h),
			    len >= sizeof(*h) ? (uint64_t)h->count * CKPT_SIGINFO_SIZE : 0);
	if (err)
		return err;
	if (!p || h->shared > 1 || (!h->shared && !t) || h->count > MAX_QUEUED)
		return res_bad(type, "is misplaced or malformed");
	q = h->shared ? &p->shared_pending : &t->pending;
	if (q->count)
		return res_bad(type, "repeated");
	for (uint32_t i = 0; i < h->count; i++) {
		const uint8_t *info = (const uint8_t *)(h + 1) + (size_t)i * CKPT_SIGINFO_SIZE;
		int sig;

		memcpy(&sig, info, sizeof(sig));
		if (sig < 1 || sig > CKPT_NSIG || sig == SIGKILL || sig == SIGSTOP)
			return res_bad(type, "holds an impossible signal");
		err = model_sigqueue_add(q, info);
		if (err)
			return err;
	}
	return 0;
}

static int queue_calls(struct blob_plan *bp, struct ck_proc *p, const struct ck_sigqueue *q,
		       pid_t tid)
{
	for (uint32_t i = 0; i < q->count; i++) {
		int64_t off = plan_data(bp, q->info[i], CKPT_SIGINFO_SIZE);
		int sig, err;

		if (off < 0)
			return -ENOMEM;
		memcpy(&sig, q->info[i], sizeof(sig));
		if (tid)
			err = plan_call(bp, 0, 1U << 3, SYS_rt_tgsigqueueinfo, p->rec.pid, tid, sig,
					off, 0, 0, "queue signal %d to tid %d", sig, tid);
		else
			err = plan_call(bp, 0, 1U << 2, SYS_rt_sigqueueinfo, p->rec.pid, sig, off,
					0, 0, 0, "queue signal %d to pid %d", sig, p->rec.pid);
		if (err)
			return err;
	}
	return 0;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	(void)ctx;
	if (phase != PLAN_SETUP)
		return 0;
	return queue_calls(bp, p, &p->shared_pending, 0);
}

static int plan_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
		       struct blob_plan *bp)
{
	(void)ctx;
	return queue_calls(bp, p, &t->pending, t->rec.tid);
}

static void show_queue(struct show_ctx *s, const char *key, const struct ck_sigqueue *q)
{
	if (!q->count)
		return;
	show_list_begin(s, key);
	for (uint32_t i = 0; i < q->count; i++) {
		int32_t f[3];

		memcpy(f, q->info[i], sizeof(f));
		show_obj_begin(s, NULL, true);
		show_i64(s, "signal", f[0]);
		show_i64(s, "code", f[2]);
		show_obj_end(s);
	}
	show_list_end(s);
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	show_queue(s, "pending_signals", &p->shared_pending);
}

static void show_thread(struct show_ctx *s, struct ck_proc *p, struct ck_thread *t)
{
	(void)p;
	show_queue(s, "pending_signals", &t->pending);
}

static const uint32_t types[] = { CKPT_REC_SIGPENDING, 0 };

const struct res_ops sigpending_ops = {
	.name = "sigpending",
	.types = types,
	.collect = collect,
	.collect_thread = collect_thread,
	.write = write_rec,
	.write_thread = write_thread,
	.read = read_rec,
	.plan = plan,
	.plan_thread = plan_thread,
	.show = show,
	.show_thread = show_thread,
};
