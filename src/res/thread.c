/*
 * thread.c: attributes every thread has of its own: name, blocked signals,
 * alternate signal stack, rseq registration, robust futex list and
 * clear-child-tid address. Each restored thread sets them on itself from its
 * own blob list (they can only be set by the thread itself); the blocked
 * mask is set by the tracer as the very last step.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/ptrace.h>
#include "res/res.h"
#include "util/io.h"
#include "util/log.h"

struct kernel_stack_t {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

static int read_comm(struct ck_proc *p, struct ck_thread *t)
{
	char path[64], *text;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", p->rec.pid, t->rec.tid);
	err = io_slurp(path, &text, &len);
	if (err)
		return err;
	if (len && text[len - 1] == '\n')
		text[--len] = '\0';
	memset(t->rec.comm, 0, sizeof(t->rec.comm));
	memcpy(t->rec.comm, text, len < 15 ? len : 15);
	free(text);
	return 0;
}

/* What only the thread itself can tell (answers in this order) */
enum {
	ASK_ALTSTACK,
	ASK_TID_ADDRESS,
	ASK_PDEATHSIG
};

static int ask_thread(struct res_asks *a, struct ck_proc *p, struct ck_thread *t)
{
	int err = res_ask_buf(a, sizeof(struct kernel_stack_t), 1, SYS_sigaltstack, (long[6]){ 0 });

	(void)p;
	(void)t;
	if (!err)
		err = res_ask_buf(a, sizeof(t->rec.clear_tid), 1, SYS_prctl,
				  (long[6]){ PR_GET_TID_ADDRESS });
	return err ? err
		   : res_ask_buf(a, sizeof(t->rec.pdeath_sig), 1, SYS_prctl,
				 (long[6]){ PR_GET_PDEATHSIG });
}

static int collect_thread(struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	struct ptrace_rseq_configuration rseq;
	struct kernel_stack_t ss;
	long ret, len;
	void *head;
	char name[64];
	int err;

	model_task_name(p, t, name, sizeof(name));
	t->rec.blocked = t->trace->rt.sigmask;
	err = read_comm(p, t);
	if (err) {
		log_err("%s: cannot read its name: %s", name, strerror(-err));
		return err;
	}
	ret = res_answer(ctx, p, t, ASK_ALTSTACK, &ss, sizeof(ss));
	if (ret < 0) {
		err = (int)ret;
		log_err("%s: cannot read its signal stack: %s", name, strerror(-err));
		return err;
	}
	t->rec.altstack_sp = ss.sp;
	t->rec.altstack_size = ss.size;
	t->rec.altstack_flags = (uint32_t)ss.flags;
	ret = res_answer(ctx, p, t, ASK_TID_ADDRESS, &t->rec.clear_tid, sizeof(t->rec.clear_tid));
	if (ret < 0) {
		err = (int)ret;
		log_err("%s: cannot read its clear-child-tid address: %s", name, strerror(-err));
		return err;
	}
	ret = res_answer(ctx, p, t, ASK_PDEATHSIG, &t->rec.pdeath_sig, sizeof(t->rec.pdeath_sig));
	if (ret < 0) {
		err = (int)ret;
		log_err("%s: cannot read its parent-death signal: %s", name, strerror(-err));
		return err;
	}
	if (syscall(SYS_get_robust_list, t->rec.tid, &head, &len)) {
		log_err("%s: cannot read its robust futex list: %s", name, strerror(errno));
		return -errno;
	}
	t->rec.robust_list = (uint64_t)(uintptr_t)head;
	t->rec.robust_len = (uint64_t)len;
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->rec.tid, sizeof(rseq), &rseq) < 0) {
		log_err("%s: cannot read its rseq registration: %s", name, strerror(errno));
		return -errno;
	}
	t->rec.rseq_ptr = rseq.rseq_abi_pointer;
	t->rec.rseq_len = rseq.rseq_abi_pointer ? rseq.rseq_abi_size : 0;
	t->rec.rseq_sig = rseq.signature;
	return 0;
}

static int plan_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
		       struct blob_plan *bp)
{
	const struct ckpt_rec_thread *r = &t->rec;
	struct kernel_stack_t ss = { .sp = r->altstack_sp,
				     .flags = (int32_t)(r->altstack_flags & ~SS_ONSTACK),
				     .size = r->altstack_size };
	int64_t ss_off, comm_off;
	int err;

	(void)ctx;
	(void)p;
	ss_off = plan_data(bp, &ss, sizeof(ss));
	comm_off = plan_data(bp, r->comm, sizeof(r->comm));
	if (ss_off < 0 || comm_off < 0)
		return -ENOMEM;
	err = plan_call(bp, 0, 0, SYS_set_robust_list, r->robust_list,
			r->robust_list ? r->robust_len : 24, 0, 0, 0, 0,
			"set the robust futex list of tid %d", r->tid);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_set_tid_address, r->clear_tid, 0, 0, 0, 0, 0,
				"set the clear-child-tid address of tid %d", r->tid);
	if (!err && r->rseq_len)
		err = plan_call(bp, 0, 0, SYS_rseq, r->rseq_ptr, r->rseq_len, 0, r->rseq_sig, 0, 0,
				"register rseq area 0x%llx of tid %d",
				(unsigned long long)r->rseq_ptr, r->tid);
	if (!err)
		err = plan_call(bp, 0, 1U << 0, SYS_sigaltstack, ss_off, 0, 0, 0, 0, 0,
				"set the signal stack of tid %d", r->tid);
	if (!err)
		err = plan_call(bp, 0, 1U << 1, SYS_prctl, PR_SET_NAME, comm_off, 0, 0, 0, 0,
				"set the name of tid %d", r->tid);
	return err;
}

/* After the credentials, which reset it. */
static int plan_thread_final(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			     struct blob_plan *bp)
{
	(void)ctx;
	(void)p;
	if (t->rec.pdeath_sig < 0 || t->rec.pdeath_sig > CKPT_NSIG)
		return res_bad(CKPT_REC_THREAD, "holds an impossible parent-death signal");
	return plan_call(bp, 0, 0, SYS_prctl, PR_SET_PDEATHSIG, t->rec.pdeath_sig, 0, 0, 0, 0,
			 "set the parent-death signal of tid %d", t->rec.tid);
}

static int finish_thread(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t)
{
	uint64_t mask = t->rec.blocked;

	(void)ctx;
	(void)p;
	if (ptrace(PTRACE_SETSIGMASK, t->trace->rt.tid, sizeof(mask), &mask)) {
		log_err("tid %d: cannot set its signal mask: %s", t->rec.tid, strerror(errno));
		return -errno;
	}
	return 0;
}

static void show_thread(struct show_ctx *s, struct ck_proc *p, struct ck_thread *t)
{
	const struct ckpt_rec_thread *r = &t->rec;
	char comm[17];

	(void)p;
	memcpy(comm, r->comm, 16);
	comm[16] = '\0';
	show_str(s, "comm", comm);
	show_hex(s, "blocked", r->blocked);
	if (!(r->altstack_flags & SS_DISABLE)) {
		show_obj_begin(s, "altstack", true);
		show_hex(s, "sp", r->altstack_sp);
		show_u64(s, "size", r->altstack_size);
		show_obj_end(s);
	}
	if (r->rseq_len)
		show_hex(s, "rseq", r->rseq_ptr);
	show_hex(s, "clear_tid", r->clear_tid);
	show_hex(s, "robust_list", r->robust_list);
	if (r->pdeath_sig)
		show_i64(s, "pdeath_signal", r->pdeath_sig);
}

const struct res_ops thread_ops = {
	.name = "thread",
	.ask_thread = ask_thread,
	.collect_thread = collect_thread,
	.plan_thread = plan_thread,
	.plan_thread_final = plan_thread_final,
	.finish_thread = finish_thread,
	.show_thread = show_thread,
};
