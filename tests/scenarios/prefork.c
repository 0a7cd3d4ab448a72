/*
 * prefork.c: a pre-forking server. The parent fills a 64 MiB heap with
 * data and forks 4 workers, which inherit it copy-on-write and read it;
 * requests ("sum these words of the heap") go to the workers through a
 * ring buffer in MAP_SHARED|MAP_ANONYMOUS memory guarded by a process-shared
 * pthread mutex and condition variables, and the results come back the
 * same way. The parent keeps submitting requests and checks every result
 * against its own copy of the heap, and that every request is answered
 * exactly once. Each process also wrote its own mark in the heap after the
 * fork (the parent in word 0, worker k in word 1), which the others must
 * not see. Like real servers, the workers drop their privileges (to user
 * and group nobody, no supplementary groups) and ask for SIGKILL should
 * the server die (PR_SET_PDEATHSIG).
 *
 * The checkpoint comes in the middle of the work. After restart, on
 * SIGTERM: the parent checks its ids and marks, goes on until every
 * worker has answered at least 50 more requests (the work goes on and
 * every result is still right), then tells the workers to quit. Each
 * worker checks its ids (its parent is the server), its credentials and
 * parent-death signal, its marks, its whole heap, and that its queue
 * mapping is the very object the parent's is (the same inode, and it saw
 * the parent's writes to it); the parent collects their verdicts.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define HEAP_WORDS (64UL << 20) / 8
#define NWORKERS 4
#define RING 64
#define WINDOW 1024 /* requests issued but not all answered yet, at most */
#define MAX_LEN 4096 /* words summed by a request, at most */
#define FIRST_WORD 512 /* requests keep off the first page (the marks) */
#define PARENT_MARK 0x5e55e55e5e55e55eULL
#define WORKER_MARK(k) (0x3030303030303030ULL + (uint64_t)(k))
#define MORE_AFTER_TOLD 50
#define NOBODY 65534

struct req {
	uint64_t id;
};

struct res {
	uint64_t id, sum;
	int worker;
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t has_req, has_res, res_room;
	uint32_t req_head, req_tail, res_head, res_tail;
	struct req reqs[RING];
	struct res ress[RING];
	int quit, started;
	uint64_t nonce; /* written by the parent, echoed by the workers */
	uint64_t echo[NWORKERS];
	unsigned long ino[NWORKERS + 1]; /* the queue mapping's inode, as each sees it */
};

static uint64_t *heap;
static struct queue *q;
static pid_t parent_pid;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* What request id asks: the words [off, off + len) */
static void request(uint64_t id, uint64_t *off, uint64_t *len)
{
	*len = 1 + mix(id * 3 + 1) % MAX_LEN;
	*off = FIRST_WORD + mix(id) % (HEAP_WORDS - FIRST_WORD - MAX_LEN);
}

static uint64_t sum_of(uint64_t id)
{
	uint64_t off, len, sum = 0;

	request(id, &off, &len);
	for (uint64_t i = off; i < off + len; i++)
		sum += heap[i] ^ i;
	return sum;
}

/* The inode of the mapping at addr, from /proc/self/maps. */
static unsigned long inode_of(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long start, end, ino, found = 0;
	char line[512];

	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &start, &end, &ino) == 3 &&
		    (unsigned long)addr >= start && (unsigned long)addr < end)
			found = ino;
	}
	fclose(f);
	CHECK(found);
	return found;
}

static void check_heap(uint64_t word0, uint64_t word1, const char *who)
{
	if (heap[0] != word0 || heap[1] != word1)
		scen_fail("%s: marks 0x%" PRIx64 " 0x%" PRIx64 ", not 0x%" PRIx64 " 0x%" PRIx64,
			  who, heap[0], heap[1], word0, word1);
	for (uint64_t i = 2; i < HEAP_WORDS; i++)
		if (heap[i] != mix(i))
			scen_fail("%s: heap word %" PRIu64 " is 0x%" PRIx64, who, i, heap[i]);
}

/* The absolute CLOCK_MONOTONIC time ms from now. */
static struct timespec after_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/* A worker waits on cond, but ends should the server be gone. */
static void worker_wait(pthread_cond_t *cond, pid_t ppid)
{
	struct timespec until = after_ms(1000);

	pthread_cond_timedwait(cond, &q->lock, &until);
	if (getppid() != ppid) {
		pthread_mutex_unlock(&q->lock);
		_exit(3);
	}
}

static void worker(int k)
{
	pid_t ppid = getppid(), pid = getpid(), pgid = getpgid(0), sid = getsid(0);
	char who[16];

	snprintf(who, sizeof(who), "worker %d", k);
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		scen_fail("%s: cannot become nobody: %m", who);
	CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL));
	if (getppid() != ppid)
		_exit(3);
	heap[1] = WORKER_MARK(k);
	pthread_mutex_lock(&q->lock);
	q->ino[k + 1] = inode_of(q);
	q->started++;
	pthread_cond_broadcast(&q->has_res);
	for (;;) {
		struct req r;
		struct res out;

		while (q->req_head == q->req_tail && !q->quit)
			worker_wait(&q->has_req, ppid);
		if (q->req_head == q->req_tail)
			break;
		r = q->reqs[q->req_head++ % RING];
		q->echo[k] = q->nonce;
		pthread_mutex_unlock(&q->lock);
		out = (struct res){ r.id, sum_of(r.id), k };
		pthread_mutex_lock(&q->lock);
		while (q->res_tail - q->res_head == RING)
			worker_wait(&q->res_room, ppid);
		q->ress[q->res_tail++ % RING] = out;
		pthread_cond_signal(&q->has_res);
	}
	q->echo[k] = q->nonce;
	pthread_mutex_unlock(&q->lock);
	/* told to quit: after the restart */
	if (getpid() != pid || getppid() != ppid || getpgid(0) != pgid || getsid(0) != sid)
		scen_fail("%s: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", who, getpid(),
			  getppid(), getpgid(0), getsid(0), pid, ppid, pgid, sid);
	CHECK_EQ(ppid, parent_pid);
	{
		uid_t r, e, su;
		gid_t rg, eg, sg;
		int sig = 0;

		CHECK_SYS(getresuid(&r, &e, &su));
		CHECK_SYS(getresgid(&rg, &eg, &sg));
		if (r != NOBODY || e != NOBODY || su != NOBODY || rg != NOBODY || eg != NOBODY ||
		    sg != NOBODY || getgroups(0, NULL) != 0)
			scen_fail("%s: uids %d %d %d gids %d %d %d, %d groups: not nobody", who, r,
				  e, su, rg, eg, sg, getgroups(0, NULL));
		CHECK_SYS(prctl(PR_GET_PDEATHSIG, &sig));
		CHECK_EQ(sig, SIGKILL);
	}
	check_heap(mix(0), WORKER_MARK(k), who);
	if (inode_of(q) != q->ino[0])
		scen_fail("%s: its queue is inode %lu, the server's %lu", who, inode_of(q),
			  q->ino[0]);
	exit(0);
}

struct server {
	uint64_t next_id, low; /* ids issued; every id below low is answered */
	uint64_t answered[WINDOW]; /* id + 1 of the answer in slot id % WINDOW */
	uint64_t per_worker[NWORKERS], results;
	bool draining; /* issues no more requests */
};

static struct server srv;

/* Submits what the window allows, then takes the results there are
 * (waiting up to 100 ms for one). Called with the lock held. */
static void serve(void)
{
	struct timespec until = after_ms(100);

	while (!srv.draining && q->req_tail - q->req_head < RING &&
	       srv.next_id < srv.low + WINDOW) {
		q->reqs[q->req_tail++ % RING] = (struct req){ srv.next_id++ };
		pthread_cond_signal(&q->has_req);
	}
	while (q->res_head == q->res_tail)
		if (pthread_cond_timedwait(&q->has_res, &q->lock, &until) == ETIMEDOUT)
			break;
	while (q->res_head != q->res_tail) {
		struct res r = q->ress[q->res_head++ % RING];
		uint64_t expect;

		pthread_cond_signal(&q->res_room);
		pthread_mutex_unlock(&q->lock);
		if (r.id >= srv.next_id || r.id < srv.low ||
		    srv.answered[r.id % WINDOW] == r.id + 1)
			scen_fail("server: an answer to request %" PRIu64 ", which is not waiting",
				  r.id);
		if (r.worker < 0 || r.worker >= NWORKERS)
			scen_fail("server: an answer from worker %d", r.worker);
		expect = sum_of(r.id);
		if (r.sum != expect)
			scen_fail("server: worker %d answered request %" PRIu64 " with 0x%" PRIx64
				  ", not 0x%" PRIx64,
				  r.worker, r.id, r.sum, expect);
		srv.answered[r.id % WINDOW] = r.id + 1;
		while (srv.low < srv.next_id && srv.answered[srv.low % WINDOW] == srv.low + 1)
			srv.low++;
		srv.per_worker[r.worker]++;
		srv.results++;
		pthread_mutex_lock(&q->lock);
	}
}

static bool each_answered(const uint64_t *since, uint64_t n)
{
	for (int k = 0; k < NWORKERS; k++)
		if (srv.per_worker[k] < since[k] + n)
			return false;
	return true;
}

int main(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pid_t workers[NWORKERS], pid = getpid(), pgid = getpgid(0), sid = getsid(0);
	uint64_t since[NWORKERS], deadline;
	int status;

	scen_init();
	parent_pid = pid;
	heap = malloc(HEAP_WORDS * sizeof(*heap));
	CHECK(heap);
	for (uint64_t i = 0; i < HEAP_WORDS; i++)
		heap[i] = mix(i);
	q = mmap(NULL, sizeof(*q), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(q != MAP_FAILED);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	CHECK_EQ(pthread_mutex_init(&q->lock, &ma), 0);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	CHECK_EQ(pthread_cond_init(&q->has_req, &ca), 0);
	CHECK_EQ(pthread_cond_init(&q->has_res, &ca), 0);
	CHECK_EQ(pthread_cond_init(&q->res_room, &ca), 0);
	q->ino[0] = inode_of(q);
	for (int k = 0; k < NWORKERS; k++) {
		workers[k] = fork();
		CHECK_SYS(workers[k]);
		if (workers[k] == 0)
			worker(k);
	}
	heap[0] = PARENT_MARK;

	/* the workers are up and the work flows */
	pthread_mutex_lock(&q->lock);
	while (q->started < NWORKERS || srv.results < 2000)
		serve();
	pthread_mutex_unlock(&q->lock);
	for (int k = 1; k <= NWORKERS; k++)
		CHECK_EQ(q->ino[k], q->ino[0]);
	scen_ready();

	pthread_mutex_lock(&q->lock);
	while (!scen_told())
		serve();
	pthread_mutex_unlock(&q->lock);

	/* after the restart */
	if (getpid() != pid || getpgid(0) != pgid || getsid(0) != sid)
		scen_fail("server: pid/pgid/sid %d/%d/%d, were %d/%d/%d", getpid(), getpgid(0),
			  getsid(0), pid, pgid, sid);
	check_heap(PARENT_MARK, mix(1), "server");
	memcpy(since, srv.per_worker, sizeof(since));
	deadline = scen_now_ns() + 20 * 1000000000ULL;
	pthread_mutex_lock(&q->lock);
	q->nonce = 0x1234567890abcdefULL;
	q->ino[0] = inode_of(q); /* a new object since the restart: one for all */
	while (!each_answered(since, MORE_AFTER_TOLD) && scen_now_ns() < deadline)
		serve();
	pthread_mutex_unlock(&q->lock);
	if (!each_answered(since, MORE_AFTER_TOLD))
		scen_fail("server: answers since the restart: %" PRIu64 " %" PRIu64 " %" PRIu64
			  " %" PRIu64 ", some worker is stuck",
			  srv.per_worker[0] - since[0], srv.per_worker[1] - since[1],
			  srv.per_worker[2] - since[2], srv.per_worker[3] - since[3]);
	/* every request issued is answered, then the workers quit */
	deadline = scen_now_ns() + 10 * 1000000000ULL;
	srv.draining = true;
	pthread_mutex_lock(&q->lock);
	while (srv.low < srv.next_id && scen_now_ns() < deadline)
		serve();
	pthread_mutex_unlock(&q->lock);
	if (srv.low < srv.next_id)
		scen_fail("server: request %" PRIu64 " was never answered", srv.low);
	pthread_mutex_lock(&q->lock);
	q->quit = 1;
	pthread_cond_broadcast(&q->has_req);
	pthread_mutex_unlock(&q->lock);
	for (int k = 0; k < NWORKERS; k++) {
		if (waitpid(workers[k], &status, 0) != workers[k])
			scen_fail("server: waitpid(worker %d): %m", k);
		if (status)
			scen_fail("server: worker %d ended with status 0x%x", k, status);
		CHECK_EQ(q->echo[k], q->nonce);
	}
	CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
	CHECK_EQ(q->res_head, q->res_tail);
	scen_pass();
}
