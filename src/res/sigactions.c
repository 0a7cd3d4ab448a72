/*
 * sigactions.c: signal dispositions (handler, flags, restorer, mask) of a
 * process. Read with rt_sigaction run inside the frozen process, which is
 * the only place they can be read from (all in one batch); restored by the new process itself
 * while every signal is still blocked.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/res.h"
#include "util/log.h"

static bool settable(int sig)
{
	return sig != SIGKILL && sig != SIGSTOP;
}

/* All in one batch: action i lands at scratch + i * its size. */
static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	struct remote_call calls[CKPT_NSIG];
	long rets[CKPT_NSIG];
	size_t n = 0, size = sizeof(p->sigact.act[0]);
	int err;

	(void)ctx;
	_Static_assert(CKPT_NSIG * sizeof(p->sigact.act[0]) <= RES_SCRATCH_DATA, "scratch");
	for (int sig = 1; sig <= CKPT_NSIG; sig++)
		if (settable(sig))
			calls[n++] = (struct remote_call){
				SYS_rt_sigaction,
				{ sig, 0, (long)(p->live->scratch + (size_t)(sig - 1) * size), 8 }
			};
	err = res_remote_batch(p, calls, n, rets);
	for (size_t i = 0; i < n && !err; i++)
		if (rets[i] < 0) {
			log_err("pid %d: cannot read the action of signal %ld: %s", p->rec.pid,
				calls[i].args[0], strerror((int)-rets[i]));
			return (int)rets[i];
		}
	if (!err)
		err = res_read_scratch(p, 0, p->sigact.act, sizeof(p->sigact.act));
	memset(&p->sigact.act[SIGKILL - 1], 0, size);
	memset(&p->sigact.act[SIGSTOP - 1], 0, size);
	if (err) {
		log_err("pid %d: cannot read its signal actions: %s", p->rec.pid, strerror(-err));
		return err;
	}
	p->have |= 1U << CK_HAVE_SIGACTIONS;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	return img_write_rec1(w, CKPT_REC_SIGACTIONS, &p->sigact, sizeof(p->sigact));
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	int err;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_SIGACTIONS))
		return res_bad(type, "outside a process or repeated");
	err = res_check_len(type, len, sizeof(p->sigact), 0);
	if (err)
		return err;
	memcpy(&p->sigact, data, sizeof(p->sigact));
	p->have |= 1U << CK_HAVE_SIGACTIONS;
	return 0;
}

/* Set while every signal is blocked, as everything else of the restore. */
static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	(void)ctx;
	if (phase != PLAN_SETUP)
		return 0;
	for (int sig = 1; sig <= CKPT_NSIG; sig++) {
		int64_t act;
		int err;

		if (!settable(sig))
			continue;
		act = plan_data(bp, &p->sigact.act[sig - 1], sizeof(p->sigact.act[0]));
		if (act < 0)
			return -ENOMEM;
		err = plan_call(bp, 0, 1U << 1, SYS_rt_sigaction, sig, act, 0, 8, 0, 0,
				"set the action of signal %d", sig);
		if (err)
			return err;
	}
	return 0;
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	show_list_begin(s, "signal_actions");
	for (int sig = 1; sig <= CKPT_NSIG; sig++) {
		const struct ckpt_sigaction *a = &p->sigact.act[sig - 1];

		if (!a->handler && !a->flags && !a->mask)
			continue;
		show_obj_begin(s, NULL, true);
		show_i64(s, "signal", sig);
		if (a->handler == (uint64_t)(uintptr_t)SIG_IGN)
			show_str(s, "action", "ignore");
		else if (a->handler == (uint64_t)(uintptr_t)SIG_DFL)
			show_str(s, "action", "default");
		else
			show_hex(s, "handler", a->handler);
		show_hex(s, "flags", a->flags);
		show_hex(s, "mask", a->mask);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t types[] = { CKPT_REC_SIGACTIONS, 0 };

const struct res_ops sigactions_ops = {
	.name = "sigactions",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.plan = plan,
	.show = show,
};
