/*
 * creds.c: user and group ids (real, effective, saved, filesystem) and
 * supplementary groups. Restored last of all by the blob, since giving up
 * root ends what the blob may do.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
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

static int ask(struct res_asks *a, struct ck_proc *p)
{
	(void)p;
	return res_ask(a, SYS_prctl, (long[6]){ PR_GET_SECUREBITS });
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	const struct proc_status *st = &p->live->status;
	struct ckpt_rec_creds *c = &p->creds;
	long ret;
	int err;

	for (uint32_t i = 1; i < p->nthreads; i++) {
		err = same_creds(p, &p->threads[i]);
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
	c->cap_inh = st->cap_inh;
	c->cap_prm = st->cap_prm;
	c->cap_eff = st->cap_eff;
	c->cap_bnd = st->cap_bnd;
	c->cap_amb = st->cap_amb;
	ret = res_answer(ctx, p, NULL, 0, NULL, 0);
	if (ret < 0) {
		err = (int)ret;
		log_err("pid %d: cannot read its securebits: %s", p->rec.pid, strerror(-err));
		return err;
	}
	c->securebits = (uint32_t)ret;
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

/* The capabilities ckpt has, which a new process starts with. */
static int own_caps(uint64_t *prm, uint64_t *inh, uint64_t *bnd)
{
	struct proc_status st;
	int err = proc_read_status(getpid(), 0, &st);

	if (err)
		return err;
	*prm = st.cap_prm;
	*inh = st.cap_inh;
	*bnd = st.cap_bnd;
	proc_status_release(&st);
	return 0;
}

/* A new process cannot have capabilities ckpt lacks. */
static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	const struct ckpt_rec_creds *c = &p->creds;
	uint64_t prm, inh, bnd, missing;
	int err = own_caps(&prm, &inh, &bnd);

	(void)ctx;
	if (err)
		return err;
	missing = (c->cap_prm & ~prm) | (c->cap_bnd & ~bnd) | (c->cap_inh & ~(bnd | prm));
	if (missing) {
		log_err("pid %d: it had capabilities ckpt lacks (mask 0x%llx)", p->rec.pid,
			(unsigned long long)missing);
		return -EPERM;
	}
	return 0;
}

struct cap_header {
	uint32_t version;
	int32_t pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

#define CAP_V3 0x20080522

static int plan_capset(struct blob_plan *bp, uint64_t eff, uint64_t prm, uint64_t inh,
		       const char *what)
{
	struct cap_header h = { .version = CAP_V3 };
	struct cap_data d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};
	int64_t h_off = plan_data(bp, &h, sizeof(h)), d_off = plan_data(bp, d, sizeof(d));

	if (h_off < 0 || d_off < 0)
		return -ENOMEM;
	return plan_call(bp, 0, (1U << 0) | (1U << 1), SYS_capset, h_off, d_off, 0, 0, 0, 0, "%s",
			 what);
}

/*
 * Raw syscalls change the credentials of the calling thread only, so every
 * thread sets them on itself, in an order that keeps it able to: groups
 * and gids while still root; uids with PR_SET_KEEPCAPS so the permitted
 * capabilities stay; effective ones back (ckpt's), to drop the bounding
 * set, raise the ambient set and set the securebits; then the saved sets.
 */
static int plan_thread_final(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			     struct blob_plan *bp)
{
	const struct ckpt_rec_creds *c = &p->creds;
	uint64_t prm, inh, bnd;
	int64_t groups;
	int err;

	(void)ctx;
	(void)t;
	err = own_caps(&prm, &inh, &bnd);
	if (err)
		return err;
	groups = c->ngroups ? plan_data(bp, p->groups, c->ngroups * sizeof(*p->groups))
			    : plan_reserve(bp, sizeof(uint32_t), 8);
	if (groups < 0)
		return -ENOMEM;
	err = plan_call(bp, 0, 1U << 1, SYS_setgroups, c->ngroups, groups, 0, 0, 0, 0,
			"set %u supplementary groups", c->ngroups);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_setresgid, c->gid, c->egid, c->sgid, 0, 0, 0,
				"set gids %u/%u/%u", c->gid, c->egid, c->sgid);
	/* setfs[ug]id return the previous value, never an error; an id other
	 * than the real, effective or saved ones needs the capability */
	if (!err)
		err = plan_call(bp, BLOB_MAY_FAIL, 0, SYS_setfsgid, c->fsgid, 0, 0, 0, 0, 0,
				"set fsgid %u", c->fsgid);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0,
				"keep capabilities across the uid change");
	if (!err)
		err = plan_call(bp, 0, 0, SYS_setresuid, c->uid, c->euid, c->suid, 0, 0, 0,
				"set uids %u/%u/%u", c->uid, c->euid, c->suid);
	if (!err)
		err = plan_capset(bp, prm, prm, c->cap_inh, "regain capabilities");
	if (!err)
		err = plan_call(bp, BLOB_MAY_FAIL, 0, SYS_setfsuid, c->fsuid, 0, 0, 0, 0, 0,
				"set fsuid %u", c->fsuid);
	for (int cap = 0; cap < 64 && !err; cap++)
		if (bnd & ~c->cap_bnd & (1ULL << cap))
			err = plan_call(bp, 0, 0, SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0, 0,
					"drop capability %d from the bounding set", cap);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0,
				0, 0, "clear the ambient capabilities");
	for (int cap = 0; cap < 64 && !err; cap++)
		if (c->cap_amb & (1ULL << cap))
			err = plan_call(bp, 0, 0, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
					cap, 0, 0, 0, "raise ambient capability %d", cap);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_SET_SECUREBITS, c->securebits, 0, 0, 0, 0,
				"set securebits 0x%x", c->securebits);
	if (!err)
		err = plan_capset(bp, c->cap_eff, c->cap_prm, c->cap_inh, "set the capabilities");
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
	show_hex(s, "cap_eff", c->cap_eff);
	show_hex(s, "cap_prm", c->cap_prm);
	if (c->cap_inh)
		show_hex(s, "cap_inh", c->cap_inh);
	show_hex(s, "cap_bnd", c->cap_bnd);
	if (c->cap_amb)
		show_hex(s, "cap_amb", c->cap_amb);
	if (c->securebits)
		show_hex(s, "securebits", c->securebits);
	show_obj_end(s);
}

static const uint32_t types[] = { CKPT_REC_CREDS, 0 };

const struct res_ops creds_ops = {
	.name = "creds",
	.types = types,
	.ask = ask,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.plan_thread_final = plan_thread_final,
	.show = show,
};
