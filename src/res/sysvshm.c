/*
 * sysvshm.c: System V shared memory segments (shmget, shmat), a variety
 * of shared memory object behind struct shmem_variety (shmem.h; shmem.c
 * holds what every kind shares: the object in the objhash, its record and
 * its pages).
 *
 * Checkpoint reads a segment's attributes with IPC_STAT (ckpt shares the
 * tree's IPC namespace: checkpoint refuses another) and its pages through
 * the file behind an attached area. Only segments some process of the tree
 * has attached are saved; the others are outside the tree.
 *
 * Restart creates each segment in ckpt before any process exists:
 *  1. write its id to /proc/sys/kernel/shm_next_id, shmget(key, size,
 *     IPC_CREAT | IPC_EXCL | mode), set shm_next_id back to -1; a
 *     different id or a key in use is an error (-EEXIST, as a pid in use);
 *  2. IPC_SET gives it its owner and mode;
 *  3. ckpt attaches it once to open the file behind it, which receives the
 *     pages, and detaches it.
 * The processes attach it in their own memory plan (mm.c, shmat at the
 * saved address). Once every process has, a segment that was marked
 * IPC_RMID is removed again. A restart that fails removes what it created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>
#include "ckpt.h"
#include "res/res.h"
#include "res/shmem.h"
#include "util/log.h"

#define NEXT_ID "/proc/sys/kernel/shm_next_id"

static int collect(struct dump_ctx *ctx, struct ck_shmem *s, int shmid, pid_t pid, const char *what)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) < 0) {
		int err = -errno;

		log_err("pid %d %s: cannot inspect System V shared memory segment %d: %s", pid,
			what, shmid, strerror(errno));
		return err;
	}
	if (ds.shm_perm.mode & SHM_LOCKED) {
		log_err("pid %d %s: System V shared memory segment %d is locked in memory "
			"(SHM_LOCK): not supported",
			pid, what, shmid);
		return -EOPNOTSUPP;
	}
	s->rec.size = ds.shm_segsz;
	s->sysv.shmid = shmid;
	s->sysv.key = ds.shm_perm.__key;
	s->sysv.mode = ds.shm_perm.mode & 0777;
	s->sysv.flags = ds.shm_perm.mode & SHM_DEST ? CKPT_SYSV_DEST : 0;
	s->sysv.uid = ds.shm_perm.uid;
	s->sysv.gid = ds.shm_perm.gid;
	s->sysv.cuid = ds.shm_perm.cuid;
	s->sysv.cgid = ds.shm_perm.cgid;
	s->dump_ctime = ds.shm_ctime;
	s->remove_with_tree =
		ctx->flags & CKPT_CHECKPOINT_KILL && !(s->sysv.flags & CKPT_SYSV_DEST);
	return 0;
}

static bool rec_ok(const void *data)
{
	const struct ckpt_rec_sysv_shm *r = data;

	return r->shmid >= 0 && !(r->mode & ~0777U) && !(r->flags & ~CKPT_SYSV_FLAGS_ALL) &&
	       r->obj.size;
}

/* Whether /proc/sysvipc/shm lists a segment with this id, or this key. */
static int find_segment(int shmid, int key, bool *ret_id, bool *ret_key)
{
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];

	*ret_id = *ret_key = false;
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) /* the heading */
		line[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		int k, id;

		if (sscanf(line, "%d %d", &k, &id) != 2)
			continue;
		*ret_id |= id == shmid;
		*ret_key |= key != IPC_PRIVATE && k == key;
	}
	fclose(f);
	return 0;
}

static int check(const struct ck_shmem *s, pid_t pid)
{
	bool id_taken, key_taken;
	int err = find_segment(s->sysv.shmid, s->sysv.key, &id_taken, &key_taken);

	if (err) {
		log_err("cannot list System V shared memory segments: %s", strerror(-err));
		return err;
	}
	if (id_taken)
		log_err("pid %d: System V shared memory id %d is in use", pid, s->sysv.shmid);
	else if (key_taken)
		log_err("pid %d: System V shared memory key 0x%08x is in use", pid,
			(unsigned int)s->sysv.key);
	return id_taken || key_taken ? -EEXIST : 0;
}

static int set_next_id(int id)
{
	char buf[16];
	int fd = open(NEXT_ID, O_WRONLY | O_CLOEXEC), len, err = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", id);
	if (write(fd, buf, (size_t)len) != len)
		err = -errno;
	close(fd);
	return err;
}

/* ckpt's descriptor of the file behind the segment, which receives its pages. */
static int open_pages(struct ck_shmem *s, int id)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (s->rec.size + ps - 1) / ps * ps;
	void *at = shmat(id, NULL, 0);
	char path[96];
	int err = 0;

	if (at == (void *)-1)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)at,
		 (unsigned long)at + len);
	s->obj.fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->obj.fd < 0)
		err = -errno;
	shmdt(at);
	return err;
}

static int create(struct ck_shmem *s)
{
	const struct ckpt_rec_sysv_shm *r = &s->sysv;
	struct shmid_ds ds;
	int id, err, serr;

	err = set_next_id(r->shmid);
	if (err) {
		log_err("cannot choose the id of System V shared memory segment %d (%s): %s",
			r->shmid, NEXT_ID, strerror(-err));
		return err;
	}
	id = shmget(r->key, s->rec.size, IPC_CREAT | IPC_EXCL | (int)r->mode);
	serr = errno;
	set_next_id(-1);
	if (id < 0) {
		log_err("cannot create System V shared memory segment %d%s: %s", r->shmid,
			serr == EEXIST ? " (its key is in use)" : "", strerror(serr));
		return -serr;
	}
	if (id != r->shmid) {
		shmctl(id, IPC_RMID, NULL);
		log_err("System V shared memory id %d is in use", r->shmid);
		return -EEXIST;
	}
	s->created = true;
	err = shmctl(id, IPC_STAT, &ds) < 0 ? -errno : 0;
	if (!err) {
		ds.shm_perm.uid = r->uid;
		ds.shm_perm.gid = r->gid;
		ds.shm_perm.mode = r->mode;
		err = shmctl(id, IPC_SET, &ds) < 0 ? -errno : 0;
	}
	if (!err)
		err = open_pages(s, id);
	if (err)
		log_err("cannot set up System V shared memory segment %d: %s", id, strerror(-err));
	return err;
}

static int commit(struct ck_shmem *s)
{
	if (s->sysv.flags & CKPT_SYSV_DEST && shmctl(s->sysv.shmid, IPC_RMID, NULL) < 0) {
		int err = -errno;

		log_err("cannot remove System V shared memory segment %d: %s", s->sysv.shmid,
			strerror(errno));
		return err;
	}
	return 0;
}

static void release(struct ck_shmem *s)
{
	struct shmid_ds ds;

	if (s->created && !s->committed) {
		shmctl(s->sysv.shmid, IPC_RMID, NULL);
		return;
	}
	/* checkpoint --kill: the tree is gone; a segment nobody else attached
	 * (and nobody changed since) would hold its id and key for nothing */
	if (s->remove_with_tree && !shmctl(s->sysv.shmid, IPC_STAT, &ds) && !ds.shm_nattch &&
	    ds.shm_ctime == s->dump_ctime && !(ds.shm_perm.mode & SHM_DEST))
		shmctl(s->sysv.shmid, IPC_RMID, NULL);
}

static void show(struct show_ctx *sh, const struct ck_shmem *s)
{
	show_i64(sh, "shmid", s->sysv.shmid);
	show_fmt(sh, "key", "0x%08x", (unsigned int)s->sysv.key);
	show_fmt(sh, "mode", "%03o", s->sysv.mode);
	show_u64(sh, "uid", s->sysv.uid);
	show_u64(sh, "gid", s->sysv.gid);
	show_u64(sh, "cuid", s->sysv.cuid);
	show_u64(sh, "cgid", s->sysv.cgid);
	if (s->sysv.flags & CKPT_SYSV_DEST)
		show_bool(sh, "removed", true);
}

const struct shmem_variety sysvshm_variety = {
	.kind = CKPT_SHMEM_SYSV,
	.collect = collect,
	.rec_ok = rec_ok,
	.check = check,
	.create = create,
	.commit = commit,
	.release = release,
	.show = show,
};
