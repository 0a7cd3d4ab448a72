/*
 * subreaper.c: runs a command as a child subreaper (PR_SET_CHILD_SUBREAPER),
 * so processes orphaned under it (the children of a tree killed by
 * `checkpoint --kill`) are reparented to it instead of to init, and reaped
 * by it: a shell reaps every child it gets. Not every init reaps orphans
 * promptly, and a zombie keeps its PID, which restart needs.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: subreaper COMMAND [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("subreaper: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("subreaper: exec");
	return 127;
}
