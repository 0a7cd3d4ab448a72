/*
 * codec.c: header, record framing, mark and trailer, for writing and reading.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "img/codec.h"
#include "util/log.h"

static const uint8_t zeros[8];

static uint32_t pad_of(uint64_t len)
{
	return (8 - (len & 7)) & 7;
}

void img_writer_init(struct img_writer *w, struct img_stream *s)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
}

int img_write_header(struct img_writer *w, const struct ckpt_hdr_image *hdr)
{
	return img_write(w->s, hdr, sizeof(*hdr));
}

int img_begin_rec(struct img_writer *w, uint32_t type, uint64_t len)
{
	struct ckpt_rec_hdr h = { .type = type, .len = (uint32_t)len };

	if (len > UINT32_MAX - 8)
		return -EOVERFLOW;
	w->records++;
	w->open_len = (uint32_t)len;
	w->open_pad = pad_of(len);
	return img_write(w->s, &h, sizeof(h));
}

int img_rec_data(struct img_writer *w, const void *data, size_t len)
{
	if (len > w->open_len)
		return -EOVERFLOW;
	w->open_len -= len;
	return img_write(w->s, data, len);
}

int img_end_rec(struct img_writer *w)
{
	if (w->open_len)
		return -EINVAL;
	return img_write(w->s, zeros, w->open_pad);
}

int img_write_rec(struct img_writer *w, uint32_t type, const struct iovec *iov, int iovcnt)
{
	uint64_t len = 0;
	int err;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	err = img_begin_rec(w, type, len);
	for (int i = 0; i < iovcnt && !err; i++)
		err = img_rec_data(w, iov[i].iov_base, iov[i].iov_len);
	return err ? err : img_end_rec(w);
}

int img_write_rec1(struct img_writer *w, uint32_t type, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	return img_write_rec(w, type, &iov, 1);
}

int img_rec_reserve(struct img_writer *w, size_t len, void **ret)
{
	if (len > w->open_len)
		return -EOVERFLOW;
	return img_write_reserve(w->s, len, ret);
}

int img_rec_commit(struct img_writer *w, size_t len)
{
	int err;

	if (len > w->open_len)
		return -EOVERFLOW;
	err = img_write_commit(w->s, len);
	if (!err)
		w->open_len -= len;
	return err;
}

int img_write_mark(struct img_writer *w)
{
	struct ckpt_rec_mark m = { .records = w->records };
	int err = img_flush(w->s);

	if (err)
		return err;
	m.checksum = img_hash_final(&w->s->hash);
	return img_write_rec1(w, CKPT_REC_MARK, &m, sizeof(m));
}

int img_write_trailer(struct img_writer *w)
{
	struct ckpt_rec_trailer t = { .records = w->records };
	int err = img_flush(w->s);

	if (err)
		return err;
	memcpy(t.magic, CKPT_TRAILER_MAGIC, sizeof(t.magic));
	t.checksum = img_hash_final(&w->s->hash);
	err = img_write_rec1(w, CKPT_REC_TRAILER, &t, sizeof(t));
	return err ? err : img_flush(w->s);
}

void img_reader_init(struct img_reader *r, struct img_stream *s)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
}

void img_reader_release(struct img_reader *r)
{
	free(r->payload);
	r->payload = NULL;
}

static int bad(const char *what)
{
	log_err("image is damaged: %s", what);
	return -EBADMSG;
}

int img_read_header(struct img_reader *r, struct ckpt_hdr_image *ret_hdr)
{
	struct ckpt_hdr_image h;
	int err;

	err = img_read(r->s, &h, sizeof(h));
	if (err == -EBADMSG && r->s->offset == 0) {
		log_err("image is empty or shorter than a ckpt header");
		return err;
	}
	if (err)
		return err;
	if (memcmp(h.magic, CKPT_IMG_MAGIC, CKPT_IMG_MAGIC_LEN)) {
		log_err("not a ckpt image (bad magic)");
		return -EBADMSG;
	}
	if (h.major != CKPT_IMG_MAJOR) {
		log_err("image format %u.%u is not supported (this ckpt reads %u.x)", h.major,
			h.minor, CKPT_IMG_MAJOR);
		return -EPROTONOSUPPORT;
	}
	if (h.hdr_len < sizeof(h) || h.hdr_len > 4096 || h.hdr_len % 8)
		return bad("bad header length");
	if (h.arch != CKPT_ARCH_X86_64) {
		log_err("image is for machine type %u, not x86_64", h.arch);
		return -EPROTONOSUPPORT;
	}
	if (h.page_size != (uint32_t)sysconf(_SC_PAGESIZE)) {
		log_err("image page size %u differs from this machine's %ld", h.page_size,
			sysconf(_SC_PAGESIZE));
		return -EPROTONOSUPPORT;
	}
	if (h.flags)
		return bad("unknown header flags");
	err = img_skip(r->s, h.hdr_len - sizeof(h));
	if (err)
		return err;
	h.kernel[sizeof(h.kernel) - 1] = '\0';
	h.tool[sizeof(h.tool) - 1] = '\0';
	h.host[sizeof(h.host) - 1] = '\0';
	*ret_hdr = h;
	return 0;
}

static int check_sum(const char *what, uint64_t records, uint64_t checksum, uint64_t want_records,
		     uint64_t want_checksum)
{
	if (records != want_records) {
		log_err("image is damaged: %s counts %llu records, found %llu", what,
			(unsigned long long)records, (unsigned long long)want_records);
		return -EBADMSG;
	}
#ifndef CKPT_FUZZING /* the fuzzer mutates images: let it reach what follows */
	if (checksum != want_checksum) {
		log_err("image is damaged: %s checksum mismatch (stored %016llx, computed %016llx)",
			what, (unsigned long long)checksum, (unsigned long long)want_checksum);
		return -EBADMSG;
	}
#endif
	(void)checksum;
	(void)want_checksum;
	return 0;
}

int img_next(struct img_reader *r, uint32_t *ret_type, uint32_t *ret_len)
{
	struct ckpt_rec_hdr h;
	uint64_t sum, records;
	int err;

	if (r->seen_trailer)
		return bad("record after the trailer");
	err = img_skip(r->s, (size_t)r->left + r->pad);
	if (err)
		return err;
	r->left = r->pad = 0;
	sum = img_hash_final(&r->s->hash);
	records = r->records;
	err = img_read(r->s, &h, sizeof(h));
	if (err)
		return err;
	r->records++;
	r->type = h.type;
	r->left = h.len;
	r->pad = pad_of(h.len);
	if (h.type == CKPT_REC_MARK) {
		struct ckpt_rec_mark m;

		if (r->seen_mark || h.len != sizeof(m))
			return bad("misplaced or malformed mark");
		err = img_read_data(r, &m, sizeof(m));
		if (err)
			return err;
		err = check_sum("metadata", m.records, m.checksum, records, sum);
		if (err)
			return err;
		r->seen_mark = true;
	} else if (h.type == CKPT_REC_TRAILER) {
		struct ckpt_rec_trailer t;

		if (!r->seen_mark || h.len != sizeof(t))
			return bad("misplaced or malformed trailer");
		err = img_read_data(r, &t, sizeof(t));
		if (err)
			return err;
		if (memcmp(t.magic, CKPT_TRAILER_MAGIC, sizeof(t.magic)))
			return bad("bad trailer magic");
		err = check_sum("trailer", t.records, t.checksum, records, sum);
		if (err)
			return err;
		err = img_skip(r->s, r->pad);
		if (err)
			return err;
		r->pad = 0;
		r->seen_trailer = true;
	} else if (h.type != CKPT_REC_PAGES && h.len > CKPT_REC_MAX_META) {
		log_err("image is damaged: %s record of %u bytes exceeds the limit",
			img_rec_name(h.type), h.len);
		return -EBADMSG;
	}
	*ret_type = h.type;
	*ret_len = h.len;
	return 0;
}

int img_read_data(struct img_reader *r, void *dst, size_t len)
{
	if (len > r->left) {
		log_err("image is damaged: %s record is shorter than its contents",
			img_rec_name(r->type));
		return -EBADMSG;
	}
	r->left -= len;
	return img_read(r->s, dst, len);
}

int img_read_payload(struct img_reader *r, void **ret_data, uint32_t *ret_len)
{
	uint32_t len = r->left;
	int err;

	if (len > CKPT_REC_MAX_META)
		return bad("oversized record");
	if (len + 1 > r->payload_cap) {
		size_t cap = len + 1 > 4096 ? len + 1 : 4096;
		void *p = realloc(r->payload, cap);

		if (!p)
			return -ENOMEM;
		r->payload = p;
		r->payload_cap = cap;
	}
	err = img_read_data(r, r->payload, len);
	if (err)
		return err;
	((char *)r->payload)[len] = '\0';
	*ret_data = r->payload;
	*ret_len = len;
	return 0;
}

const char *img_rec_name(uint32_t type)
{
	switch (type) {
	case CKPT_REC_MARK:
		return "mark";
	case CKPT_REC_TRAILER:
		return "trailer";
	case CKPT_REC_PROC:
		return "proc";
	case CKPT_REC_PROC_BEGIN:
		return "proc-begin";
	case CKPT_REC_TASK:
		return "task";
	case CKPT_REC_THREAD:
		return "thread";
	case CKPT_REC_CREDS:
		return "creds";
	case CKPT_REC_RLIMITS:
		return "rlimits";
	case CKPT_REC_FS:
		return "fs";
	case CKPT_REC_THREAD_SCHED:
		return "thread-sched";
	case CKPT_REC_SECCOMP:
		return "seccomp";
	case CKPT_REC_X86_REGS:
		return "x86-regs";
	case CKPT_REC_X86_XSTATE:
		return "x86-xstate";
	case CKPT_REC_FILE:
		return "file";
	case CKPT_REC_FD:
		return "fd";
	case CKPT_REC_PIPE:
		return "pipe";
	case CKPT_REC_EVENTFD:
		return "eventfd";
	case CKPT_REC_SIGNALFD:
		return "signalfd";
	case CKPT_REC_TIMERFD:
		return "timerfd";
	case CKPT_REC_EPOLL:
		return "epoll";
	case CKPT_REC_INOTIFY:
		return "inotify";
	case CKPT_REC_LOCKS:
		return "locks";
	case CKPT_REC_MQUEUE:
		return "mqueue";
	case CKPT_REC_UNIX:
		return "unix";
	case CKPT_REC_MM:
		return "mm";
	case CKPT_REC_VMA:
		return "vma";
	case CKPT_REC_PAGES:
		return "pages";
	case CKPT_REC_SHMEM:
		return "shmem";
	case CKPT_REC_MM_DROP:
		return "mm-drop";
	case CKPT_REC_SHM_FILE:
		return "shm-file";
	case CKPT_REC_SYSV_SHM:
		return "sysv-shm";
	case CKPT_REC_SYSV_SEM:
		return "sysv-sem";
	case CKPT_REC_SYSV_MSG:
		return "sysv-msg";
	case CKPT_REC_SIGACTIONS:
		return "sigactions";
	case CKPT_REC_SIGPENDING:
		return "sigpending";
	case CKPT_REC_TIMERS:
		return "timers";
	}
	return "unknown";
}
