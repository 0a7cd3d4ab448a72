/*
 * stream.h: the byte stream an image travels on, with a running checksum of
 * every byte that passes. One stream is either read or written, strictly
 * sequentially, over a file descriptor (file, pipe, socket) or over memory
 * (unit tests and the fuzzer). Written to a descriptor, the stream hashes
 * and writes in a background thread (pipeline.h) while the caller produces
 * the next data, which can go straight into the stream's buffer
 * (img_write_reserve). Large reads bypass the internal buffer so page data
 * is copied once from the kernel to the caller's buffer.
 */
#ifndef IMG_STREAM_H
#define IMG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "img/hash.h"
#include "img/pipeline.h"

struct img_stream {
	int fd; /* -1 for memory streams */
	bool writing;
	uint8_t *buf; /* read: bytes [pos, len) are unread; write: [0, len) are pending */
	size_t cap, pos, len;
	const uint8_t *mem; /* memory source when reading from memory */
	size_t mem_len, mem_pos;
	uint8_t *out; /* memory sink when writing to memory */
	size_t out_len, out_cap;
	uint64_t offset; /* bytes read or written so far */
	struct img_hash hash; /* with a pipeline: valid after img_sync() */
	struct img_pipeline *pipe;
};

int img_stream_read_fd(struct img_stream *s, int fd);
int img_stream_write_fd(struct img_stream *s, int fd);
int img_stream_read_mem(struct img_stream *s, const void *data, size_t len);
int img_stream_write_mem(struct img_stream *s);
void img_stream_release(struct img_stream *s);

/* Memory written so far by a memory write stream (after img_flush). */
const uint8_t *img_stream_mem(const struct img_stream *s, size_t *ret_len);

/* Exactly len bytes, or -EBADMSG if the stream ends first. */
int img_read(struct img_stream *s, void *dst, size_t len);
int img_skip(struct img_stream *s, size_t len);
int img_write(struct img_stream *s, const void *src, size_t len);
/* Room for len bytes (at most IMG_RESERVE_MAX) of output for the caller to
 * fill, then img_write_commit() them. */
#define IMG_RESERVE_MAX (512U << 10)
int img_write_reserve(struct img_stream *s, size_t len, void **ret);
int img_write_commit(struct img_stream *s, size_t len);
/* Passes on everything written; afterwards s->hash covers all of it. */
int img_flush(struct img_stream *s);

#endif
