/*
 * test_codec.c: the image framing. Round trips; every truncation and every
 * single-byte corruption of a valid image is refused; bad magic, newer
 * formats, oversized and misplaced records are refused; unknown records
 * reach the caller, who may skip them.
 */
#include <errno.h>
#include <unistd.h>
#include "img/codec.h"
#include "lib/unit.h"

#define UNKNOWN_TYPE 999

static void make_header(struct ckpt_hdr_image *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CKPT_IMG_MAGIC, CKPT_IMG_MAGIC_LEN);
	h->major = CKPT_IMG_MAJOR;
	h->minor = CKPT_IMG_MINOR;
	h->hdr_len = sizeof(*h);
	h->arch = CKPT_ARCH_X86_64;
	h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
}

/* A small image: three metadata records (one of unknown type), the mark,
 * one record of page data, the trailer. */
static uint8_t *build(size_t *ret_len, uint32_t big_len)
{
	struct img_stream s;
	struct img_writer w;
	struct ckpt_hdr_image h;
	uint8_t page[8192];
	const uint8_t *mem;
	uint8_t *copy;

	memset(page, 0xa5, sizeof(page));
	make_header(&h);
	img_stream_write_mem(&s);
	img_writer_init(&w, &s);
	img_write_header(&w, &h);
	img_write_rec1(&w, CKPT_REC_FS, "abc", 3);
	img_write_rec1(&w, UNKNOWN_TYPE, "0123456789abcdef", 16);
	if (big_len) {
		struct ckpt_rec_hdr rh = { .type = CKPT_REC_FS, .len = big_len };

		img_write(&s, &rh, sizeof(rh));
	}
	img_write_rec1(&w, CKPT_REC_CREDS, "", 0);
	img_write_mark(&w);
	img_write_rec1(&w, CKPT_REC_PAGES, page, sizeof(page));
	img_write_trailer(&w);
	mem = img_stream_mem(&s, ret_len);
	copy = malloc(*ret_len);
	memcpy(copy, mem, *ret_len);
	img_stream_release(&s);
	return copy;
}

/* Reads a whole image; returns 0 once the trailer verified, else the error.
 * Counts the records seen. */
static int read_all(const uint8_t *buf, size_t len, int *ret_records, int *ret_unknown)
{
	struct img_stream s;
	struct img_reader r;
	struct ckpt_hdr_image h;
	int err, records = 0, unknown = 0;

	img_stream_read_mem(&s, buf, len);
	img_reader_init(&r, &s);
	err = img_read_header(&r, &h);
	while (!err) {
		uint32_t type, rlen;
		void *data;

		err = img_next(&r, &type, &rlen);
		if (err)
			break;
		records++;
		if (type == CKPT_REC_TRAILER)
			break;
		if (type == UNKNOWN_TYPE) {
			unknown++;
			continue;
		}
		if (type != CKPT_REC_PAGES && type != CKPT_REC_MARK)
			err = img_read_payload(&r, &data, &rlen);
	}
	img_reader_release(&r);
	img_stream_release(&s);
	if (ret_records)
		*ret_records = records;
	if (ret_unknown)
		*ret_unknown = unknown;
	return err;
}

TEST(round_trip)
{
	size_t len;
	uint8_t *img = build(&len, 0);
	int records, unknown;

	T_EQ(len % 8, 0);
	T_EQ(read_all(img, len, &records, &unknown), 0);
	T_EQ(records, 6);
	T_EQ(unknown, 1);
	free(img);
}

TEST(payload_and_padding)
{
	size_t len;
	uint8_t *img = build(&len, 0);
	struct img_stream s;
	struct img_reader r;
	struct ckpt_hdr_image h;
	uint32_t type, rlen;
	void *data;

	img_stream_read_mem(&s, img, len);
	img_reader_init(&r, &s);
	T_EQ(img_read_header(&r, &h), 0);
	T_EQ(img_next(&r, &type, &rlen), 0);
	T_EQ(type, CKPT_REC_FS);
	T_EQ(rlen, 3);
	T_EQ(img_read_payload(&r, &data, &rlen), 0);
	T_OK(!memcmp(data, "abc", 3));
	T_EQ(img_next(&r, &type, &rlen), 0);
	T_EQ(type, UNKNOWN_TYPE);
	T_EQ(img_read_data(&r, &h, 17), -EBADMSG); /* more than the record holds */
	img_reader_release(&r);
	img_stream_release(&s);
	free(img);
}

TEST(every_truncation_is_refused)
{
	size_t len;
	uint8_t *img = build(&len, 0);

	for (size_t cut = 0; cut < len; cut++) {
		int err = read_all(img, cut, NULL, NULL);

		if (err != -EBADMSG) {
			T_FAIL("image cut at %zu of %zu: error %d", cut, len, err);
			break;
		}
	}
	free(img);
}

TEST(every_corruption_is_refused)
{
	size_t len;
	uint8_t *img = build(&len, 0);

	for (size_t off = 0; off < len; off++) {
		int err;

		img[off] ^= 0x20;
		err = read_all(img, len, NULL, NULL);
		img[off] ^= 0x20;
		if (err == 0) {
			T_FAIL("flipped byte at %zu of %zu went unnoticed", off, len);
			break;
		}
	}
	free(img);
}

TEST(bad_magic_and_versions)
{
	size_t len;
	uint8_t *img = build(&len, 0);
	struct ckpt_hdr_image *h = (struct ckpt_hdr_image *)img;

	h->magic[1] = 'X';
	T_EQ(read_all(img, len, NULL, NULL), -EBADMSG);
	h->magic[1] = 'C';
	h->major = CKPT_IMG_MAJOR + 1;
	T_EQ(read_all(img, len, NULL, NULL), -EPROTONOSUPPORT);
	h->major = CKPT_IMG_MAJOR;
	h->arch = 3;
	T_EQ(read_all(img, len, NULL, NULL), -EPROTONOSUPPORT);
	h->arch = CKPT_ARCH_X86_64;
	h->hdr_len = 1 << 20;
	T_EQ(read_all(img, len, NULL, NULL), -EBADMSG);
	T_EQ(read_all(img, 0, NULL, NULL), -EBADMSG);
	T_EQ(read_all((const uint8_t *)"hello", 5, NULL, NULL), -EBADMSG);
	free(img);
}

TEST(huge_lengths_are_refused)
{
	size_t len;
	uint8_t *img = build(&len, 0xfffffff0U);

	T_EQ(read_all(img, len, NULL, NULL), -EBADMSG);
	free(img);
	img = build(&len, CKPT_REC_MAX_META + 1);
	T_EQ(read_all(img, len, NULL, NULL), -EBADMSG);
	free(img);
}

TEST(nothing_after_the_trailer)
{
	size_t len;
	uint8_t *img = build(&len, 0);
	uint8_t *longer = calloc(1, len + 16);
	struct img_stream s;
	struct img_reader r;
	struct ckpt_hdr_image h;
	uint32_t type, rlen;
	int err;

	memcpy(longer, img, len);
	img_stream_read_mem(&s, longer, len + 16);
	img_reader_init(&r, &s);
	err = img_read_header(&r, &h);
	do
		err = err ? err : img_next(&r, &type, &rlen);
	while (!err && type != CKPT_REC_TRAILER);
	T_EQ(err, 0);
	T_EQ(img_next(&r, &type, &rlen), -EBADMSG);
	img_reader_release(&r);
	img_stream_release(&s);
	free(longer);
	free(img);
}

int main(void)
{
	unit_file = "unit/codec";
	RUN(round_trip);
	RUN(payload_and_padding);
	RUN(every_truncation_is_refused);
	RUN(every_corruption_is_refused);
	RUN(bad_magic_and_versions);
	RUN(huge_lengths_are_refused);
	RUN(nothing_after_the_trailer);
	return unit_done();
}
