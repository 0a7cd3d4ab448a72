/*
 * launch.c: starts a real program, one not written for ckpt, as a scenario
 * target, by exec: the process the runner checkpoints is the program
 * itself, launch leaves nothing behind in it (no descriptor, no mapping).
 *
 *   launch script INTERP NAME [ARGS...]
 *       runs INTERP on the script tests/scenarios/NAME, found in the source
 *       tree above this executable (the runner starts targets in a scratch
 *       directory and passes list commands on verbatim, so a list line
 *       cannot name a script by a path that works everywhere). The script
 *       follows the scenario protocol itself.
 *   launch ready PROG [ARGS...]
 *       creates the file "ready" and runs PROG: for programs that know
 *       nothing of the protocol and end by themselves (option "self").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/scen.h"

/* Looks for tests/scenarios/NAME in the directories above this executable. */
static void find_script(const char *name, char *path, size_t len)
{
	char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	char *slash;

	if (n < 0)
		scen_fail("readlink /proc/self/exe: %m");
	dir[n] = '\0';
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if ((size_t)snprintf(path, len, "%s/tests/scenarios/%s", dir, name) >= len)
			scen_fail("path too long");
		if (!access(path, R_OK))
			return;
	}
	scen_fail("tests/scenarios/%s not found above %s", name, dir);
}

int main(int argc, char **argv)
{
	char script[PATH_MAX];

	if (argc >= 4 && !strcmp(argv[1], "script")) {
		find_script(argv[3], script, sizeof(script));
		argv[3] = script;
		execv(argv[2], argv + 2);
		scen_fail("exec %s: %m", argv[2]);
	}
	if (argc >= 3 && !strcmp(argv[1], "ready")) {
		scen_ready();
		execv(argv[2], argv + 2);
		scen_fail("exec %s: %m", argv[2]);
	}
	scen_fail("usage: launch script INTERP NAME [ARGS...] | launch ready PROG [ARGS...]");
}
