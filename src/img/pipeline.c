/*
 * pipeline.c: the ring of slots and the worker thread behind pipeline.h.
 *
 * The worker blocks every signal, so signals meant for ckpt reach the main
 * thread. It writes to a pipe or socket in pieces after poll() says it can,
 * checking for a stop request in between, so an interrupted checkpoint
 * whose reader stalls can still end.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "img/pipeline.h"
#include "util/io.h"

#define SLOTS 4
#define PIPE_PIECE (64U << 10)

struct img_pipeline {
	int fd;
	bool regular;
	struct img_hash *hash;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *slot[SLOTS];
	size_t len[SLOTS];
	unsigned int head; /* the slot the producer fills */
	unsigned int tail; /* the next slot for the worker */
	unsigned int queued;
	int err;
	bool stop;
};

static int write_out(struct img_pipeline *p, const uint8_t *data, size_t len)
{
	if (p->regular)
		return io_write_full(p->fd, data, len);
	while (len) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };
		size_t n = len < PIPE_PIECE ? len : PIPE_PIECE;
		ssize_t w;
		bool stop;

		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			return -errno;
		pthread_mutex_lock(&p->lock);
		stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return -ECANCELED;
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		w = write(p->fd, data, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return -errno;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct img_pipeline *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		unsigned int i;
		int err;

		while (!p->queued && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->queued || p->stop)
			break;
		i = p->tail;
		err = p->err;
		pthread_mutex_unlock(&p->lock);
		img_hash_update(p->hash, p->slot[i], p->len[i]);
		if (!err)
			err = write_out(p, p->slot[i], p->len[i]);
		pthread_mutex_lock(&p->lock);
		if (err && !p->err)
			p->err = err;
		p->tail = (p->tail + 1) % SLOTS;
		p->queued--;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int pipeline_start(struct img_pipeline **ret, int fd, struct img_hash *hash)
{
	struct img_pipeline *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	struct stat st;
	int err;

	if (!p)
		return -ENOMEM;
	p->fd = fd;
	p->hash = hash;
	p->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	for (int i = 0; i < SLOTS; i++) {
		p->slot[i] = aligned_alloc(4096, PIPELINE_SLOT);
		if (!p->slot[i]) {
			while (i--)
				free(p->slot[i]);
			free(p);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&p->thread, NULL, worker, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		for (int i = 0; i < SLOTS; i++)
			free(p->slot[i]);
		free(p);
		return err;
	}
	*ret = p;
	return 0;
}

uint8_t *pipeline_slot(struct img_pipeline *p)
{
	return p->slot[p->head];
}

/* Waits until cond holds or the worker failed; -ECANCELED on interrupt. */
static int wait_until(struct img_pipeline *p, unsigned int max_queued)
{
	int err = 0;

	while (p->queued > max_queued && !p->err) {
		struct timespec ts;

		if (is_interrupted()) {
			err = -ECANCELED;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	return err ? err : p->err;
}

int pipeline_submit(struct img_pipeline *p, size_t len)
{
	int err;

	pthread_mutex_lock(&p->lock);
	if (len) {
		p->len[p->head] = len;
		p->head = (p->head + 1) % SLOTS;
		p->queued++;
		pthread_cond_broadcast(&p->cond);
	}
	/* the new current slot must not be queued: at most SLOTS - 1 are */
	err = wait_until(p, SLOTS - 1);
	pthread_mutex_unlock(&p->lock);
	return err;
}

int pipeline_drain(struct img_pipeline *p)
{
	int err;

	pthread_mutex_lock(&p->lock);
	err = wait_until(p, 0);
	pthread_mutex_unlock(&p->lock);
	return err;
}

void pipeline_stop(struct img_pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	for (int i = 0; i < SLOTS; i++)
		free(p->slot[i]);
	free(p);
}
