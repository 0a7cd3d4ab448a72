/*
 * model.c: lookups and teardown of the task-tree model.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/model.h"

struct ck_proc *model_find_proc(const struct ck_image *img, pid_t pid)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (img->procs[i].rec.pid == pid)
			return &img->procs[i];
	return NULL;
}

struct ck_proc *model_add_proc(struct ck_image *img)
{
	struct ck_proc *n = realloc(img->procs, (img->nprocs + 1) * sizeof(*n));

	if (!n)
		return NULL;
	img->procs = n;
	n += img->nprocs++;
	memset(n, 0, sizeof(*n));
	return n;
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
	for (uint32_t i = 0; i < p->nthreads; i++) {
		free(p->threads[i].xstate);
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
