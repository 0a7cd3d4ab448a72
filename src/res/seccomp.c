/*
 * seccomp.c: seccomp, strict mode or BPF filters. Filters are read with
 * PTRACE_SECCOMP_GET_FILTER (newest first) and their flags with
 * PTRACE_SECCOMP_GET_METADATA; every thread must have the same ones (or
 * the checkpoint is refused). Each restored thread installs them on itself,
 * oldest first, while still privileged and before its credentials change:
 * ckpt traces it with PTRACE_O_SUSPEND_SECCOMP, so the filters do not apply
 * to what the restore does after them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/ptrace.h>
#include <linux/seccomp.h>
#include "res/res.h"
#include "util/log.h"

#define MAX_FILTERS 1024
#define MAX_INSNS 4096 /* BPF_MAXINSNS */
#define KEPT_FLAGS (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

static void free_filters(struct ck_filter *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(f[i].insns);
	free(f);
}

/* The filters of a thread, oldest first. */
static int read_filters(pid_t tid, struct ck_filter **ret, uint32_t *ret_n)
{
	struct ck_filter *f = NULL;
	uint32_t n = 0;

	for (;;) {
		struct seccomp_metadata md = { .filter_off = n };
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, n, NULL);
		struct ck_filter *nf;

		if (len < 0 && errno == ENOENT)
			break;
		if (len <= 0 || len > MAX_INSNS || n >= MAX_FILTERS)
			goto fail;
		nf = realloc(f, (n + 1) * sizeof(*nf));
		if (!nf)
			goto fail;
		f = nf;
		f[n].h.len = (uint32_t)len;
		f[n].insns = malloc((size_t)len * sizeof(uint64_t));
		if (!f[n].insns || ptrace(PTRACE_SECCOMP_GET_FILTER, tid, n, f[n].insns) != len ||
		    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0) {
			n++;
			goto fail;
		}
		f[n].h.flags = (uint32_t)(md.flags & KEPT_FLAGS);
		n++;
	}
	for (uint32_t i = 0; i < n / 2; i++) {
		struct ck_filter tmp = f[i];

		f[i] = f[n - 1 - i];
		f[n - 1 - i] = tmp;
	}
	*ret = f;
	*ret_n = n;
	return 0;
fail:
	free_filters(f, n);
	return errno ? -errno : -EIO;
}

static bool same_filters(const struct ck_filter *a, const struct ck_filter *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].h.len != b[i].h.len || a[i].h.flags != b[i].h.flags ||
		    memcmp(a[i].insns, b[i].insns, a[i].h.len * sizeof(uint64_t)))
			return false;
	return true;
}

static int collect_thread_mode(struct ck_proc *p, const struct ck_thread *t)
{
	struct proc_status st;
	struct ck_filter *f = NULL;
	uint32_t n = 0;
	int err = proc_read_status(p->rec.pid, t->rec.tid, &st);

	if (err)
		return err;
	proc_status_release(&st);
	if (st.seccomp == 2)
		err = read_filters(t->rec.tid, &f, &n);
	if (err) {
		log_err("pid %d tid %d: cannot read its seccomp filters: %s", p->rec.pid,
			t->rec.tid, strerror(-err));
		return err;
	}
	if (t == &p->threads[0]) {
		p->seccomp.mode = (uint32_t)st.seccomp;
		p->seccomp.count = n;
		p->filters = f;
		return 0;
	}
	if ((uint32_t)st.seccomp != p->seccomp.mode || n != p->seccomp.count ||
	    !same_filters(f, p->filters, n))
		err = -EOPNOTSUPP;
	free_filters(f, n);
	if (err)
		log_err("pid %d tid %d: its seccomp state differs from its process's: not "
			"supported",
			p->rec.pid, t->rec.tid);
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	(void)ctx;
	for (uint32_t i = 0; i < p->nthreads; i++) {
		int err = collect_thread_mode(p, &p->threads[i]);

		if (err)
			return err;
	}
	p->have |= 1U << CK_HAVE_SECCOMP;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	int err;

	(void)img;
	if (!p->seccomp.mode)
		return img_write_rec1(w, CKPT_REC_SECCOMP, &p->seccomp, sizeof(p->seccomp));
	{
		uint64_t len = sizeof(p->seccomp);

		for (uint32_t i = 0; i < p->seccomp.count; i++)
			len += sizeof(p->filters[i].h) + p->filters[i].h.len * sizeof(uint64_t);
		err = img_begin_rec(w, CKPT_REC_SECCOMP, len);
	}
	if (!err)
		err = img_rec_data(w, &p->seccomp, sizeof(p->seccomp));
	for (uint32_t i = 0; i < p->seccomp.count && !err; i++) {
		err = img_rec_data(w, &p->filters[i].h, sizeof(p->filters[i].h));
		if (!err)
			err = img_rec_data(w, p->filters[i].insns,
					   p->filters[i].h.len * sizeof(uint64_t));
	}
	return err ? err : img_end_rec(w);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_seccomp *h = data;
	const uint8_t *pos = (const uint8_t *)(h + 1), *end = (const uint8_t *)data + len;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_SECCOMP))
		return res_bad(type, "outside a process or repeated");
	if (len < sizeof(*h) || h->mode > 2 || h->count > MAX_FILTERS || (h->mode != 2 && h->count))
		return res_bad(type, "is malformed");
	p->seccomp = *h;
	p->seccomp.count = 0;
	if (h->count) {
		p->filters = calloc(h->count, sizeof(*p->filters));
		if (!p->filters)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < h->count; i++) {
		struct ck_filter *f = &p->filters[i];

		if ((size_t)(end - pos) < sizeof(f->h))
			return res_bad(type, "is truncated");
		memcpy(&f->h, pos, sizeof(f->h));
		pos += sizeof(f->h);
		if (!f->h.len || f->h.len > MAX_INSNS || f->h.flags & ~KEPT_FLAGS ||
		    (size_t)(end - pos) < f->h.len * sizeof(uint64_t))
			return res_bad(type, "holds a malformed filter");
		f->insns = malloc(f->h.len * sizeof(uint64_t));
		if (!f->insns)
			return -ENOMEM;
		memcpy(f->insns, pos, f->h.len * sizeof(uint64_t));
		pos += f->h.len * sizeof(uint64_t);
		p->seccomp.count++;
	}
	if (pos != end)
		return res_bad(type, "has bytes after its filters");
	p->have |= 1U << CK_HAVE_SECCOMP;
	return 0;
}

struct kfprog {
	uint16_t len;
	uint16_t pad[3];
	uint64_t filter;
};

static int plan_thread_final(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			     struct blob_plan *bp)
{
	(void)ctx;
	if (p->seccomp.mode == SECCOMP_MODE_STRICT)
		return plan_call(bp, 0, 0, SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0,
				 0, "enter seccomp strict mode in tid %d", t->rec.tid);
	for (uint32_t i = 0; i < p->seccomp.count; i++) {
		const struct ck_filter *f = &p->filters[i];
		int64_t insns = plan_data(bp, f->insns, f->h.len * sizeof(uint64_t));
		struct kfprog prog = { .len = (uint16_t)f->h.len, .filter = (uint64_t)insns };
		int64_t off = plan_data(bp, &prog, sizeof(prog));
		int err;

		if (insns < 0 || off < 0 ||
		    plan_reloc(bp, (uint64_t)off + offsetof(struct kfprog, filter)))
			return -ENOMEM;
		err = plan_call(bp, 0, 1U << 2, SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->h.flags,
				off, 0, 0, 0, "install seccomp filter %u of tid %d", i, t->rec.tid);
		if (err)
			return err;
	}
	return 0;
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	if (!p->seccomp.mode)
		return;
	show_obj_begin(s, "seccomp", true);
	show_str(s, "mode", p->seccomp.mode == SECCOMP_MODE_STRICT ? "strict" : "filter");
	if (p->seccomp.count)
		show_u64(s, "filters", p->seccomp.count);
	show_obj_end(s);
}

static const uint32_t types[] = { CKPT_REC_SECCOMP, 0 };

const struct res_ops seccomp_ops = {
	.name = "seccomp",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.plan_thread_final = plan_thread_final,
	.show = show,
};
