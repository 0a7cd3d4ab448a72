/*
 * rlimits.c: resource limits. Restored near the end by the blob, once
 * nothing of the restore can run into them any more. Raising a hard limit
 * above ckpt's own needs CAP_SYS_RESOURCE, so restart checks that first.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include "res/res.h"
#include "util/log.h"

static const char *const rlimit_names[CK_NRLIMITS] = {
	"cpu",	   "fsize", "data",  "stack",	   "core",     "rss",  "nproc",	 "nofile",
	"memlock", "as",    "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime",
};

/* Asked, every limit in order: prlimit on another process needs
 * CAP_SYS_RESOURCE as soon as its credentials differ from ckpt's. */
static int ask(struct res_asks *a, struct ck_proc *p)
{
	int err = 0;

	(void)p;
	for (int i = 0; i < CK_NRLIMITS && !err; i++)
		err = res_ask_buf(a, sizeof(struct rlimit), 3, SYS_prlimit64, (long[6]){ 0, i });
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	for (int i = 0; i < CK_NRLIMITS; i++) {
		struct rlimit r;
		long ret = res_answer(ctx, p, NULL, (unsigned int)i, &r, sizeof(r));

		if (ret < 0) {
			log_err("pid %d: cannot read limit %s: %s", p->rec.pid, rlimit_names[i],
				strerror((int)-ret));
			return (int)ret;
		}
		p->rlim[i].cur = r.rlim_cur;
		p->rlim[i].max = r.rlim_max;
	}
	p->nrlim = CK_NRLIMITS;
	p->have |= 1U << CK_HAVE_RLIMITS;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	struct ckpt_rec_rlimits hdr = { .count = p->nrlim };
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = p->rlim, .iov_len = p->nrlim * sizeof(p->rlim[0]) },
	};

	(void)img;
	return img_write_rec(w, CKPT_REC_RLIMITS, iov, 2);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_rlimits *h = data;
	int err;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_RLIMITS))
		return res_bad(type, "outside a process or repeated");
	err = res_check_len(type, len, sizeof(*h),
			    len >= sizeof(*h) ? (uint64_t)h->count * sizeof(struct ckpt_rlimit)
					      : 0);
	if (err)
		return err;
	/* limits this ckpt does not know are left as they are */
	p->nrlim = h->count < CK_NRLIMITS ? h->count : CK_NRLIMITS;
	memcpy(p->rlim, h + 1, p->nrlim * sizeof(p->rlim[0]));
	p->have |= 1U << CK_HAVE_RLIMITS;
	return 0;
}

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	(void)ctx;
	for (uint32_t i = 0; i < p->nrlim; i++) {
		struct rlimit own;

		if (getrlimit(i, &own))
			return -errno;
		if (p->rlim[i].max > own.rlim_max) {
			log_err("pid %d: cannot restore the %s hard limit %llu above ckpt's own %llu "
				"(that needs CAP_SYS_RESOURCE)",
				p->rec.pid, rlimit_names[i], (unsigned long long)p->rlim[i].max,
				(unsigned long long)own.rlim_max);
			return -EPERM;
		}
		if (p->rlim[i].cur > p->rlim[i].max)
			return res_bad(CKPT_REC_RLIMITS, "has a soft limit above the hard one");
	}
	return 0;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	(void)ctx;
	if (phase != PLAN_FINAL)
		return 0;
	for (uint32_t i = 0; i < p->nrlim; i++) {
		struct rlimit r = { .rlim_cur = p->rlim[i].cur, .rlim_max = p->rlim[i].max };
		int64_t off = plan_data(bp, &r, sizeof(r));
		int err;

		if (off < 0)
			return -ENOMEM;
		err = plan_call(bp, 0, 1U << 2, SYS_prlimit64, 0, i, off, 0, 0, 0,
				"set the %s limit", rlimit_names[i]);
		if (err)
			return err;
	}
	return 0;
}

static void show_limit(struct show_ctx *s, const char *key, uint64_t v)
{
	if (v == RLIM_INFINITY)
		show_str(s, key, "unlimited");
	else
		show_u64(s, key, v);
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	show_list_begin(s, "rlimits");
	for (uint32_t i = 0; i < p->nrlim; i++) {
		show_obj_begin(s, NULL, true);
		show_str(s, "name", rlimit_names[i]);
		show_limit(s, "soft", p->rlim[i].cur);
		show_limit(s, "hard", p->rlim[i].max);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t types[] = { CKPT_REC_RLIMITS, 0 };

const struct res_ops rlimits_ops = {
	.name = "rlimits",
	.types = types,
	.ask = ask,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.plan = plan,
	.show = show,
};
