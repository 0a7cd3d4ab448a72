/*
 * shmem.c: shared memory objects: shared anonymous memory, memfds, files of
 * /dev/shm (POSIX shm_open) and System V segments (a variety with state of
 * its own, behind struct shmem_variety: shmem.h, sysvshm.c). However many
 * areas, descriptors and processes reach one, it is one object (OBJ_SHMEM
 * in the objhash, found by device and inode) and one record, written in the
 * section of the first process that uses it, before the areas (mm.c) and
 * descriptors (fd_reg.c) that refer to it by id.
 * Its pages are stored once, before any process's, read through its file
 * with SEEK_DATA/SEEK_HOLE: only the ranges that hold data.
 *
 * Restart creates each object in ckpt before any process exists, the new
 * processes inherit it and map or open it, so it stays shared:
 *   - shared anonymous memory: an anonymous shared mapping's file;
 *   - a memfd: memfd_create with its name, sealing allowed, then its size,
 *     mode and owner;
 *   - a file of /dev/shm: a new file under a temporary name in its
 *     directory, with its size, mode and owner, renamed over its name once
 *     the tree is restored (a failed restart leaves the name as it was: a
 *     new file, so a process outside the tree still using the old one, such
 *     as the original left running, does not share the restarted tree's);
 *     one that had been unlinked is created and unlinked at once, keeping
 *     its name in /proc;
 *   - a System V segment: see sysvshm.c.
 * The page data then fills it. Once every process has mapped and opened
 * what it needs, a memfd gets its seals back (F_SEAL_WRITE needs no
 * writable shared mapping, which a consistent original did not have
 * either), a file takes its name and a segment marked IPC_RMID is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/res.h"
#include "res/shmem.h"
#include "util/compat.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_SIZE (1ULL << 46)
#define MEMFD_NAME_MAX 249 /* memfd_create's limit */
#define DEVSHM "/dev/shm/"
#define DELETED " (deleted)"
#define SEALS_ALL                                                                                  \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE |          \
	 F_SEAL_EXEC)

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t page_up(uint64_t n)
{
	return (n + page_size() - 1) / page_size() * page_size();
}

/* The name a file of /dev/shm has in its directory until commit. */
static void temp_name(const struct ck_shmem *s, char *buf, size_t len)
{
	snprintf(buf, len, ".ckpt-restart-%d-%u", (int)getpid(), s->obj.id);
}

/* The variety of object with state of its own, or NULL. */
static const struct shmem_variety *variety(uint32_t kind)
{
	return kind == sysvshm_variety.kind ? &sysvshm_variety : NULL;
}

static void release_shmem(struct ck_obj *obj)
{
	struct ck_shmem *s = (struct ck_shmem *)obj;

	if (variety(s->rec.kind))
		variety(s->rec.kind)->release(s);
	if (s->dir_fd >= 0 && !s->committed) {
		char tmp[64];

		temp_name(s, tmp, sizeof(tmp));
		unlinkat(s->dir_fd, tmp, 0);
	}
	if (s->dump_fd >= 0)
		close(s->dump_fd);
	if (s->ro_fd >= 0)
		close(s->ro_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (obj->fd >= 0)
		close(obj->fd);
	free(s->name);
	free(s);
}

extern const struct obj_ops shmem_obj_ops;

static struct ck_shmem *new_shmem(uint32_t kind)
{
	struct ck_shmem *s = calloc(1, sizeof(*s));

	if (s) {
		s->obj.kind = OBJ_SHMEM;
		s->obj.fd = -1;
		s->obj.release = release_shmem;
		s->obj.ops = &shmem_obj_ops;
		s->dump_fd = s->ro_fd = s->dir_fd = -1;
		s->rec.kind = kind;
	}
	return s;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* "/dev/shm/a/b": relative components below /dev/shm, none empty, "." or "..". */
static bool is_devshm_path(const char *path)
{
	const char *c = path + strlen(DEVSHM);

	if (strncmp(path, DEVSHM, strlen(DEVSHM)) || !*c)
		return false;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c == '/' && !*++c)
			return false;
	}
	return true;
}

/* ---- checkpoint ---- */

/* A path that does not name the file at st: the kernel's name of an
 * unnamed object (a memfd, a System V segment). */
static bool is_unnamed(const char *target, const struct stat *st)
{
	char path[PATH_MAX];
	struct stat here;

	snprintf(path, sizeof(path), "%s", target);
	if (has_suffix(path, DELETED))
		path[strlen(path) - strlen(DELETED)] = '\0';
	return stat(path, &here) || here.st_dev != st->st_dev || here.st_ino != st->st_ino;
}

/* The device of the tmpfs on /dev/shm, looked up once; 0 if there is none. */
static dev_t devshm_dev(void)
{
	static dev_t dev;
	static bool known;
	struct statfs sfs;
	struct stat shm;

	if (!known) {
		if (!stat(DEVSHM, &shm) && !statfs(DEVSHM, &sfs) && sfs.f_type == TMPFS_MAGIC)
			dev = shm.st_dev;
		known = true;
	}
	return dev;
}

static uint32_t kind_of(const char *target, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return 0;
	if (!strncmp(target, "/memfd:", 7) && is_unnamed(target, st))
		return CKPT_SHMEM_MEMFD;
	if (!strncmp(target, "/SYSV", 5) && is_unnamed(target, st))
		return CKPT_SHMEM_SYSV;
	if (devshm_dev() && devshm_dev() == st->st_dev)
		return CKPT_SHMEM_FILE;
	return 0;
}

static int refuse(struct ck_proc *p, const char *what, const char *why)
{
	log_err("pid %d %s: %s", p->rec.pid, what, why);
	return -EOPNOTSUPP;
}

/* Data ranges of an object's file, whole pages: calls fn for each [off, end). */
static int each_data_range(int fd, uint64_t size, int (*fn)(void *arg, uint64_t off, uint64_t end),
			   void *arg)
{
	uint64_t pos = 0, limit = page_up(size);

	while (pos < limit) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;
		uint64_t end;
		int err;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		if ((uint64_t)data >= limit)
			return 0;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		end = page_up((uint64_t)hole < size ? (uint64_t)hole : size);
		if (end <= (uint64_t)data)
			return 0;
		err = fn(arg, (uint64_t)data, end);
		if (err)
			return err;
		pos = end;
	}
	return 0;
}

static int count_range(void *arg, uint64_t off, uint64_t end)
{
	*(uint64_t *)arg += (end - off) / page_size();
	return 0;
}

static int collect_memfd(struct ck_proc *p, struct ck_shmem *s, const char *target,
			 const struct stat *st, const char *what)
{
	const char *name = target + strlen("/memfd:");
	size_t len = strlen(name);
	int seals = fcntl(s->dump_fd, F_GET_SEALS);

	if (seals < 0) {
		log_err("pid %d %s: cannot read the seals of '%s': %s", p->rec.pid, what, target,
			strerror(errno));
		return -errno;
	}
	if (has_suffix(name, DELETED))
		len -= strlen(DELETED);
	if (len > MEMFD_NAME_MAX || (unsigned int)seals & ~SEALS_ALL)
		return refuse(p, what, "memfd with an unknown name or seal: not supported");
	s->name = strndup(name, len);
	if (!s->name)
		return -ENOMEM;
	s->file.seals = (uint32_t)seals;
	s->file.mode = st->st_mode & 07777;
	s->file.uid = st->st_uid;
	s->file.gid = st->st_gid;
	return 0;
}

static int collect_file(struct ck_proc *p, struct ck_shmem *s, const char *link, const char *target,
			const struct stat *st, const char *what)
{
	char why[PATH_MAX + 128];
	int err = res_link_path(link, &s->name, NULL);

	if (err == -ENOENT && has_suffix(target, DELETED)) {
		s->name = strndup(target, strlen(target) - strlen(DELETED));
		s->file.flags |= CKPT_SHMF_DELETED;
		err = s->name ? 0 : -ENOMEM;
	}
	if (err == -ENOENT)
		return refuse(p, what, "file of /dev/shm is not reachable from ckpt's root");
	if (err)
		return err;
	if (!is_devshm_path(s->name)) {
		snprintf(why, sizeof(why), "file of /dev/shm reached as '%s': not supported",
			 s->name);
		return refuse(p, what, why);
	}
	s->file.mode = st->st_mode & 07777;
	s->file.uid = st->st_uid;
	s->file.gid = st->st_gid;
	return 0;
}

static bool same_kind(struct ck_obj *obj, void *arg)
{
	return ((struct ck_shmem *)obj)->rec.kind == *(uint32_t *)arg;
}

static int collect_obj(struct dump_ctx *ctx, struct ck_proc *p, const char *link, uint32_t kind,
		       const char *what, struct ck_obj **ret)
{
	char target[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	struct ck_shmem *s;
	int fd = open(link, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0 || fstat(fd, &st) || fstatfs(fd, &sfs) ||
	    io_readlink(link, target, sizeof(target))) {
		err = -errno;
		log_err("pid %d %s: cannot open its shared memory: %s", p->rec.pid, what,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	s = (struct ck_shmem *)objhash_find(&ctx->img->objs, OBJ_SHMEM, st.st_dev, st.st_ino,
					    same_kind, &kind);
	if (s) {
		close(fd);
		*ret = &s->obj;
		return 0;
	}
	if (sfs.f_type == HUGETLBFS_MAGIC) {
		close(fd);
		return refuse(p, what,
			      kind == CKPT_SHMEM_MEMFD ? "memfd with MFD_HUGETLB: not supported"
			      : kind == CKPT_SHMEM_SYSV
				      ? "System V shared memory with SHM_HUGETLB: "
					"not supported"
				      : "hugetlbfs memory: not supported");
	}
	s = new_shmem(kind);
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->dump_fd = fd;
	s->obj.key[0] = st.st_dev;
	s->obj.key[1] = st.st_ino;
	s->rec.size = (uint64_t)st.st_size;
	switch (kind) {
	case CKPT_SHMEM_MEMFD:
		err = collect_memfd(p, s, target, &st, what);
		break;
	case CKPT_SHMEM_FILE:
		err = collect_file(p, s, link, target, &st, what);
		break;
	case CKPT_SHMEM_SYSV:
		err = variety(kind)->collect(ctx, s, (int)st.st_ino, p->rec.pid, what);
		break;
	default:
		err = 0;
		break;
	}
	if (!err && (s->rec.size > MAX_SIZE || (kind == CKPT_SHMEM_SYSV && !s->rec.size)))
		err = refuse(p, what, "shared memory of this size is not supported");
	if (!err)
		err = each_data_range(fd, s->rec.size, count_range, &s->rec.npages);
	if (!err)
		err = objhash_add(&ctx->img->objs, &s->obj);
	if (err) {
		s->remove_with_tree = false;
		release_shmem(&s->obj);
		return err;
	}
	*ret = &s->obj;
	return 0;
}

static int write_obj(struct img_writer *w, struct ck_shmem *s)
{
	struct iovec iov[2];
	int err;

	if (s->obj.written)
		return 0;
	s->rec.id = s->obj.id;
	switch (s->rec.kind) {
	case CKPT_SHMEM_MEMFD:
	case CKPT_SHMEM_FILE:
		s->file.obj = s->rec;
		s->file.name_len = (uint32_t)strlen(s->name);
		iov[0] = (struct iovec){ &s->file, sizeof(s->file) };
		iov[1] = (struct iovec){ s->name, s->file.name_len };
		err = img_write_rec(w, CKPT_REC_SHM_FILE, iov, 2);
		break;
	case CKPT_SHMEM_SYSV:
		s->sysv.obj = s->rec;
		err = img_write_rec1(w, CKPT_REC_SYSV_SHM, &s->sysv, sizeof(s->sysv));
		break;
	default:
		err = img_write_rec1(w, CKPT_REC_SHMEM, &s->rec, sizeof(s->rec));
		break;
	}
	if (!err)
		s->obj.written = true;
	return err;
}

/* The objects a process's areas and descriptors use, before them. */
static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	int err = 0;

	(void)img;
	for (uint32_t i = 0; i < p->nvmas && !err; i++)
		if (p->vmas[i].shmem)
			err = write_obj(w, p->vmas[i].shmem);
	for (uint32_t i = 0; i < p->nfds && !err; i++)
		if (p->fds[i].file && p->fds[i].file->shmem)
			err = write_obj(w, p->fds[i].file->shmem);
	return err;
}

struct dump_range {
	struct dump_ctx *ctx;
	struct img_writer *w;
	struct ck_shmem *s;
	void *buf;
	size_t chunk;
};

static int dump_range(void *arg, uint64_t off, uint64_t end)
{
	struct dump_range *d = arg;
	uint64_t ps = page_size();

	for (uint64_t o = off; o < end; o += d->chunk) {
		uint64_t n = end - o < d->chunk ? end - o : d->chunk;
		struct ckpt_rec_pages h = {
			.owner = d->s->obj.id, .kind = CKPT_PAGES_SHMEM, .addr = o, .npages = n / ps
		};
		struct iovec iov[2] = { { &h, sizeof(h) }, { d->buf, n } };
		ssize_t got = pread(d->s->dump_fd, d->buf, n, (off_t)o);
		int err;

		/* short only at the end of the file: its last page's tail reads 0 */
		if (got < 0 || (got < (ssize_t)n && o + (uint64_t)got < d->s->rec.size)) {
			log_err("cannot read shared memory object %u: %s", d->s->obj.id,
				got < 0 ? strerror(errno) : "short read");
			return got < 0 ? -errno : -EIO;
		}
		memset((char *)d->buf + got, 0, n - (uint64_t)got);
		err = img_write_rec(d->w, CKPT_REC_PAGES, iov, 2);
		if (err)
			return err;
		d->ctx->img->pages += n / ps;
	}
	return 0;
}

static int dump_pages(struct dump_ctx *ctx, struct img_writer *w)
{
	int err = 0;

	for (uint32_t id = 1; !err && id <= ctx->img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&ctx->img->objs, id);
		struct dump_range d = { ctx, w, (struct ck_shmem *)o, ctx->page_buf,
					RES_PAGE_CHUNK };

		if (o && o->kind == OBJ_SHMEM)
			err = each_data_range(d.s->dump_fd, d.s->rec.size, dump_range, &d);
	}
	return err;
}

/* ---- image to model ---- */

static bool common_ok(const struct ckpt_rec_shmem *r)
{
	return r->size <= MAX_SIZE && r->npages <= page_up(r->size) / page_size() &&
	       (r->kind != CKPT_SHMEM_ANON || (r->size && !(r->size % page_size())));
}

static bool file_ok(const struct ckpt_rec_shm_file *r, const char *name)
{
	if (r->flags & ~CKPT_SHMF_FLAGS_ALL || r->mode & ~07777U || memchr(name, 0, r->name_len))
		return false;
	if (r->obj.kind == CKPT_SHMEM_MEMFD)
		return !r->flags && !(r->seals & ~SEALS_ALL) && r->name_len <= MEMFD_NAME_MAX;
	return r->obj.kind == CKPT_SHMEM_FILE && !r->seals && r->name_len < PATH_MAX;
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_shmem *r = data;
	struct ck_shmem *s;
	bool ok;
	int err;

	(void)t;
	if (type == CKPT_REC_SHM_FILE) {
		const struct ckpt_rec_shm_file *f = data;

		err = res_check_len(type, len, sizeof(*f), len >= sizeof(*f) ? f->name_len : 0);
		ok = !err && file_ok(f, (const char *)(f + 1));
	} else {
		err = res_check_len(
			type, len,
			type == CKPT_REC_SHMEM ? sizeof(*r) : sizeof(struct ckpt_rec_sysv_shm), 0);
		ok = !err && (type == CKPT_REC_SHMEM ? r->kind == CKPT_SHMEM_ANON
						     : r->kind == CKPT_SHMEM_SYSV &&
							       variety(r->kind)->rec_ok(data));
	}
	if (err)
		return err;
	if (!ok || !common_ok(r))
		return res_bad(type, "is malformed");
	s = new_shmem(r->kind);
	if (!s)
		return -ENOMEM;
	s->rec = *r;
	s->obj.id = r->id;
	s->first_pid = p ? p->rec.pid : 0;
	if (type == CKPT_REC_SHM_FILE) {
		s->file = *(const struct ckpt_rec_shm_file *)data;
		s->name = res_strndup((const struct ckpt_rec_shm_file *)data + 1, s->file.name_len);
		if (!s->name) {
			release_shmem(&s->obj);
			return -ENOMEM;
		}
		if (r->kind == CKPT_SHMEM_FILE && !is_devshm_path(s->name)) {
			release_shmem(&s->obj);
			return res_bad(type, "names a file outside /dev/shm");
		}
	} else if (type == CKPT_REC_SYSV_SHM) {
		s->sysv = *(const struct ckpt_rec_sysv_shm *)data;
	}
	err = objhash_insert(&img->objs, &s->obj);
	if (err) {
		release_shmem(&s->obj);
		return res_bad(type, "reuses an object id");
	}
	return 0;
}

/* ---- restart ---- */

static int check_one(const struct ck_proc *p, const struct ck_shmem *s)
{
	return s && variety(s->rec.kind) ? variety(s->rec.kind)->check(s, p->rec.pid) : 0;
}

/* System V ids and keys must be free, as pids must. */
static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	int err = 0;

	(void)ctx;
	for (uint32_t i = 0; i < p->nvmas && !err; i++)
		err = check_one(p, p->vmas[i].shmem);
	for (uint32_t i = 0; i < p->nfds && !err; i++)
		err = check_one(p, p->fds[i].file ? p->fds[i].file->shmem : NULL);
	return err;
}

static int create_anon(struct ck_shmem *s)
{
	char path[96];
	void *m =
		mmap(NULL, s->rec.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int err = 0;

	if (m == MAP_FAILED)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
		 (unsigned long)m + s->rec.size);
	s->obj.fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->obj.fd < 0)
		err = -errno;
	munmap(m, s->rec.size);
	return err;
}

static int set_attrs(struct ck_shmem *s)
{
	if (ftruncate(s->obj.fd, (off_t)s->rec.size) || fchmod(s->obj.fd, s->file.mode) ||
	    fchown(s->obj.fd, s->file.uid, s->file.gid))
		return -errno;
	return 0;
}

static int create_memfd(struct ck_shmem *s)
{
	s->obj.fd = memfd_create(s->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return s->obj.fd < 0 ? -errno : set_attrs(s);
}

/* The directory of a /dev/shm path, opened beneath /dev/shm only. */
static int open_dir(const char *path, int *ret_fd)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	const char *rel = path + strlen(DEVSHM), *base = strrchr(path, '/') + 1;
	char *dir = strndup(rel, (size_t)(base - rel));
	int top = open(DEVSHM, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1, err = 0;

	if (top < 0 || !dir) {
		err = top < 0 ? -errno : -ENOMEM;
	} else if (!*dir) {
		fd = top;
		top = -1;
	} else {
		fd = (int)syscall(SYS_openat2, top, dir, &how, sizeof(how));
		err = fd < 0 ? -errno : 0;
	}
	if (top >= 0)
		close(top);
	free(dir);
	if (!err)
		*ret_fd = fd;
	return err;
}

/*
 * A file of /dev/shm. A named one is created under a temporary name in its
 * directory, which commit renames over its name (the areas and descriptors
 * follow the file: /proc shows them under the new name). An unlinked one
 * is created under its own name and unlinked at once, so /proc shows the
 * name it had, or under the temporary name when that one is taken (in
 * /dev/shm itself when its directory is gone).
 */
static int create_file(struct ck_shmem *s)
{
	const char *base = strrchr(s->name, '/') + 1;
	const int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	bool deleted = s->file.flags & CKPT_SHMF_DELETED;
	char tmp[64];
	int dir, err;

	temp_name(s, tmp, sizeof(tmp));
	err = open_dir(s->name, &dir);
	if (err == -ENOENT && deleted)
		err = open_dir(DEVSHM "x", &dir); /* the directory of /dev/shm/x */
	if (err)
		return err;
	if (deleted)
		s->obj.fd = openat(dir, base, flags, 0600);
	if (s->obj.fd < 0) {
		base = tmp;
		s->obj.fd = openat(dir, tmp, flags, 0600);
	}
	err = s->obj.fd < 0 ? -errno : 0;
	if (!err && deleted && unlinkat(dir, base, 0))
		err = -errno;
	if (!err && !deleted)
		s->dir_fd = dir; /* the temporary name goes with a failed restart */
	else
		close(dir);
	return err ? err : set_attrs(s);
}

static int create(struct ck_shmem *s)
{
	int err;

	if (s->created)
		return 0;
	switch (s->rec.kind) {
	case CKPT_SHMEM_MEMFD:
		err = create_memfd(s);
		break;
	case CKPT_SHMEM_FILE:
		err = create_file(s);
		break;
	case CKPT_SHMEM_SYSV:
		return variety(s->rec.kind)->create(s); /* logs its own failures */
	default:
		err = create_anon(s);
		break;
	}
	if (err)
		log_err("cannot create shared memory object %u%s%s: %s", s->obj.id,
			s->name ? " " : "", s->name ? s->name : "", strerror(-err));
	s->created = !err;
	return err;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	int err = 0;

	(void)ctx;
	for (uint32_t i = 0; i < p->nvmas && !err; i++)
		if (p->vmas[i].shmem)
			err = create(p->vmas[i].shmem);
	for (uint32_t i = 0; i < p->nfds && !err; i++)
		if (p->fds[i].file && p->fds[i].file->shmem)
			err = create(p->fds[i].file->shmem);
	return err;
}

static int map_fd(struct ck_obj *o, bool rw, int *ret_fd)
{
	struct ck_shmem *s = (struct ck_shmem *)o;
	char path[64];

	if (s->obj.fd < 0)
		return -EBADF;
	if (!rw && s->ro_fd < 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", s->obj.fd);
		s->ro_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->ro_fd < 0) {
			log_err("cannot open shared memory object %u read-only: %s", s->obj.id,
				strerror(errno));
			return -errno;
		}
	}
	*ret_fd = rw ? s->obj.fd : s->ro_fd;
	return 0;
}

/*
 * memfd_create's own description is no writer to exec (a memfd runs with
 * fexecve while it is open), where one opened read-write through /proc is
 * (exec fails with ETXTBSY): the first read-write description of a memfd
 * is memfd_create's own, as it was in the process (the only way to have
 * one that does not count).
 */
static int reopen_own(struct ck_shmem *s, uint32_t flags)
{
	int fd = fcntl(s->obj.fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETFL, (int)flags & (O_APPEND | O_NONBLOCK | O_NOATIME))) {
		int err = -errno;

		close(fd);
		return err;
	}
	s->own_given = true;
	return fd;
}

static int reopen(struct ck_obj *o, uint32_t flags)
{
	struct ck_shmem *s = (struct ck_shmem *)o;
	char path[64];
	int fd;

	if (s->obj.fd < 0)
		return -EBADF;
	if (s->rec.kind == CKPT_SHMEM_MEMFD && !s->own_given && (flags & O_ACCMODE) == O_RDWR &&
	    !(flags & ~(O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_LARGEFILE)))
		return reopen_own(s, flags);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->obj.fd);
	/* O_NOFOLLOW (shm_open's) would refuse the magic link; it is lost */
	fd = open(path, ((int)flags & ~O_NOFOLLOW) | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static int restore_pages(struct rst_ctx *ctx, struct img_reader *r, const struct ckpt_rec_pages *h,
			 uint64_t bytes)
{
	size_t chunk = RES_PAGE_CHUNK;
	void *buf = ctx->page_buf;
	struct ck_obj *o = objhash_by_id(&ctx->img->objs, h->owner);
	struct ck_shmem *s = o && o->kind == OBJ_SHMEM ? (struct ck_shmem *)o : NULL;

	if (!s || h->addr > page_up(s->rec.size) || bytes > page_up(s->rec.size) - h->addr ||
	    h->npages > s->rec.npages)
		return res_bad(CKPT_REC_PAGES, "is for an unknown shared memory range");
	if (s->obj.fd < 0)
		return res_bad(CKPT_REC_PAGES, "is for shared memory no process uses");
	s->rec.npages -= h->npages;
	for (uint64_t done = 0; done < bytes;) {
		uint64_t n = bytes - done < chunk ? bytes - done : chunk, off = h->addr + done;
		uint64_t keep = off >= s->rec.size	? 0
				: s->rec.size - off < n ? s->rec.size - off
							: n;
		int err;

		if (is_interrupted())
			return -ECANCELED;
		err = img_read_data(r, buf, n);
		if (err)
			return err;
		/* the tail of the last page is past the end of the object */
		if (keep && pwrite(s->obj.fd, buf, keep, (off_t)off) != (ssize_t)keep) {
			err = -errno;
			log_err("cannot fill shared memory object %u: %s", s->obj.id,
				strerror(errno));
			return err;
		}
		done += n;
	}
	return 0;
}

static int check_pages(struct ck_image *img)
{
	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (o && o->kind == OBJ_SHMEM && ((struct ck_shmem *)o)->rec.npages)
			return res_bad(CKPT_REC_SHMEM, "declares pages the image lacks");
	}
	return 0;
}

/* A file of /dev/shm takes its name, replacing what the name held. */
static int link_name(struct ck_shmem *s)
{
	char tmp[64];

	temp_name(s, tmp, sizeof(tmp));
	if (renameat(s->dir_fd, tmp, s->dir_fd, strrchr(s->name, '/') + 1)) {
		int err = -errno;

		log_err("cannot name shared memory '%s': %s", s->name, strerror(errno));
		return err;
	}
	return 0;
}

static int commit(struct ck_shmem *s)
{
	int err = 0;

	if (s->rec.kind == CKPT_SHMEM_MEMFD && s->file.seals &&
	    fcntl(s->obj.fd, F_ADD_SEALS, (int)s->file.seals)) {
		err = -errno;
		log_err("cannot seal memfd '%s' (seals 0x%x): %s", s->name, s->file.seals,
			strerror(errno));
	}
	if (s->rec.kind == CKPT_SHMEM_FILE && s->dir_fd >= 0)
		err = link_name(s);
	if (variety(s->rec.kind))
		err = variety(s->rec.kind)->commit(s);
	s->committed = !err;
	return err;
}

/* Once the last process finished its list, every process has mapped and
 * opened what it needs: the objects take their final state. */
static int finish(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	for (uint32_t i = (uint32_t)(p - img->procs) + 1; i < img->nprocs; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			return 0;
	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct ck_shmem *s = (struct ck_shmem *)o;

		if (o && o->kind == OBJ_SHMEM && s->created && !s->committed)
			err = commit(s);
	}
	return err;
}

/* ---- show ---- */

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case CKPT_SHMEM_ANON:
		return "shared-anon";
	case CKPT_SHMEM_MEMFD:
		return "memfd";
	case CKPT_SHMEM_FILE:
		return "posix";
	case CKPT_SHMEM_SYSV:
		return "sysv";
	}
	return "?";
}

static void show_seals(struct show_ctx *sh, uint32_t seals)
{
	static const struct {
		uint32_t seal;
		const char *name;
	} names[] = {
		{ F_SEAL_SEAL, "seal" },
		{ F_SEAL_SHRINK, "shrink" },
		{ F_SEAL_GROW, "grow" },
		{ F_SEAL_WRITE, "write" },
		{ F_SEAL_FUTURE_WRITE, "future-write" },
		{ F_SEAL_EXEC, "exec" },
	};
	char buf[128] = "";
	size_t len = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (seals & names[i].seal)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						len ? "," : "", names[i].name);
	show_str(sh, "seals", buf);
}

/* The objects whose records are in this process's section. */
static void show(struct show_ctx *sh, struct ck_image *img, struct ck_proc *p)
{
	bool any = false;

	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		const struct ck_shmem *s = (const struct ck_shmem *)o;

		if (!o || o->kind != OBJ_SHMEM || s->first_pid != p->rec.pid)
			continue;
		if (!any)
			show_list_begin(sh, "shared_memory");
		any = true;
		show_obj_begin(sh, NULL, true);
		show_u64(sh, "object", id);
		show_str(sh, "kind", kind_name(s->rec.kind));
		show_u64(sh, "size", s->rec.size);
		show_u64(sh, "pages", s->rec.npages);
		if (s->name)
			show_str(sh, "name", s->name);
		if (s->rec.kind == CKPT_SHMEM_MEMFD || s->rec.kind == CKPT_SHMEM_FILE) {
			if (s->file.flags & CKPT_SHMF_DELETED)
				show_bool(sh, "deleted", true);
			show_fmt(sh, "mode", "%04o", s->file.mode);
			show_u64(sh, "uid", s->file.uid);
			show_u64(sh, "gid", s->file.gid);
		}
		if (s->rec.kind == CKPT_SHMEM_MEMFD) {
			show_bool(sh, "allow_sealing", !(s->file.seals & F_SEAL_SEAL));
			show_seals(sh, s->file.seals);
		}
		if (variety(s->rec.kind))
			variety(s->rec.kind)->show(sh, s);
		show_obj_end(sh);
	}
	if (any)
		show_list_end(sh);
}

static const uint32_t types[] = { CKPT_REC_SHMEM, CKPT_REC_SHM_FILE, CKPT_REC_SYSV_SHM, 0 };

const struct res_ops shmem_ops = {
	.name = "shmem",
	.types = types,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.prepare = prepare,
	.finish = finish,
	.pages_kind = CKPT_PAGES_SHMEM,
	.dump_pages = dump_pages,
	.restore_pages = restore_pages,
	.check_pages = check_pages,
	.show = show,
};

const struct obj_ops shmem_obj_ops = {
	.kind = OBJ_SHMEM,
	.kind_of = kind_of,
	.collect = collect_obj,
	.reopen = reopen,
	.map_fd = map_fd,
};
