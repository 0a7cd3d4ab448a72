/*
 * creds.c: user and group ids (real, effective, saved, filesystem) and
 * supplementary groups. Restored last of all by the blob, since giving up
 * root ends what the blob may do.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include "res/res.h"
#include "util/log.h"

#define MAX_GROUPS 65536

/* The image keeps one set of credentials per process: threads that have
 * their own (set with raw syscalls) are refused. */
static int same_creds(struct ck_proc *p, const struct ck_thread *t)
{
	const struct proc_status *m = &p->live->status;
	struct proc_status st;
	int err = proc_read_status(p->rec.pid, t->rec.tid, &st);

	if (err)
		return err;
	if (memcmp(st.uid, m->uid, sizeof(st.uid)) || memcmp(st.gid, m->gid, sizeof(st.gid)) ||
	    st.ngroups != m->ngroups ||
	    (st.ngroups && memcmp(st.groups, m->groups, st.ngroups * sizeof(*st.groups))) ||
	    st.cap_inh != m->cap_inh || st.cap_prm != m->cap_prm || st.cap_eff != m->cap_eff ||
	    st.cap_bnd != m->cap_bnd || st.cap_amb != m->cap_amb) {
		log_err("pid %d tid %d: its credentials differ from its process's: not supported",
			p->rec.pid, t->rec.tid);
		err = -EOPNOTSUPP;
	}
	proc_status_release(&st);
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	const struct proc_status *st = &p->live->status;
	struct ckpt_rec_creds *c = &p->creds;

	(void)ctx;
	for (uint32_t i = 1; i < p->nthreads; i++) {
		int err = same_creds(p, &p->threads[i]);

		if (err)
			return err;
	}
	c->uid = st->uid[0];
	c->euid = st->uid[1];
	c->suid = st->uid[2];
	c->fsuid = st->uid[3];
	c->gid = st->gid[0];
	c->egid = st->gid[1];
	c->sgid = st->gid[2];
	c->fsgid = st->gid[3];
	c->ngroups = st->ngroups;
	if (st->ngroups) {
		p->groups = malloc(st->ngroups * sizeof(*p->groups));
		if (!p->groups)
			return -ENOMEM;
		memcpy(p->groups, st->groups, st->ngroups * sizeof(*p->groups));
	}
	p->have |= 1U << CK_HAVE_CREDS;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	struct iovec iov[2] = {
		{ .iov_base = &p->creds, .iov_len = sizeof(p->creds) },
		{ .iov_base = p->groups, .iov_len = p->creds.ngroups * sizeof(*p->groups) },
	};

	(void)img;
	return img_write_rec(w, CKPT_REC_CREDS, iov, 2);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_creds *c = data;
	int err;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_CREDS))
		return res_bad(type, "outside a process or repeated");
	err = res_check_len(type, len, sizeof(*c),
			    len >= sizeof(*c) ? (uint64_t)c->ngroups * sizeof(uint32_t) : 0);
	if (err)
		return err;
	if (c->ngroups > MAX_GROUPS)
		return res_bad(type, "lists too many groups");
	p->creds = *c;
	if (c->ngroups) {
		p->groups = malloc(c->ngroups * sizeof(*p->groups));
		if (!p->groups)
			return -ENOMEM;
		memcpy(p->groups, c + 1, c->ngroups * sizeof(*p->groups));
	}
	p->have |= 1U << CK_HAVE_CREDS;
	return 0;
}

/* Raw syscalls change the credentials of the calling thread only, so
 * every thread sets them on itself. */
static int plan_thread_final(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			     struct blob_plan *bp)
{
	const struct ckpt_rec_creds *c = &p->creds;
	int64_t groups;
	int err;

	(void)ctx;
	(void)t;
	groups = c->ngroups ? plan_data(bp, p->groups, c->ngroups * sizeof(*p->groups))
			    : plan_reserve(bp, sizeof(uint32_t), 8);
	if (groups < 0)
		return -ENOMEM;
	err = plan_call(bp, 0, 1U << 1, SYS_setgroups, c->ngroups, groups, 0, 0, 0, 0,
			"set %u supplementary groups", c->ngroups);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_setresgid, c->gid, c->egid, c->sgid, 0, 0, 0,
				"set gids %u/%u/%u", c->gid, c->egid, c->sgid);
	if (!err)
		err = plan_call(bp, BLOB_MAY_FAIL, 0, SYS_setfsgid, c->fsgid, 0, 0, 0, 0, 0,
				"set fsgid %u", c->fsgid);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_setresuid, c->uid, c->euid, c->suid, 0, 0, 0,
				"set uids %u/%u/%u", c->uid, c->euid, c->suid);
	if (!err)
		err = plan_call(bp, BLOB_MAY_FAIL, 0, SYS_setfsuid, c->fsuid, 0, 0, 0, 0, 0,
				"set fsuid %u", c->fsuid);
	return err;
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	const struct ckpt_rec_creds *c = &p->creds;

	(void)img;
	show_obj_begin(s, "creds", true);
	show_fmt(s, "uid", "%u/%u/%u/%u", c->uid, c->euid, c->suid, c->fsuid);
	show_fmt(s, "gid", "%u/%u/%u/%u", c->gid, c->egid, c->sgid, c->fsgid);
	show_u64(s, "groups", c->ngroups);
	show_obj_end(s);
}

static const uint32_t types[] = { CKPT_REC_CREDS, 0 };

const struct res_ops creds_ops = {
	.name = "creds",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.plan_thread_final = plan_thread_final,
	.show = show,
};
