/*
 * image.c: the header, and metadata records into the task-tree model.
 *
 * The reader enforces the structure of the stream: first the tree (one
 * CKPT_REC_PROC per process, the root first, parents before children),
 * then one section per process opened by CKPT_REC_PROC_BEGIN, with thread
 * subsections opened by CKPT_REC_THREAD, then the mark. Records of known
 * types go to their resource; unknown types are skipped. Once the mark is
 * verified, every process and resource checks its part is complete.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "ckpt.h"
#include "core/image.h"
#include "res/res.h"
#include "util/log.h"

#define MAX_PROCS (1U << 20)
#define MAX_THREADS (1U << 16)

void image_make_header(struct ckpt_hdr_image *hdr)
{
	struct utsname u;
	struct timespec ts;

	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr->magic, CKPT_IMG_MAGIC, CKPT_IMG_MAGIC_LEN);
	hdr->major = CKPT_IMG_MAJOR;
	hdr->minor = CKPT_IMG_MINOR;
	hdr->hdr_len = sizeof(*hdr);
	hdr->arch = CKPT_ARCH_X86_64;
	hdr->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	hdr->xstate_size = arch_xstate_size();
	hdr->xfeatures = arch_xfeatures();
	clock_gettime(CLOCK_REALTIME, &ts);
	hdr->time_ns = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	if (!uname(&u)) {
		snprintf(hdr->kernel, sizeof(hdr->kernel), "%s", u.release);
		snprintf(hdr->host, sizeof(hdr->host), "%.*s", (int)sizeof(hdr->host) - 1,
			 u.nodename);
	}
	snprintf(hdr->tool, sizeof(hdr->tool), "%s", CKPT_VERSION);
}

static int damaged(const char *why)
{
	log_err("image is damaged: %s", why);
	return -EBADMSG;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static int read_proc(struct img_reader *r, struct ck_image *img, uint32_t len)
{
	struct ckpt_rec_proc rec;
	struct ck_proc *n;
	int err;

	if (len != sizeof(rec))
		return damaged("bad process record");
	err = img_read_data(r, &rec, sizeof(rec));
	if (err)
		return err;
	if (rec.pid <= 0 || rec.nthreads > MAX_THREADS || img->nprocs >= MAX_PROCS ||
	    rec.flags & ~CKPT_PROC_FLAGS_ALL ||
	    !(rec.flags & CKPT_PROC_ROOT) != (img->nprocs != 0) ||
	    !(rec.flags & CKPT_PROC_ZOMBIE) != (rec.nthreads != 0) ||
	    (rec.flags & CKPT_PROC_ROOT && rec.flags & CKPT_PROC_ZOMBIE) || rec.exit_signal < 0 ||
	    rec.exit_signal > CKPT_NSIG || rec.pad)
		return damaged("bad process record");
	if (rec.flags & CKPT_PROC_STOPPED &&
	    (rec.flags & CKPT_PROC_ZOMBIE || !WIFSTOPPED(rec.exit_status) ||
	     rec.exit_status >> 16 || !is_stop_signal(WSTOPSIG(rec.exit_status))))
		return damaged("bad stopped process record");
	if (model_find_proc(img, rec.pid))
		return damaged("a pid appears twice");
	if (img->nprocs && !model_find_proc(img, rec.ppid))
		return damaged("a process comes before its parent");
	if (rec.flags & CKPT_PROC_SHARES_FILES &&
	    (rec.flags & (CKPT_PROC_ROOT | CKPT_PROC_ZOMBIE) ||
	     model_find_proc(img, rec.ppid)->rec.flags & CKPT_PROC_ZOMBIE))
		return damaged("a process shares the descriptor table of no process");
	n = model_add_proc(img, rec.pid);
	if (!n)
		return -ENOMEM;
	n->rec = rec;
	n->threads = calloc(rec.nthreads ? rec.nthreads : 1, sizeof(struct ck_thread));
	if (!n->threads) {
		model_drop_proc(img, img->nprocs - 1);
		return -ENOMEM;
	}
	return 0;
}

static int read_thread(struct img_reader *r, struct ck_proc *p, uint32_t len,
		       struct ck_thread **ret)
{
	struct ck_thread *t;
	int err;

	if (!p || len != sizeof(struct ckpt_rec_thread) || p->nthreads >= p->rec.nthreads)
		return damaged("misplaced thread record");
	t = &p->threads[p->nthreads];
	err = img_read_data(r, &t->rec, sizeof(t->rec));
	if (err)
		return err;
	if (t->rec.tid <= 0 || (p->nthreads == 0) != (t->rec.tid == p->rec.pid))
		return damaged("bad thread record");
	for (uint32_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].rec.tid == t->rec.tid)
			return damaged("a tid appears twice");
	p->nthreads++;
	*ret = t;
	return 0;
}

static int validate(struct ck_image *img)
{
	if (!img->nprocs)
		return damaged("no processes");
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_proc *p = &img->procs[i];

		if (p->rec.parent_tid) {
			const struct ck_proc *parent = model_find_proc(img, p->rec.ppid);
			bool found = false;

			for (uint32_t t = 1; parent && t < parent->nthreads && !found; t++)
				found = parent->threads[t].rec.tid == p->rec.parent_tid;
			if (!found)
				return damaged(
					"a process was forked by a thread its parent does not have");
		}
		if (p->rec.flags & CKPT_PROC_ZOMBIE) {
			if (p->has_section)
				return damaged("a zombie has a section");
			continue;
		}
		if (!p->has_section || p->nthreads != p->rec.nthreads ||
		    p->have != (1U << CK_HAVE_COUNT) - 1) {
			log_err("image is damaged: the state of pid %d is incomplete", p->rec.pid);
			return -EBADMSG;
		}
		for (size_t k = 0; res_table[k]; k++) {
			int err = res_table[k]->validate ? res_table[k]->validate(img, p) : 0;

			if (err)
				return err;
		}
	}
	return 0;
}

int image_read_meta(struct img_reader *r, struct ck_image *img)
{
	struct ck_proc *cur = NULL;
	struct ck_thread *thread = NULL;
	int err;

	memset(img, 0, sizeof(*img));
	objhash_init(&img->objs);
	err = img_read_header(r, &img->hdr);
	while (!err) {
		uint32_t type, len;
		const struct res_ops *ops;
		void *data;

		err = img_next(r, &type, &len);
		if (err)
			break;
		if (type == CKPT_REC_MARK)
			return validate(img);
		if (type == CKPT_REC_PROC) {
			err = cur ? damaged("process record after the tree")
				  : read_proc(r, img, len);
			continue;
		}
		if (type == CKPT_REC_PROC_BEGIN) {
			struct ckpt_rec_proc_begin b;

			if (len != sizeof(b))
				return damaged("bad process section");
			err = img_read_data(r, &b, sizeof(b));
			if (err)
				break;
			cur = model_find_proc(img, b.pid);
			if (!cur || cur->has_section || cur->rec.flags & CKPT_PROC_ZOMBIE)
				return damaged(
					"process section for an unknown, repeated or dead pid");
			cur->has_section = true;
			thread = NULL;
			continue;
		}
		if (type == CKPT_REC_THREAD) {
			err = read_thread(r, cur, len, &thread);
			continue;
		}
		if (type == CKPT_REC_PAGES)
			return damaged("page data before the mark");
		ops = res_for_type(type);
		if (!ops) {
			log_dbg("skipping a record of unknown type %u", type);
			continue;
		}
		err = img_read_payload(r, &data, &len);
		if (!err)
			err = ops->read(img, cur, thread, type, data, len);
	}
	return err;
}
