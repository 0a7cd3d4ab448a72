/*
 * pidfd.c: the part of /proc/PID/fdinfo/FD that a pidfd adds: "Pid:", the
 * process (or thread) it refers to as the reader's PID namespace sees it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "proc/proc.h"

int proc_parse_pidfd_fdinfo(const char *text, pid_t *ret_pid)
{
	for (const char *line = text; line && *line;) {
		int pid;
		char end;

		if (!strncmp(line, "Pid:", 4)) {
			if (sscanf(line + 4, "%d%c", &pid, &end) != 2 || end != '\n' || pid < -1)
				return -EINVAL;
			*ret_pid = pid;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}
