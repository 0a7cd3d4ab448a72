/*
 * fd_deleted.c: descriptions of regular files deleted while open (their
 * /proc link reads "PATH (deleted)" and they have no name left). The
 * file's content is an OBJ_DELETED object saved once in the image, however
 * many descriptions, descriptors and processes reach it: its mode, owner,
 * size, the directory it was in, and only the ranges that hold data
 * (SEEK_DATA/SEEK_HOLE), so a sparse file keeps its holes and costs the
 * image only its data. The data goes in the metadata, in DELETED_DATA
 * records of at most DATA_CHUNK bytes, and restart holds it in memory until
 * it writes it out: a file with more than MAX_DATA bytes of data is
 * refused.
 *
 * At restart ckpt creates the content as an unlinked file (O_TMPFILE) in
 * the directory it was in, which must still exist, writes its data, sets
 * its size, owner and mode, and opens each description of it again
 * through /proc/self/fd with its flags and offset.
 *
 * A deleted directory (an open descriptor of one) is refused: there is no
 * way to create a directory that has no name. A file deleted but still
 * linked under another name is refused too: a copy would lose the link.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "res/files.h"
#include "util/log.h"

#define SUFFIX " (deleted)"
#define DATA_CHUNK (1U << 20)
#define MAX_DATA (64ULL << 20)
#define MAX_SIZE (1ULL << 50)
#define MAX_NAME 4096

struct chunk {
	uint64_t offset;
	uint32_t len;
	uint8_t *data;
};

struct content {
	struct ck_obj obj;
	struct ckpt_rec_deleted rec;
	char *dir, *name;
	char link[64]; /* checkpoint: where to read it, /proc/PID/fd/N */
	struct chunk *chunks; /* restart: its data, offset order */
	size_t nchunks;
	uint64_t received; /* restart: bytes of data read so far */
};

static size_t suffixed(const char *target)
{
	size_t n = strlen(target), s = strlen(SUFFIX);

	return n > s && !strcmp(target + n - s, SUFFIX) ? n - s : 0;
}

/* A regular file or directory whose name is gone (one really named
 * "... (deleted)" is not); directories, and files with links left, are
 * refused by collect. */
static bool is_deleted(const struct fd_probe *pr)
{
	const struct stat *st = &pr->st;
	struct stat named;

	if (pr->target[0] != '/' || !suffixed(pr->target))
		return false;
	if (!S_ISDIR(st->st_mode) &&
	    (!S_ISREG(st->st_mode) || res_obj_ops(OBJ_SHMEM)->kind_of(pr->target, st)))
		return false;
	return st->st_nlink == 0 || stat(pr->target, &named) || named.st_dev != st->st_dev ||
	       named.st_ino != st->st_ino;
}

static void release_content(struct ck_obj *obj)
{
	struct content *c = (struct content *)obj;

	for (size_t i = 0; i < c->nchunks; i++)
		free(c->chunks[i].data);
	free(c->chunks);
	if (obj->fd >= 0)
		close(obj->fd);
	free(c->dir);
	free(c->name);
	free(c);
}

static struct content *new_content(void)
{
	struct content *c = calloc(1, sizeof(*c));

	if (c) {
		c->obj.kind = OBJ_DELETED;
		c->obj.fd = -1;
		c->obj.release = release_content;
	}
	return c;
}

/* Calls fn for each range [off, end) of fd's first size bytes that holds
 * data. */
static int each_data(int fd, uint64_t size, int (*fn)(void *arg, uint64_t off, uint64_t end),
		     void *arg)
{
	uint64_t pos = 0;

	while (pos < size) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;
		int err;

		if (data < 0 && errno == ENXIO)
			return 0;
		if (data < 0)
			return -errno;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		if (hole <= data)
			return 0;
		err = fn(arg, (uint64_t)data, (uint64_t)hole);
		if (err)
			return err;
		pos = (uint64_t)hole;
	}
	return 0;
}

static int count_data(void *arg, uint64_t off, uint64_t end)
{
	*(uint64_t *)arg += end - off;
	return 0;
}

static int collect_content(struct dump_ctx *ctx, const struct fd_probe *pr, struct content **ret)
{
	const char *slash = strrchr(pr->target, '/');
	size_t len = suffixed(pr->target);
	struct content *c = new_content();
	char why[128];
	int fd, err;

	if (!c)
		return -ENOMEM;
	c->obj.key[0] = pr->st.st_dev;
	c->obj.key[1] = pr->st.st_ino;
	c->rec.mode = pr->st.st_mode;
	c->rec.uid = pr->st.st_uid;
	c->rec.gid = pr->st.st_gid;
	c->rec.size = (uint64_t)pr->st.st_size;
	c->dir = strndup(pr->target, slash == pr->target ? 1 : (size_t)(slash - pr->target));
	c->name = strndup(slash + 1, len - (size_t)(slash + 1 - pr->target));
	snprintf(c->link, sizeof(c->link), "%s", pr->link);
	err = c->dir && c->name ? 0 : -ENOMEM;
	if (!err && (strlen(c->dir) > MAX_NAME || strlen(c->name) > MAX_NAME))
		err = fd_refuse(pr, pr->target, "its path is too long");
	fd = err ? -1 : open(pr->link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (!err && fd < 0) {
		err = -errno;
		log_err("pid %d fd %d: %s: cannot read it: %s", pr->p->rec.pid, pr->fd, pr->target,
			strerror(errno));
	}
	if (fd >= 0) {
		err = each_data(fd, c->rec.size, count_data, &c->rec.data_bytes);
		if (err)
			log_err("pid %d fd %d: %s: cannot find its data: %s", pr->p->rec.pid,
				pr->fd, pr->target, strerror(-err));
		close(fd);
	}
	if (!err && c->rec.data_bytes > MAX_DATA) {
		snprintf(why, sizeof(why),
			 "deleted file holds %llu bytes of data, more than ckpt saves (%llu)",
			 (unsigned long long)c->rec.data_bytes, MAX_DATA);
		err = fd_refuse(pr, pr->target, why);
	}
	if (!err)
		err = objhash_add(&ctx->img->objs, &c->obj);
	if (err) {
		release_content(&c->obj);
		return err;
	}
	*ret = c;
	return 0;
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct content *c;
	char why[96];
	int err;

	if (S_ISDIR(pr->st.st_mode))
		return fd_refuse(pr, pr->target, "directory was deleted: not supported");
	if (pr->st.st_nlink) {
		snprintf(why, sizeof(why), "deleted, but it has %lu other name%s: not supported",
			 (unsigned long)pr->st.st_nlink, pr->st.st_nlink == 1 ? "" : "s");
		return fd_refuse(pr, pr->target, why);
	}
	f->rec.kind = CKPT_FILE_DELETED;
	c = (struct content *)objhash_find(&ctx->img->objs, OBJ_DELETED, pr->st.st_dev,
					   pr->st.st_ino, NULL, NULL);
	if (!c) {
		err = collect_content(ctx, pr, &c);
		if (err)
			return err;
	}
	f->priv = c;
	return 0;
}

struct data_writer {
	struct img_writer *w;
	struct content *c;
	int fd;
	uint8_t *buf;
};

static int write_range(void *arg, uint64_t off, uint64_t end)
{
	struct data_writer *d = arg;

	while (off < end) {
		uint32_t n = end - off < DATA_CHUNK ? (uint32_t)(end - off) : DATA_CHUNK;
		struct ckpt_rec_deleted_data h = { .id = d->c->obj.id, .offset = off };
		struct iovec iov[2] = { { &h, sizeof(h) }, { d->buf, n } };
		ssize_t got = pread(d->fd, d->buf, n, (off_t)off);
		int err;

		if (got != (ssize_t)n) {
			log_err("deleted file '%s/%s': cannot read its data: %s", d->c->dir,
				d->c->name, got < 0 ? strerror(errno) : "it shrank");
			return got < 0 ? -errno : -EIO;
		}
		err = img_write_rec(d->w, CKPT_REC_DELETED_DATA, iov, 2);
		if (err)
			return err;
		d->c->received += n;
		off += n;
	}
	return 0;
}

static int write_content(struct img_writer *w, struct content *c)
{
	struct data_writer d = { .w = w, .c = c };
	struct iovec iov[3] = {
		{ &c->rec, sizeof(c->rec) },
		{ c->dir, strlen(c->dir) },
		{ c->name, strlen(c->name) },
	};
	int err;

	c->rec.id = c->obj.id;
	c->rec.dir_len = (uint32_t)iov[1].iov_len;
	c->rec.name_len = (uint32_t)iov[2].iov_len;
	err = img_write_rec(w, CKPT_REC_DELETED, iov, 3);
	if (err)
		return err;
	d.fd = open(c->link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	d.buf = malloc(DATA_CHUNK);
	if (d.fd < 0 || !d.buf) {
		err = d.fd < 0 ? -errno : -ENOMEM;
		log_err("deleted file '%s/%s': cannot read it: %s", c->dir, c->name,
			strerror(-err));
		goto out;
	}
	err = each_data(d.fd, c->rec.size, write_range, &d);
	if (!err && c->received != c->rec.data_bytes) {
		log_err("deleted file '%s/%s': it changed while the tree was frozen", c->dir,
			c->name);
		err = -EIO;
	}
out:
	free(d.buf);
	if (d.fd >= 0)
		close(d.fd);
	return err;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct content *c = f->priv;
	struct ckpt_file_deleted d = { .content_id = c->obj.id };
	struct iovec iov = { &d, sizeof(d) };
	int err = 0;

	if (!c->obj.written) {
		err = write_content(w, c);
		c->obj.written = !err;
	}
	return err ? err : fd_write_rec(w, CKPT_REC_FILE_DELETED, f, &iov, 1);
}

/* ---- image to model ---- */

static struct content *content_by_id(struct ck_image *img, uint32_t id)
{
	struct ck_obj *o = objhash_by_id(&img->objs, id);

	return o && o->kind == OBJ_DELETED ? (struct content *)o : NULL;
}

static int read_content(struct ck_image *img, const void *data, uint32_t len)
{
	const struct ckpt_rec_deleted *r = data;
	const char *dir = (const char *)(r + 1), *name;
	struct content *c;
	int err;

	if (len < sizeof(*r))
		return res_bad(CKPT_REC_DELETED, "is too short");
	err = res_check_len(CKPT_REC_DELETED, len, sizeof(*r), (uint64_t)r->dir_len + r->name_len);
	if (err)
		return err;
	name = dir + r->dir_len;
	if (!S_ISREG(r->mode) || r->size > MAX_SIZE || r->data_bytes > r->size ||
	    r->data_bytes > MAX_DATA || !r->dir_len || r->dir_len > MAX_NAME || !r->name_len ||
	    r->name_len > MAX_NAME || dir[0] != '/' || memchr(dir, 0, r->dir_len) ||
	    memchr(name, 0, r->name_len) || memchr(name, '/', r->name_len))
		return res_bad(CKPT_REC_DELETED, "is malformed");
	c = new_content();
	if (!c)
		return -ENOMEM;
	c->rec = *r;
	c->obj.id = r->id;
	c->dir = res_strndup(dir, r->dir_len);
	c->name = res_strndup(name, r->name_len);
	err = c->dir && c->name ? 0 : -ENOMEM;
	if (!err && objhash_insert(&img->objs, &c->obj))
		err = res_bad(CKPT_REC_DELETED, "reuses an object id");
	if (err)
		release_content(&c->obj);
	return err;
}

static int read_data(struct ck_image *img, const void *data, uint32_t len)
{
	const struct ckpt_rec_deleted_data *h = data;
	struct content *c;
	struct chunk *n;
	uint64_t bytes, prev_end;

	if (len < sizeof(*h))
		return res_bad(CKPT_REC_DELETED_DATA, "is too short");
	bytes = len - sizeof(*h);
	c = content_by_id(img, h->id);
	if (!c)
		return res_bad(CKPT_REC_DELETED_DATA, "refers to an unknown deleted file");
	prev_end =
		c->nchunks ? c->chunks[c->nchunks - 1].offset + c->chunks[c->nchunks - 1].len : 0;
	if (!bytes || bytes > DATA_CHUNK || h->offset < prev_end || h->offset > c->rec.size ||
	    bytes > c->rec.size - h->offset || bytes > c->rec.data_bytes - c->received)
		return res_bad(CKPT_REC_DELETED_DATA, "is out of place or out of bounds");
	n = realloc(c->chunks, (c->nchunks + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->chunks = n;
	n += c->nchunks;
	n->offset = h->offset;
	n->len = (uint32_t)bytes;
	n->data = malloc(bytes);
	if (!n->data)
		return -ENOMEM;
	memcpy(n->data, h + 1, bytes);
	c->nchunks++;
	c->received += bytes;
	return 0;
}

static int read_more(struct ck_image *img, uint32_t type, const void *data, uint32_t len)
{
	return type == CKPT_REC_DELETED ? read_content(img, data, len) : read_data(img, data, len);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_file *r = data;
	const struct ckpt_file_deleted *d = (const void *)(r + 1);
	struct content *c;
	int err = res_check_len(CKPT_REC_FILE_DELETED, len, sizeof(*r) + sizeof(*d), 0);

	if (err)
		return err;
	c = content_by_id(img, d->content_id);
	if (!c)
		return res_bad(CKPT_REC_FILE_DELETED, "refers to an unknown deleted file");
	if (c->received != c->rec.data_bytes)
		return res_bad(CKPT_REC_FILE_DELETED, "comes before its file's data is complete");
	f->priv = c;
	return 0;
}

/* ---- restart ---- */

static int create(struct ck_proc *p, int fd, struct content *c)
{
	int tfd = open(c->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), err = 0;

	if (tfd < 0) {
		err = -errno;
		log_err("pid %d fd %d: deleted file '%s/%s': cannot create it again in '%s': %s",
			p->rec.pid, fd, c->dir, c->name, c->dir,
			errno == ENOENT ? "the directory is gone" : strerror(errno));
		return err;
	}
	for (size_t i = 0; i < c->nchunks && !err; i++) {
		const struct chunk *k = &c->chunks[i];
		size_t done = 0;

		while (done < k->len && !err) {
			ssize_t n = pwrite(tfd, k->data + done, k->len - done,
					   (off_t)(k->offset + done));

			if (n <= 0)
				err = n < 0 ? -errno : -EIO;
			else
				done += (size_t)n;
		}
	}
	if (!err && ftruncate(tfd, (off_t)c->rec.size))
		err = -errno;
	if (!err && fchown(tfd, c->rec.uid, c->rec.gid))
		err = -errno;
	if (!err && fchmod(tfd, c->rec.mode & 07777))
		err = -errno;
	if (err) {
		log_err("pid %d fd %d: deleted file '%s/%s': cannot write it again: %s", p->rec.pid,
			fd, c->dir, c->name, strerror(-err));
		close(tfd);
		return err;
	}
	for (size_t i = 0; i < c->nchunks; i++)
		free(c->chunks[i].data);
	free(c->chunks);
	c->chunks = NULL;
	c->nchunks = 0;
	c->obj.fd = tfd;
	return 0;
}

static int open_file(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	struct content *c = f->priv;
	char path[64];
	int ofd, err;

	(void)ctx;
	if (c->obj.fd < 0) {
		err = create(p, fd, c);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->obj.fd);
	ofd = open(path, (int)f->rec.flags | O_CLOEXEC | O_NOCTTY);
	if (ofd < 0) {
		err = -errno;
		log_err("pid %d fd %d: deleted file '%s/%s': cannot open it again: %s", p->rec.pid,
			fd, c->dir, c->name, strerror(errno));
		return err;
	}
	if (!(f->rec.flags & O_PATH) && lseek(ofd, (off_t)f->rec.pos, SEEK_SET) < 0) {
		err = -errno;
		log_err("pid %d fd %d: deleted file '%s/%s': cannot seek it to %llu: %s",
			p->rec.pid, fd, c->dir, c->name, (unsigned long long)f->rec.pos,
			strerror(errno));
		close(ofd);
		return err;
	}
	f->obj.fd = ofd;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct content *c = f->priv;

	show_str(s, "deleted", c->name);
	show_str(s, "dir", c->dir);
	show_u64(s, "content", c->obj.id);
	show_u64(s, "size", c->rec.size);
	show_u64(s, "data", c->rec.data_bytes);
	if (!(f->rec.flags & O_PATH))
		show_u64(s, "pos", f->rec.pos);
}

static const uint32_t kinds[] = { CKPT_FILE_DELETED, 0 };
static const uint32_t more_types[] = { CKPT_REC_DELETED, CKPT_REC_DELETED_DATA, 0 };

const struct fd_ops fd_deleted_ops = {
	.name = "deleted",
	.kinds = kinds,
	.rec_type = CKPT_REC_FILE_DELETED,
	.is = is_deleted,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_file,
	.more_types = more_types,
	.read_more = read_more,
	.show = show,
};
