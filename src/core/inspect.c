/*
 * inspect.c: ckpt_show(), a description of an image for people or
 * programs. The whole image is read and verified first (trailer and
 * checksum), so show is also the way to check an image without restarting
 * it; nothing is printed for an image that does not verify.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include "ckpt.h"
#include "core/image.h"
#include "res/res.h"
#include "util/log.h"

const char *ckpt_version(void)
{
	return CKPT_VERSION;
}

/* Reads up to the trailer, counting page data. */
static int read_rest(struct img_reader *r, uint64_t *ret_pages, uint64_t *ret_records)
{
	uint64_t pages = 0;

	for (;;) {
		uint32_t type, len;
		int err = img_next(r, &type, &len);

		if (err)
			return err;
		if (type == CKPT_REC_TRAILER)
			break;
		if (type == CKPT_REC_PAGES) {
			struct ckpt_rec_pages h;

			if (len < sizeof(h))
				return res_bad(type, "is too short");
			err = img_read_data(r, &h, sizeof(h));
			if (err)
				return err;
			pages += h.npages;
		}
	}
	*ret_pages = pages;
	*ret_records = r->records;
	return 0;
}

static void show_header(struct show_ctx *s, const struct ckpt_hdr_image *h, uint64_t pages,
			uint64_t records, uint64_t bytes)
{
	time_t t = (time_t)(h->time_ns / 1000000000);
	struct tm tm;
	char when[64] = "?";

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	show_obj_begin(s, "image", false);
	show_fmt(s, "format", "%u.%u", h->major, h->minor);
	show_str(s, "arch", "x86_64");
	show_u64(s, "page_size", h->page_size);
	show_str(s, "created", when);
	show_str(s, "host", h->host);
	show_str(s, "kernel", h->kernel);
	show_str(s, "tool", h->tool);
	show_hex(s, "xfeatures", h->xfeatures);
	show_u64(s, "records", records);
	show_u64(s, "bytes", bytes);
	show_u64(s, "pages", pages);
	show_str(s, "checksum", "ok");
	show_obj_end(s);
}

static void show_proc(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	show_obj_begin(s, NULL, false);
	show_i64(s, "pid", p->rec.pid);
	show_i64(s, "ppid", p->rec.ppid);
	if (p->rec.parent_tid)
		show_i64(s, "parent_tid", p->rec.parent_tid);
	show_i64(s, "pgid", p->rec.pgid);
	show_i64(s, "sid", p->rec.sid);
	if (p->rec.flags & CKPT_PROC_STOPPED)
		show_i64(s, "stopped_by", WSTOPSIG(p->rec.exit_status));
	if (p->rec.exit_signal != SIGCHLD)
		show_i64(s, "exit_signal", p->rec.exit_signal);
	for (size_t k = 0; res_table[k]; k++)
		if (res_table[k]->show)
			res_table[k]->show(s, img, p);
	show_list_begin(s, "threads");
	for (uint32_t t = 0; t < p->nthreads; t++) {
		show_obj_begin(s, NULL, false);
		show_i64(s, "tid", p->threads[t].rec.tid);
		for (size_t k = 0; res_table[k]; k++)
			if (res_table[k]->show_thread)
				res_table[k]->show_thread(s, p, &p->threads[t]);
		show_obj_end(s);
	}
	show_list_end(s);
	show_obj_end(s);
}

int ckpt_show(int in_fd, FILE *out, unsigned int flags)
{
	struct ck_image img;
	struct img_stream st;
	struct img_reader r;
	struct show_ctx s;
	uint64_t pages = 0, records = 0;
	int err;

	if (flags & ~CKPT_SHOW_JSON)
		return -EINVAL;
	err = img_stream_read_fd(&st, in_fd);
	if (err)
		return err;
	img_reader_init(&r, &st);
	err = image_read_meta(&r, &img);
	if (!err)
		err = read_rest(&r, &pages, &records);
	if (!err) {
		show_init(&s, out, flags & CKPT_SHOW_JSON);
		show_header(&s, &img.hdr, pages, records, st.offset);
		show_list_begin(&s, "processes");
		for (uint32_t i = 0; i < img.nprocs; i++)
			show_proc(&s, &img, &img.procs[i]);
		show_list_end(&s);
		show_finish(&s);
		if (fflush(out))
			err = -errno;
	}
	model_release(&img);
	img_reader_release(&r);
	img_stream_release(&st);
	return err;
}
