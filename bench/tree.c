/*
 * tree.c: a tree of N processes (default 100) shaped like a preforking
 * server: a root, a pool of workers (40% of the tree), most of which run
 * one or two helpers, some helpers with a helper of their own:
 *
 *   root                        waits for its children (wait4)
 *   +- worker 1..W              workers with helpers wait for them,
 *   |  +- helper (1 or 2)       the others sleep (pause, nanosleep)
 *   |     +- helper's helper
 *
 * Every process blocks in an ordinary call, as an idle server does. When
 * the whole tree exists, the root creates the file "ready" in its
 * directory. Used by bench/tasks.sh.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TASKS 4096

static int parent_of[MAX_TASKS];

/*
 * The plan: parent_of[k] for every process k but the root (0). Workers
 * come first, then a first helper for three workers in four, a second
 * helper for half of those, and what is left goes one level down, to the
 * first helpers in turn.
 */
static void plan(int n)
{
	int workers = n * 2 / 5, k = 1, first_helpers;

	if (workers < 1)
		workers = 1;
	for (int w = 0; w < workers && k < n; w++)
		parent_of[k++] = 0;
	first_helpers = k;
	for (int w = 1; w <= workers * 3 / 4 && k < n; w++)
		parent_of[k++] = w;
	first_helpers = k - first_helpers;
	for (int w = 1; w <= workers * 3 / 8 && k < n; w++)
		parent_of[k++] = w;
	for (int h = 0; k < n; h++)
		parent_of[k++] = first_helpers ? workers + 1 + h % first_helpers : h % workers + 1;
}

/* Forks the tree, then blocks: each process forks its children, reports
 * itself created through the pipe (by closing its end: the root reads to
 * end of file), then waits or sleeps. */
static void run(int n, int pipe_rd, int pipe_wr)
{
	int self = 0, nkids = 0;

	for (int k = 1; k < n; k++) {
		pid_t pid;

		if (parent_of[k] != self)
			continue;
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid > 0) {
			nkids++;
			continue;
		}
		/* the child becomes process k and goes on with its own
		 * children, which come after it in the plan */
		self = k;
		nkids = 0;
	}
	close(pipe_wr);
	if (self == 0) {
		char c;

		while (read(pipe_rd, &c, 1) > 0)
			;
		close(pipe_rd);
		close(open("ready", O_WRONLY | O_CREAT, 0644));
	} else {
		close(pipe_rd);
	}
	if (nkids) {
		while (wait4(-1, NULL, 0, NULL) > 0)
			;
	}
	if (self % 2) {
		for (;;)
			pause();
	} else {
		struct timespec ts = { 100000, 0 };

		for (;;)
			nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	int n = atoi(argc > 1 ? argv[1] : "100"), p[2];

	if (n < 1 || n > MAX_TASKS || pipe(p))
		return 2;
	plan(n);
	run(n, p[0], p[1]);
	return 0;
}
