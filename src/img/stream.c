/*
 * stream.c: buffered sequential I/O with a running XXH64 over every byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "img/stream.h"
#include "util/io.h"
#include "util/log.h"

#define STREAM_BUF (1U << 20) /* at least IMG_RESERVE_MAX */

static int stream_init(struct img_stream *s, int fd, bool writing)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->writing = writing;
	s->cap = STREAM_BUF;
	s->buf = malloc(s->cap);
	if (!s->buf)
		return -ENOMEM;
	img_hash_init(&s->hash);
	return 0;
}

int img_stream_read_fd(struct img_stream *s, int fd)
{
	return stream_init(s, fd, false);
}

int img_stream_write_fd(struct img_stream *s, int fd)
{
	int err = stream_init(s, fd, true);

	if (!err)
		err = pipeline_start(&s->pipe, fd, &s->hash);
	if (err)
		return err;
	free(s->buf);
	s->buf = pipeline_slot(s->pipe);
	s->cap = PIPELINE_SLOT;
	return 0;
}

int img_stream_read_mem(struct img_stream *s, const void *data, size_t len)
{
	int err = stream_init(s, -1, false);

	s->mem = data;
	s->mem_len = len;
	return err;
}

int img_stream_write_mem(struct img_stream *s)
{
	return stream_init(s, -1, true);
}

void img_stream_release(struct img_stream *s)
{
	if (s->pipe)
		pipeline_stop(s->pipe);
	else
		free(s->buf);
	free(s->out);
	s->pipe = NULL;
	s->buf = NULL;
	s->out = NULL;
}

const uint8_t *img_stream_mem(const struct img_stream *s, size_t *ret_len)
{
	*ret_len = s->out_len;
	return s->out;
}

/* Reads up to len bytes from the source; 0 at the end of the stream. */
static ssize_t source_read(struct img_stream *s, void *dst, size_t len)
{
	if (s->fd < 0) {
		size_t n = s->mem_len - s->mem_pos;

		if (n > len)
			n = len;
		memcpy(dst, s->mem + s->mem_pos, n);
		s->mem_pos += n;
		return n;
	}
	return io_read_full(s->fd, dst, len);
}

static int sink_write(struct img_stream *s, const void *src, size_t len)
{
	if (s->fd < 0) {
		if (s->out_len + len > s->out_cap) {
			size_t cap = s->out_cap ? s->out_cap : 4096;
			uint8_t *out;

			while (cap < s->out_len + len)
				cap *= 2;
			out = realloc(s->out, cap);
			if (!out)
				return -ENOMEM;
			s->out = out;
			s->out_cap = cap;
		}
		memcpy(s->out + s->out_len, src, len);
		s->out_len += len;
		return 0;
	}
	return io_write_full(s->fd, src, len);
}

static int truncated(void)
{
	log_err("image is truncated");
	return -EBADMSG;
}

int img_read(struct img_stream *s, void *dst, size_t len)
{
	uint8_t *d = dst;
	size_t want = len;

	if (!len)
		return 0;
	while (want) {
		size_t avail = s->len - s->pos;
		ssize_t n;

		if (avail) {
			size_t take = avail < want ? avail : want;

			memcpy(d, s->buf + s->pos, take);
			s->pos += take;
			d += take;
			want -= take;
			continue;
		}
		if (want >= s->cap / 2) {
			n = source_read(s, d, want);
			if (n < 0)
				return n;
			if ((size_t)n < want)
				return truncated();
			d += n;
			want = 0;
			break;
		}
		n = s->fd < 0 ? source_read(s, s->buf, s->cap) : read(s->fd, s->buf, s->cap);
		if (n < 0) {
			if (errno == EINTR && !is_interrupted())
				continue;
			return errno == EINTR ? -ECANCELED : -errno;
		}
		if (n == 0)
			return truncated();
		s->pos = 0;
		s->len = n;
	}
	img_hash_update(&s->hash, dst, len);
	s->offset += len;
	return 0;
}

int img_skip(struct img_stream *s, size_t len)
{
	uint8_t tmp[4096];

	while (len) {
		size_t n = len < sizeof(tmp) ? len : sizeof(tmp);
		int err = img_read(s, tmp, n);

		if (err)
			return err;
		len -= n;
	}
	return 0;
}

/* Hands the buffered bytes on: to the pipeline, or hashed to the sink. */
static int pass_on(struct img_stream *s)
{
	int err = 0;

	if (s->pipe) {
		err = pipeline_submit(s->pipe, s->len);
		s->buf = pipeline_slot(s->pipe);
	} else if (s->len) {
		img_hash_update(&s->hash, s->buf, s->len);
		err = sink_write(s, s->buf, s->len);
	}
	s->len = 0;
	return err;
}

int img_flush(struct img_stream *s)
{
	int err = pass_on(s);

	return err ? err : s->pipe ? pipeline_drain(s->pipe) : 0;
}

int img_write(struct img_stream *s, const void *src, size_t len)
{
	const uint8_t *p = src;

	s->offset += len;
	while (len) {
		size_t n = s->cap - s->len < len ? s->cap - s->len : len;
		int err;

		memcpy(s->buf + s->len, p, n);
		s->len += n;
		p += n;
		len -= n;
		if (s->len == s->cap) {
			err = pass_on(s);
			if (err)
				return err;
		}
	}
	return 0;
}

int img_write_reserve(struct img_stream *s, size_t len, void **ret)
{
	if (len > IMG_RESERVE_MAX)
		return -EINVAL;
	if (s->cap - s->len < len) {
		int err = pass_on(s);

		if (err)
			return err;
	}
	*ret = s->buf + s->len;
	return 0;
}

int img_write_commit(struct img_stream *s, size_t len)
{
	if (len > s->cap - s->len)
		return -EINVAL;
	s->len += len;
	s->offset += len;
	return 0;
}
