/*
 * timers.c: /proc/PID/timers, four lines per POSIX timer:
 *   ID: 0
 *   signal: 10/0000000000001234      (signal number / sigev_value)
 *   notify: signal/pid.4242          (signal|none|thread, pid|tid, target)
 *   ClockID: 1
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/proc.h"
#include "util/io.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

static int parse_notify(const char *v, struct proc_timer *t)
{
	char kind[16], who[8];

	if (sscanf(v, " %15[a-z]/%7[a-z].%d", kind, who, &t->target) != 3)
		return -EINVAL;
	if (!strcmp(kind, "signal"))
		t->notify = SIGEV_SIGNAL;
	else if (!strcmp(kind, "none"))
		t->notify = SIGEV_NONE;
	else if (!strcmp(kind, "thread"))
		t->notify = SIGEV_THREAD;
	else
		return -EINVAL;
	if (!strcmp(who, "tid"))
		t->notify |= SIGEV_THREAD_ID;
	else if (strcmp(who, "pid"))
		return -EINVAL;
	return 0;
}

int proc_parse_timers(const char *text, struct proc_timer **ret, size_t *ret_count)
{
	struct proc_timer *list = NULL, *cur = NULL;
	size_t n = 0;
	int err = 0, seen = 0;

	for (const char *line = text; *line && !err;) {
		const char *end = strchr(line, '\n');

		if (!strncmp(line, "ID:", 3)) {
			struct proc_timer *nl = realloc(list, (n + 1) * sizeof(*nl));

			if (!nl) {
				err = -ENOMEM;
				break;
			}
			list = nl;
			cur = &list[n++];
			memset(cur, 0, sizeof(*cur));
			seen = 1;
			if (sscanf(line + 3, "%d", &cur->id) != 1)
				err = -EINVAL;
		} else if (!cur) {
			err = -EINVAL;
		} else if (!strncmp(line, "signal:", 7)) {
			seen |= 2;
			if (sscanf(line + 7, "%d/%lx", &cur->signo, &cur->sigev_value) != 2)
				err = -EINVAL;
		} else if (!strncmp(line, "notify:", 7)) {
			seen |= 4;
			err = parse_notify(line + 7, cur);
		} else if (!strncmp(line, "ClockID:", 8)) {
			seen |= 8;
			if (sscanf(line + 8, "%d", &cur->clock) != 1)
				err = -EINVAL;
		}
		if (!err && cur && !strncmp(line, "ClockID:", 8) && seen != 15)
			err = -EINVAL;
		line = end ? end + 1 : line + strlen(line);
	}
	if (!err && cur && seen != 15)
		err = -EINVAL;
	if (err) {
		free(list);
		return err;
	}
	*ret = list;
	*ret_count = n;
	return 0;
}

int proc_read_timers(pid_t pid, struct proc_timer **ret, size_t *ret_count)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	err = io_slurp(path, &text, NULL);
	if (err)
		return err;
	err = proc_parse_timers(text, ret, ret_count);
	free(text);
	return err;
}
