/*
 * model.c: lookups and teardown of the task-tree model. Processes are
 * found by pid through an open-addressing index beside the array.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

static uint32_t slot_of(const struct ck_image *img, pid_t pid)
{
	return ((uint32_t)pid * 2654435761U) & (img->nslots - 1);
}

static void index_proc(struct ck_image *img, uint32_t i)
{
	uint32_t s = slot_of(img, img->procs[i].rec.pid);

	while (img->slots[s])
		s = (s + 1) & (img->nslots - 1);
	img->slots[s] = i + 1;
}

/* Builds the index again, for n processes. */
static int reindex(struct ck_image *img, uint32_t n)
{
	uint32_t nslots = img->nslots ? img->nslots : 64;

	while (nslots < 2 * n)
		nslots *= 2;
	if (nslots != img->nslots) {
		uint32_t *slots = calloc(nslots, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		free(img->slots);
		img->slots = slots;
		img->nslots = nslots;
	} else {
		memset(img->slots, 0, nslots * sizeof(*img->slots));
	}
	for (uint32_t i = 0; i < img->nprocs; i++)
		index_proc(img, i);
	return 0;
}

struct ck_proc *model_find_proc(const struct ck_image *img, pid_t pid)
{
	if (!img->nslots)
		return NULL;
	for (uint32_t s = slot_of(img, pid); img->slots[s]; s = (s + 1) & (img->nslots - 1))
		if (img->procs[img->slots[s] - 1].rec.pid == pid)
			return &img->procs[img->slots[s] - 1];
	return NULL;
}

struct ck_proc *model_add_proc(struct ck_image *img, pid_t pid)
{
	struct ck_proc *n;

	if (img->nprocs == img->cap) {
		uint32_t cap = img->cap ? 2 * img->cap : 16;

		n = realloc(img->procs, cap * sizeof(*n));
		if (!n)
			return NULL;
		img->procs = n;
		img->cap = cap;
	}
	if (2 * (img->nprocs + 1) > img->nslots && reindex(img, img->nprocs + 1))
		return NULL;
	n = &img->procs[img->nprocs];
	memset(n, 0, sizeof(*n));
	n->rec.pid = pid;
	index_proc(img, img->nprocs++);
	return n;
}

void model_drop_proc(struct ck_image *img, uint32_t i)
{
	memmove(&img->procs[i], &img->procs[i + 1], (img->nprocs - i - 1) * sizeof(img->procs[0]));
	img->nprocs--;
	reindex(img, img->nprocs); /* the same size: cannot fail */
}

void model_sigqueue_release(struct ck_sigqueue *q)
{
	free(q->info);
	q->info = NULL;
	q->count = 0;
}

int model_sigqueue_add(struct ck_sigqueue *q, const void *info)
{
	void *n = realloc(q->info, (q->count + 1) * sizeof(*q->info));

	if (!n)
		return -ENOMEM;
	q->info = n;
	memcpy(q->info[q->count++], info, CKPT_SIGINFO_SIZE);
	return 0;
}

static void release_proc(struct ck_proc *p)
{
	/* a zombie's one task has no thread record, and may have a trace */
	if (p->threads && !p->nthreads)
		free(p->threads[0].trace);
	for (uint32_t i = 0; i < p->nthreads; i++) {
		free(p->threads[i].xstate);
		free(p->threads[i].trace);
		model_sigqueue_release(&p->threads[i].pending);
	}
	free(p->threads);
	free(p->groups);
	free(p->cwd);
	free(p->root);
	free(p->auxv);
	free(p->exe);
	for (uint32_t i = 0; i < p->nvmas; i++)
		free(p->vmas[i].name);
	free(p->vmas);
	free(p->drops);
	free(p->fds);
	free(p->locks);
	free(p->ptimers);
	for (uint32_t i = 0; i < p->seccomp.count && p->filters; i++)
		free(p->filters[i].insns);
	free(p->filters);
	model_sigqueue_release(&p->shared_pending);
}

void model_release(struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		release_proc(&img->procs[i]);
	free(img->procs);
	free(img->slots);
	objhash_release(&img->objs);
	memset(img, 0, sizeof(*img));
}

const char *model_task_name(const struct ck_proc *p, const struct ck_thread *t, char *buf,
			    size_t len)
{
	if (t && t->rec.tid != p->rec.pid)
		snprintf(buf, len, "pid %d tid %d", p->rec.pid, t->rec.tid);
	else
		snprintf(buf, len, "pid %d", p->rec.pid);
	return buf;
}
