/*
 * sigactions.c: signal dispositions (handler, flags, restorer, mask) of a
 * process. Read with rt_sigaction run inside the frozen process, which is
 * the only place they can be read from (asked, so all in one batch);
 * restored by the new process itself while every signal is still blocked.
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

/* Every settable signal's action is asked, in signal order */
static int ask(struct res_asks *a, struct ck_proc *p)
{
	int err = 0;

	for (int sig = 1; sig <= CKPT_NSIG && !err; sig++)
		if (settable(sig))
			err = res_ask_buf(a, sizeof(p->sigact.act[0]), 2, SYS_rt_sigaction,
					  (long[6]){ sig, 0, 0, 8 });
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	unsigned int i = 0;

	for (int sig = 1; sig <= CKPT_NSIG; sig++) {
		long ret;

		if (!settable(sig))
			continue;
		ret = res_answer(ctx, p, NULL, i++, &p->sigact.act[sig - 1],
				 sizeof(p->sigact.act[0]));
		if (ret < 0) {
			log_err("pid %d: cannot read the action of signal %d: %s", p->rec.pid, sig,
				strerror((int)-ret));
			return (int)ret;
		}
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
	.ask = ask,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.plan = plan,
	.show = show,
};
