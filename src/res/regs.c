/*
 * regs.c: the CPU state of each thread: general registers (with fs and gs
 * base) and the whole XSAVE area (x87, SSE, AVX, AVX-512, ...). The XSAVE
 * area is written back by the tracer; the general registers are the last
 * thing restart sets, when it resumes the thread (core/restart.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86_64/arch.h"
#include "res/res.h"
#include "util/log.h"

#define XSTATE_MAX (64U << 10)

_Static_assert(sizeof(struct ckpt_rec_x86_regs) == sizeof(struct user_regs_struct),
	       "register record mirrors user_regs_struct");

static int collect_thread(struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	size_t len = XSTATE_MAX;
	void *buf = malloc(len);
	int err;

	(void)ctx;
	if (!buf)
		return -ENOMEM;
	memcpy(&t->regs, &t->trace->rt.regs, sizeof(t->regs));
	if (arch_in_restart_syscall(&t->trace->rt.regs))
		t->regs.orig_rax = (uint64_t)t->trace->restarted_nr; /* the call it continues */
	t->has_regs = true;
	err = arch_get_xstate(t->rec.tid, buf, &len);
	if (err) {
		char name[64];

		log_err("%s: cannot read its FPU/vector state: %s",
			model_task_name(p, t, name, sizeof(name)), strerror(-err));
		free(buf);
		return err;
	}
	t->xstate = realloc(buf, len);
	if (!t->xstate)
		t->xstate = buf;
	t->xstate_len = (uint32_t)len;
	return 0;
}

static int write_thread(struct img_writer *w, struct ck_proc *p, struct ck_thread *t)
{
	struct ckpt_rec_x86_xstate x = { .len = t->xstate_len };
	struct iovec iov[2] = {
		{ .iov_base = &x, .iov_len = sizeof(x) },
		{ .iov_base = t->xstate, .iov_len = t->xstate_len },
	};
	int err;

	(void)p;
	err = img_write_rec1(w, CKPT_REC_X86_REGS, &t->regs, sizeof(t->regs));
	return err ? err : img_write_rec(w, CKPT_REC_X86_XSTATE, iov, 2);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	int err;

	(void)img;
	(void)p;
	if (!t)
		return res_bad(type, "outside a thread");
	if (type == CKPT_REC_X86_REGS) {
		if (t->has_regs)
			return res_bad(type, "repeated");
		err = res_check_len(type, len, sizeof(t->regs), 0);
		if (err)
			return err;
		memcpy(&t->regs, data, sizeof(t->regs));
		t->has_regs = true;
		return 0;
	}
	{
		const struct ckpt_rec_x86_xstate *x = data;

		if (t->xstate)
			return res_bad(type, "repeated");
		err = res_check_len(type, len, sizeof(*x), len >= sizeof(*x) ? x->len : 0);
		if (err)
			return err;
		if (x->len < 576 || x->len > XSTATE_MAX)
			return res_bad(type, "has an impossible size");
		t->xstate = malloc(x->len);
		if (!t->xstate)
			return -ENOMEM;
		memcpy(t->xstate, x + 1, x->len);
		t->xstate_len = x->len;
	}
	return 0;
}

static int validate(struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	for (uint32_t i = 0; i < p->nthreads; i++) {
		if (!p->threads[i].has_regs || !p->threads[i].xstate) {
			log_err("image is damaged: pid %d tid %d lacks its registers", p->rec.pid,
				p->threads[i].rec.tid);
			return -EBADMSG;
		}
	}
	return 0;
}

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	uint64_t missing = ctx->img->hdr.xfeatures & ~arch_xfeatures();

	if (missing) {
		log_err("pid %d: the image uses CPU state features 0x%llx this machine lacks",
			p->rec.pid, (unsigned long long)missing);
		return -EPROTONOSUPPORT;
	}
	for (uint32_t i = 0; i < p->nthreads; i++) {
		if (p->threads[i].xstate_len != arch_xstate_size()) {
			log_err("pid %d: the image's FPU state has %u bytes, this machine's %u",
				p->rec.pid, p->threads[i].xstate_len, arch_xstate_size());
			return -EPROTONOSUPPORT;
		}
	}
	return 0;
}

static int finish_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	int err;

	(void)ctx;
	err = arch_set_xstate(t->trace->rt.tid, t->xstate, t->xstate_len);
	if (err) {
		char name[64];

		log_err("%s: cannot set its FPU/vector state: %s",
			model_task_name(p, t, name, sizeof(name)), strerror(-err));
	}
	return err;
}

static void show_thread(struct show_ctx *s, struct ck_proc *p, struct ck_thread *t)
{
	const char *sc = NULL;
	long nr = arch_restarting_syscall((const struct user_regs_struct *)&t->regs);

	(void)p;
	show_hex(s, "ip", t->regs.rip);
	show_hex(s, "sp", t->regs.rsp);
	show_hex(s, "fs_base", t->regs.fs_base);
	if (nr >= 0) {
		sc = arch_syscall_name(nr);
		if (sc)
			show_str(s, "in_syscall", sc);
		else
			show_i64(s, "in_syscall", nr);
	}
	show_u64(s, "xstate_bytes", t->xstate_len);
}

static const uint32_t types[] = { CKPT_REC_X86_REGS, CKPT_REC_X86_XSTATE, 0 };

const struct res_ops regs_ops = {
	.name = "regs",
	.types = types,
	.collect_thread = collect_thread,
	.write_thread = write_thread,
	.read = read_rec,
	.validate = validate,
	.check = check,
	.finish_thread = finish_thread,
	.show_thread = show_thread,
};
