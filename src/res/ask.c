/*
 * ask.c: the read-only syscalls checkpoint runs inside a frozen process,
 * gathered so that each thread stops once for all of them.
 *
 * Before any resource collects, every resource's ask hook (and ask_thread,
 * for each thread) adds the calls it needs to the asks of the thread that
 * must run them: the process's own questions and its main thread's go
 * together to the main thread. Each thread then runs its asks as one
 * remote batch: a call that fills a buffer gets its own part of the
 * scratch data area, copied back in one read. The resource's collect hook
 * finds the answers by the order it asked them in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "remote/remote.h"
#include "res/res.h"

struct res_ask {
	struct remote_call call;
	size_t op; /* the resource that asked (res_table index) */
	bool thread; /* asked by ask_thread */
	int buf_arg; /* the argument that points to its buffer */
	uint32_t buf_off, buf_len; /* its buffer: this part of the scratch data area */
	long ret;
};

struct res_asks {
	struct res_ask *v;
	size_t n, cap;
	size_t op; /* the resource asking now */
	bool thread;
	size_t data_used;
	uint8_t *data; /* the data area as the batch left it */
};

static int add(struct res_asks *a, size_t len, int buf_arg, long nr, const long args[6])
{
	struct res_ask *q;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		struct res_ask *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	len = (len + 7) & ~(size_t)7;
	if (a->data_used + len > RES_SCRATCH_DATA)
		return -E2BIG;
	q = &a->v[a->n++];
	*q = (struct res_ask){ .op = a->op, .thread = a->thread, .call.nr = nr };
	memcpy(q->call.args, args, sizeof(q->call.args));
	if (len) {
		q->buf_off = (uint32_t)a->data_used;
		q->buf_len = (uint32_t)len;
		q->buf_arg = buf_arg;
		a->data_used += len;
	}
	return 0;
}

int res_ask(struct res_asks *a, long nr, const long args[6])
{
	return add(a, 0, 0, nr, args);
}

int res_ask_buf(struct res_asks *a, size_t len, int buf_arg, long nr, const long args[6])
{
	return add(a, len, buf_arg, nr, args);
}

/* The asks of thread t (NULL: the process's, which its main thread runs). */
static struct res_asks *asks_of(struct ck_proc *p, struct ck_thread *t)
{
	return t ? t->trace->asks : p->threads[0].trace->asks;
}

long res_answer(const struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t, unsigned int i,
		void *buf, size_t len)
{
	const struct res_asks *a = asks_of(p, t);

	for (size_t k = 0; a && k < a->n; k++) {
		const struct res_ask *q = &a->v[k];

		if (q->op != ctx->op || q->thread != (t != NULL) || i--)
			continue;
		if (len > q->buf_len)
			return -EINVAL;
		if (len)
			memcpy(buf, a->data + q->buf_off, len);
		return q->ret;
	}
	return -EINVAL;
}

static void asks_free(struct res_asks *a)
{
	if (!a)
		return;
	free(a->v);
	free(a->data);
	free(a);
}

void res_asks_release(struct ck_proc *p)
{
	for (uint32_t t = 0; t < p->nthreads; t++) {
		asks_free(p->threads[t].trace->asks);
		p->threads[t].trace->asks = NULL;
	}
}

/* One stop of thread t for all its asks. */
static int run(struct ck_proc *p, struct ck_thread *t)
{
	struct res_asks *a = t->trace->asks;
	unsigned long scratch = p->live->scratch;
	struct remote_call *calls;
	long *rets;
	int err;

	if (!a->n)
		return 0;
	calls = calloc(a->n, sizeof(*calls));
	rets = calloc(a->n, sizeof(*rets));
	a->data = calloc(1, a->data_used + 1);
	err = calls && rets && a->data ? 0 : -ENOMEM;
	for (size_t k = 0; k < a->n && !err; k++) {
		calls[k] = a->v[k].call;
		if (a->v[k].buf_len)
			calls[k].args[a->v[k].buf_arg] = (long)(scratch + a->v[k].buf_off);
	}
	if (!err)
		err = remote_batch(&t->trace->rt, scratch + RES_SCRATCH_DATA,
				   RES_SCRATCH_STUB - RES_SCRATCH_DATA, calls, a->n, rets);
	if (!err && a->data_used)
		err = remote_read(p->rec.pid, scratch, a->data, a->data_used);
	for (size_t k = 0; k < a->n && !err; k++)
		a->v[k].ret = rets[k];
	free(calls);
	free(rets);
	return err;
}

int res_ask_all(struct dump_ctx *ctx, struct ck_proc *p)
{
	int err = 0;

	for (uint32_t t = 0; t < p->nthreads && !err; t++) {
		p->threads[t].trace->asks = calloc(1, sizeof(struct res_asks));
		if (!p->threads[t].trace->asks)
			err = -ENOMEM;
	}
	for (size_t k = 0; res_table[k] && !err; k++) {
		const struct res_ops *ops = res_table[k];

		ctx->op = k;
		if (ops->ask) {
			p->threads[0].trace->asks->op = k;
			p->threads[0].trace->asks->thread = false;
			err = ops->ask(p->threads[0].trace->asks, p);
		}
		for (uint32_t t = 0; t < p->nthreads && ops->ask_thread && !err; t++) {
			p->threads[t].trace->asks->op = k;
			p->threads[t].trace->asks->thread = true;
			err = ops->ask_thread(p->threads[t].trace->asks, p, &p->threads[t]);
		}
	}
	for (uint32_t t = 0; t < p->nthreads && !err; t++)
		err = run(p, &p->threads[t]);
	return err;
}
