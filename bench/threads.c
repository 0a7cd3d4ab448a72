/*
 * threads.c: one process with N threads (default 100, the main thread
 * included), shaped like a thread-pool server: most threads wait on a
 * condition variable for work that never comes, some sleep (nanosleep),
 * some wait for a signal (sigwait), and the main thread joins them. Each
 * thread has touched a little stack of its own. When every thread has
 * started, the main thread creates the file "ready" in its directory.
 * Used by bench/tasks.sh.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;

static void *worker(void *arg)
{
	long i = (long)arg;
	volatile char scratch[16384];

	memset((char *)scratch, (int)i, sizeof(scratch));
	pthread_barrier_wait(&started);
	if (i % 4 == 1) {
		struct timespec ts = { 100000, 0 };

		for (;;)
			nanosleep(&ts, NULL);
	} else if (i % 4 == 2) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		for (;;)
			sigwait(&set, &sig);
	}
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&work, &lock);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = atoi(argc > 1 ? argv[1] : "100");
	pthread_t *t;
	sigset_t set;

	if (n < 1)
		return 2;
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	/* SIGUSR1 is for the threads that sigwait for it */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_init(&started, NULL, (unsigned)n);
	for (long i = 1; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i))
			return 1;
	pthread_barrier_wait(&started);
	close(open("ready", O_WRONLY | O_CREAT, 0644));
	for (int i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
