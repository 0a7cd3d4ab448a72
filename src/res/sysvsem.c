/*
 * sysvsem.c: System V semaphore sets (semget, semop) the tree uses.
 *
 * A set is reached by no descriptor or area, so checkpoint takes the sets
 * of /proc/sysvipc/sem some semaphore of which a live process of the tree
 * operated on last (semctl GETPID); sets only processes outside the tree
 * (or none) touched last are outside it. It saves each one's id, key, mode,
 * owner, and every semaphore's value and last pid, in the section of the
 * first of those processes (ckpt shares the tree's IPC namespace:
 * checkpoint refuses another). A set that changes while it is read (a
 * process outside the tree uses it) is refused. A process with semaphore
 * undo state (SEM_UNDO) is refused: the kernel shows no adjustment, but
 * kcmp tells a process with an undo list from ckpt, which has none.
 *
 * Restart, before anything is created, checks that every id and key is
 * free (-EEXIST, as for a pid in use), then in ckpt:
 *  1. writes the id to /proc/sys/kernel/sem_next_id, semget(key, nsems,
 *     IPC_CREAT | IPC_EXCL | mode), sets sem_next_id back to -1;
 *  2. IPC_SET gives it its owner and mode, SETVAL each semaphore that is
 *     not zero (a semaphore never set has value 0 and pid 0);
 * then each process that operated last on some semaphores runs one semop
 * on them in its plan, adding and taking back 1, which leaves the values
 * and makes it their last pid again (a later checkpoint finds the set).
 * A semaphore last changed by a process outside the tree reports ckpt's
 * pid (or 0 when its value is 0). Sets a failed restart created are
 * removed; checkpoint --kill removes the sets it saved once the tree is
 * gone, unless something changed them since.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "ckpt.h"
#include "proc/sysvipc.h"
#include "res/res.h"
#include "res/sysvipc.h"
#include "util/log.h"

#define SEMVMX 32767
#define SEMMSL_MAX 32000 /* the kernel's bound on semaphores per set */

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct sysv_sem {
	struct ck_obj obj;
	struct ckpt_rec_sysv_sem rec;
	struct ckpt_sysv_semval *sems;
	pid_t holder; /* whose section holds its record */
	const struct ck_image *img; /* checkpoint: to know whether the tree was killed */
	int64_t dump_otime, dump_ctime; /* checkpoint: to know it unchanged */
	bool created, committed; /* restart */
};

static void release_sem(struct ck_obj *obj)
{
	struct sysv_sem *s = (struct sysv_sem *)obj;
	struct semid_ds ds;
	union semun arg = { .buf = &ds };

	if (s->created && !s->committed)
		semctl(s->rec.semid, 0, IPC_RMID);
	else if (s->img && s->img->killed && semctl(s->rec.semid, 0, IPC_STAT, arg) >= 0 &&
		 ds.sem_otime == s->dump_otime && ds.sem_ctime == s->dump_ctime)
		semctl(s->rec.semid, 0, IPC_RMID);
	free(s->sems);
	free(s);
}

static struct sysv_sem *new_sem(uint32_t nsems)
{
	struct sysv_sem *s = calloc(1, sizeof(*s));

	if (s) {
		s->obj.kind = OBJ_SYSV_SEM;
		s->obj.fd = -1;
		s->obj.release = release_sem;
		s->sems = calloc(nsems ? nsems : 1, sizeof(*s->sems));
		if (!s->sems) {
			free(s);
			s = NULL;
		}
	}
	return s;
}

/* ---- checkpoint ---- */

/* The set's state, if it belongs to the tree. */
static int collect_set(struct dump_ctx *ctx, int semid)
{
	struct semid_ds ds, after;
	union semun arg = { .buf = &ds };
	unsigned short *vals;
	struct sysv_sem *s;
	pid_t *pids;
	int err = 0;

	if (semctl(semid, 0, IPC_STAT, arg) < 0)
		return errno == EINVAL || errno == EIDRM ? 0 : -errno; /* gone meanwhile */
	if (!ds.sem_nsems || ds.sem_nsems > SEMMSL_MAX)
		return -EINVAL;
	vals = calloc(ds.sem_nsems, sizeof(*vals));
	pids = calloc(ds.sem_nsems, sizeof(*pids));
	s = new_sem((uint32_t)ds.sem_nsems);
	if (!vals || !pids || !s) {
		err = -ENOMEM;
		goto out;
	}
	arg.array = vals;
	if (semctl(semid, 0, GETALL, arg) < 0)
		err = -errno;
	for (uint32_t i = 0; i < ds.sem_nsems && !err; i++) {
		pids[i] = semctl(semid, (int)i, GETPID);
		if (pids[i] < 0)
			err = -errno;
	}
	if (err)
		goto out;
	s->holder = sysvipc_holder(ctx->img, pids, ds.sem_nsems);
	if (!s->holder)
		goto out;
	arg.buf = &after;
	if (semctl(semid, 0, IPC_STAT, arg) < 0 || after.sem_otime != ds.sem_otime ||
	    after.sem_ctime != ds.sem_ctime) {
		log_err("pid %d: System V semaphore set %d changed while it was read (used "
			"outside the tree): not supported",
			s->holder, semid);
		err = -EOPNOTSUPP;
		goto out;
	}
	s->obj.key[0] = (uint64_t)semid;
	s->img = ctx->img;
	s->dump_otime = ds.sem_otime;
	s->dump_ctime = ds.sem_ctime;
	s->rec = (struct ckpt_rec_sysv_sem){
		.semid = semid,
		.key = ds.sem_perm.__key,
		.mode = ds.sem_perm.mode & 0777,
		.uid = ds.sem_perm.uid,
		.gid = ds.sem_perm.gid,
		.cuid = ds.sem_perm.cuid,
		.cgid = ds.sem_perm.cgid,
		.nsems = (uint32_t)ds.sem_nsems,
	};
	for (uint32_t i = 0; i < ds.sem_nsems; i++)
		s->sems[i] = (struct ckpt_sysv_semval){ .val = vals[i], .pid = pids[i] };
	err = objhash_add(&ctx->img->objs, &s->obj);
	if (!err)
		s = NULL;
out:
	if (s) {
		s->img = NULL;
		release_sem(&s->obj);
	}
	free(vals);
	free(pids);
	return err;
}

/* The sets whose semaphores a live process of the tree operated on last. */
static int collect_sets(struct dump_ctx *ctx)
{
	struct proc_sysv_sem *sets;
	size_t n;
	int err = proc_read_sysv_sem(&sets, &n);

	if (err) {
		log_err("cannot list System V semaphore sets: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = collect_set(ctx, sets[i].id);
		if (err && err != -EOPNOTSUPP)
			log_err("cannot save System V semaphore set %d: %s", sets[i].id,
				strerror(-err));
	}
	free(sets);
	return err;
}

static bool has_sets(const struct ck_image *img)
{
	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (o && o->kind == OBJ_SYSV_SEM)
			return true;
	}
	return false;
}

/*
 * No process may hold undo state (SEM_UNDO), which no interface shows.
 * kcmp tells whether its undo list is the same as ckpt's, which has none.
 * A process gets one with its first SEM_UNDO operation, and the threads of
 * a process share one from their first pthread_create on (CLONE_SYSVSEM),
 * empty or not: for those the list tells nothing, and only matters when
 * the tree holds semaphore sets.
 */
static int check_undo(struct dump_ctx *ctx, struct ck_proc *p)
{
	long same = syscall(SYS_kcmp, getpid(), p->rec.pid, KCMP_SYSVSEM, 0, 0);
	int err;

	if (same < 0) {
		err = -errno;
		log_err("pid %d: cannot compare its semaphore undo list: %s", p->rec.pid,
			strerror(errno));
		return err;
	}
	if (!same || (p->nthreads > 1 && !has_sets(ctx->img)))
		return 0;
	if (p->nthreads > 1)
		log_err("pid %d: its threads share a System V semaphore undo list (SEM_UNDO), "
			"which ckpt cannot see, and the tree holds semaphore sets: not supported",
			p->rec.pid);
	else
		log_err("pid %d: has System V semaphore undo state (SEM_UNDO): not supported",
			p->rec.pid);
	return -EOPNOTSUPP;
}

/* The root's turn takes the tree's sets; every process's, a look at its
 * undo state. */
static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	int err = p == &ctx->img->procs[0] ? collect_sets(ctx) : 0;

	return err ? err : check_undo(ctx, p);
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	int err = 0;

	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct sysv_sem *s = (struct sysv_sem *)o;
		struct iovec iov[2];

		if (!o || o->kind != OBJ_SYSV_SEM || s->holder != p->rec.pid)
			continue;
		s->rec.id = s->obj.id;
		iov[0] = (struct iovec){ &s->rec, sizeof(s->rec) };
		iov[1] = (struct iovec){ s->sems, s->rec.nsems * sizeof(*s->sems) };
		err = img_write_rec(w, CKPT_REC_SYSV_SEM, iov, 2);
	}
	return err;
}

/* ---- image to model ---- */

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_sysv_sem *r = data;
	struct sysv_sem *s;
	int err;

	(void)t;
	err = res_check_len(type, len, sizeof(*r),
			    len >= sizeof(*r) ? (uint64_t)r->nsems * sizeof(*s->sems) : 0);
	if (err)
		return err;
	if (!p || !r->id || r->pad || r->semid < 0 || r->mode & ~0777U || !r->nsems ||
	    r->nsems > SEMMSL_MAX)
		return res_bad(type, "is misplaced or malformed");
	s = new_sem(r->nsems);
	if (!s)
		return -ENOMEM;
	s->rec = *r;
	s->obj.id = r->id;
	s->holder = p->rec.pid;
	s->obj.key[0] = (uint64_t)r->semid;
	memcpy(s->sems, r + 1, r->nsems * sizeof(*s->sems));
	for (uint32_t i = 0; i < r->nsems; i++)
		if (s->sems[i].val < 0 || s->sems[i].val > SEMVMX || s->sems[i].pid < 0 ||
		    (!s->sems[i].pid && s->sems[i].val))
			err = res_bad(type, "has a semaphore out of range");
	if (!err && objhash_find(&img->objs, OBJ_SYSV_SEM, s->obj.key[0], 0, NULL, NULL))
		err = res_bad(type, "repeats a set");
	if (!err && objhash_insert(&img->objs, &s->obj))
		err = res_bad(type, "reuses an object id");
	if (err)
		release_sem(&s->obj);
	return err;
}

/* ---- restart ---- */

/* The process's sets: their ids and keys must be free, as pids must. */
static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;
	struct proc_sysv_sem *sets = NULL;
	size_t n = 0;
	int err = 0;
	bool listed = false;

	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct sysv_sem *s = (struct sysv_sem *)o;

		if (!o || o->kind != OBJ_SYSV_SEM || s->holder != p->rec.pid)
			continue;
		if (!listed) {
			err = proc_read_sysv_sem(&sets, &n);
			if (err) {
				log_err("cannot list System V semaphore sets: %s", strerror(-err));
				break;
			}
			listed = true;
		}
		for (size_t i = 0; i < n && !err; i++)
			err = sysvipc_check_free(p->rec.pid, "semaphore set", s->rec.semid,
						 s->rec.key, sets[i].id, sets[i].key);
	}
	free(sets);
	return err;
}

static int set_up(struct sysv_sem *s)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };

	if (semctl(s->rec.semid, 0, IPC_STAT, arg) < 0)
		return -errno;
	ds.sem_perm.uid = s->rec.uid;
	ds.sem_perm.gid = s->rec.gid;
	ds.sem_perm.mode = (unsigned short)s->rec.mode;
	if (semctl(s->rec.semid, 0, IPC_SET, arg) < 0)
		return -errno;
	for (uint32_t i = 0; i < s->rec.nsems; i++) {
		arg.val = s->sems[i].val;
		if (s->sems[i].val && semctl(s->rec.semid, (int)i, SETVAL, arg) < 0)
			return -errno;
	}
	return 0;
}

static int create(struct sysv_sem *s)
{
	int id, err, serr;

	err = sysvipc_next_id("sem", s->rec.semid);
	if (err) {
		log_err("cannot choose the id of System V semaphore set %d: %s", s->rec.semid,
			strerror(-err));
		return err;
	}
	id = semget(s->rec.key, (int)s->rec.nsems, IPC_CREAT | IPC_EXCL | (int)s->rec.mode);
	serr = errno;
	sysvipc_next_id("sem", -1);
	if (id < 0) {
		log_err("cannot create System V semaphore set %d: %s", s->rec.semid,
			strerror(serr));
		return -serr;
	}
	if (id != s->rec.semid) {
		semctl(id, 0, IPC_RMID);
		log_err("System V semaphore set id %d is in use", s->rec.semid);
		return -EEXIST;
	}
	s->created = true;
	err = set_up(s);
	if (err)
		log_err("cannot set up System V semaphore set %d: %s", id, strerror(-err));
	return err;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (o && o->kind == OBJ_SYSV_SEM && ((struct sysv_sem *)o)->holder == p->rec.pid)
			err = create((struct sysv_sem *)o);
	}
	return err;
}

/* Operations one semop may take here (SEMOPM, the third field of
 * /proc/sys/kernel/sem), an even number; 32 if unknown. */
static size_t max_ops(void)
{
	FILE *f = fopen("/proc/sys/kernel/sem", "re");
	unsigned long msl, mns, opm = 32;

	if (f) {
		if (fscanf(f, "%lu %lu %lu", &msl, &mns, &opm) != 3 || opm < 2)
			opm = 32;
		fclose(f);
	}
	return opm & ~1UL;
}

/* The semaphores p operated on last, in semops of at most max_ops: +1 and
 * -1 (or -1 and +1 at the maximum value) leave the values and make p
 * their pid. */
static int plan_set(const struct ck_image *img, struct blob_plan *bp, struct ck_proc *p,
		    struct sysv_sem *s)
{
	size_t n = 0, done, chunk = max_ops();
	struct sembuf *ops;
	int err = 0;

	if (!sysvipc_is_live(img, p->rec.pid))
		return 0;
	ops = calloc(2 * (size_t)s->rec.nsems, sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->rec.nsems; i++) {
		short d = s->sems[i].val < SEMVMX ? 1 : -1;

		if (s->sems[i].pid != p->rec.pid)
			continue;
		ops[n++] = (struct sembuf){ .sem_num = (unsigned short)i, .sem_op = d };
		ops[n++] = (struct sembuf){ .sem_num = (unsigned short)i, .sem_op = (short)-d };
	}
	for (done = 0; done < n && !err; done += chunk) {
		size_t k = n - done < chunk ? n - done : chunk;
		int64_t off = plan_data(bp, ops + done, k * sizeof(*ops));

		err = off < 0 ? -ENOMEM
			      : plan_call(bp, 0, 1U << 1, SYS_semop, (uint64_t)s->rec.semid,
					  (uint64_t)off, k, 0, 0, 0,
					  "operate on System V semaphore set %d", s->rec.semid);
	}
	free(ops);
	return err;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	if (phase != PLAN_SETUP)
		return 0;
	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (o && o->kind == OBJ_SYSV_SEM)
			err = plan_set(img, bp, p, (struct sysv_sem *)o);
	}
	return err;
}

/* After the last process's lists, the tree runs with its sets: keep them. */
static int finish(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;

	for (uint32_t i = (uint32_t)(p - img->procs) + 1; i < img->nprocs; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			return 0;
	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (o && o->kind == OBJ_SYSV_SEM)
			((struct sysv_sem *)o)->committed = true;
	}
	return 0;
}

/* ---- show ---- */

static void show(struct show_ctx *sh, struct ck_image *img, struct ck_proc *p)
{
	bool any = false;

	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		const struct sysv_sem *s = (const struct sysv_sem *)o;

		if (!o || o->kind != OBJ_SYSV_SEM || s->holder != p->rec.pid)
			continue;
		if (!any)
			show_list_begin(sh, "sysv_semaphores");
		any = true;
		show_obj_begin(sh, NULL, false);
		show_i64(sh, "semid", s->rec.semid);
		show_fmt(sh, "key", "0x%08x", (unsigned int)s->rec.key);
		show_fmt(sh, "mode", "%03o", s->rec.mode);
		show_u64(sh, "uid", s->rec.uid);
		show_u64(sh, "gid", s->rec.gid);
		show_u64(sh, "cuid", s->rec.cuid);
		show_u64(sh, "cgid", s->rec.cgid);
		show_list_begin(sh, "semaphores");
		for (uint32_t i = 0; i < s->rec.nsems; i++) {
			show_obj_begin(sh, NULL, true);
			show_i64(sh, "value", s->sems[i].val);
			show_i64(sh, "pid", s->sems[i].pid);
			show_obj_end(sh);
		}
		show_list_end(sh);
		show_obj_end(sh);
	}
	if (any)
		show_list_end(sh);
}

static const uint32_t types[] = { CKPT_REC_SYSV_SEM, 0 };

const struct res_ops sysvsem_ops = {
	.name = "sysvsem",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.prepare = prepare,
	.plan = plan,
	.finish = finish,
	.show = show,
};
