/*
 * codec.h: the image's framing on top of a stream: the header, records
 * { type, len, payload, padding to 8 bytes }, and the two checkpoints of
 * integrity: the mark after the metadata and the trailer at the end, each
 * carrying the record count and the checksum of everything before it.
 *
 * The reader bounds every length before trusting it and verifies the mark
 * and the trailer itself; callers see them as records of their type only
 * once they have been verified.
 */
#ifndef IMG_CODEC_H
#define IMG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "ckpt_image.h"
#include "img/stream.h"

struct img_writer {
	struct img_stream *s;
	uint64_t records;
	uint32_t open_len; /* payload bytes still due in the open record */
	uint32_t open_pad;
};

struct img_reader {
	struct img_stream *s;
	uint64_t records;
	uint32_t left; /* unread payload bytes of the current record */
	uint32_t pad; /* padding after it */
	uint32_t type;
	bool seen_mark;
	bool seen_trailer;
	void *payload; /* buffer for img_read_payload */
	size_t payload_cap;
};

void img_writer_init(struct img_writer *w, struct img_stream *s);
int img_write_header(struct img_writer *w, const struct ckpt_hdr_image *hdr);
/* A record made of the given pieces, concatenated. */
int img_write_rec(struct img_writer *w, uint32_t type, const struct iovec *iov, int iovcnt);
int img_write_rec1(struct img_writer *w, uint32_t type, const void *data, size_t len);
/* A record whose payload the caller then writes with img_write() in
 * exactly len bytes, closed with img_end_rec(). */
int img_begin_rec(struct img_writer *w, uint32_t type, uint64_t len);
int img_rec_data(struct img_writer *w, const void *data, size_t len);
int img_end_rec(struct img_writer *w);
/* Room in the stream for len bytes of the open record, to be filled by the
 * caller (at most IMG_RESERVE_MAX), then committed. */
int img_rec_reserve(struct img_writer *w, size_t len, void **ret);
int img_rec_commit(struct img_writer *w, size_t len);
int img_write_mark(struct img_writer *w);
int img_write_trailer(struct img_writer *w);

void img_reader_init(struct img_reader *r, struct img_stream *s);
void img_reader_release(struct img_reader *r);
/* Reads and checks the header: magic, major version, architecture, page size. */
int img_read_header(struct img_reader *r, struct ckpt_hdr_image *ret_hdr);
/* Moves to the next record, skipping what is left of the current one.
 * Returns its type and payload length. CKPT_REC_MARK and CKPT_REC_TRAILER
 * are returned only after their checksum has been verified. */
int img_next(struct img_reader *r, uint32_t *ret_type, uint32_t *ret_len);
/* Reads len bytes of the current record's payload. */
int img_read_data(struct img_reader *r, void *dst, size_t len);
/* Reads the whole remaining payload (at most CKPT_REC_MAX_META bytes) into a
 * buffer that stays valid until the next call on the reader. */
int img_read_payload(struct img_reader *r, void **ret_data, uint32_t *ret_len);

const char *img_rec_name(uint32_t type);

#endif
