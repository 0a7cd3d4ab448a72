/*
 * fdinfo.c: /proc/PID/fdinfo/FD, and the directory listings of a process's
 * threads, children and descriptors.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/proc.h"
#include "util/io.h"

int proc_parse_fdinfo(const char *text, struct proc_fdinfo *ret)
{
	struct proc_fdinfo fi = { .mnt_id = -1 };
	bool have_pos = false, have_flags = false;

	for (const char *line = text; line && *line;) {
		if (!strncmp(line, "pos:", 4))
			have_pos = sscanf(line + 4, "%llu", &fi.pos) == 1;
		else if (!strncmp(line, "flags:", 6))
			have_flags = sscanf(line + 6, "%o", &fi.flags) == 1;
		else if (!strncmp(line, "mnt_id:", 7))
			sscanf(line + 7, "%d", &fi.mnt_id);
		else if (!strncmp(line, "ino:", 4))
			sscanf(line + 4, "%llu", &fi.ino);
		else if (!strncmp(line, "lock:", 5))
			fi.has_locks = true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!have_pos || !have_flags)
		return -EINVAL;
	*ret = fi;
	return 0;
}

int proc_read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *ret)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	err = io_slurp(path, &text, NULL);
	if (err)
		return err;
	err = proc_parse_fdinfo(text, ret);
	free(text);
	return err;
}

int proc_parse_pid_list(const char *text, pid_t **ret, size_t *ret_count)
{
	pid_t *list = NULL;
	size_t n = 0, cap = 0;

	for (const char *p = text; *p;) {
		char *end;
		long v;

		if (*p == ' ' || *p == '\n' || *p == '\t') {
			p++;
			continue;
		}
		v = strtol(p, &end, 10);
		if (end == p || v <= 0 || v > 0x3fffffff) {
			free(list);
			return -EINVAL;
		}
		if (n == cap) {
			pid_t *nl;

			cap = cap ? cap * 2 : 16;
			nl = realloc(list, cap * sizeof(*nl));
			if (!nl) {
				free(list);
				return -ENOMEM;
			}
			list = nl;
		}
		list[n++] = (pid_t)v;
		p = end;
	}
	*ret = list;
	*ret_count = n;
	return 0;
}

int proc_read_children(pid_t pid, pid_t tid, pid_t **ret, size_t *ret_count)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	err = io_slurp(path, &text, NULL);
	if (err)
		return err;
	err = proc_parse_pid_list(text, ret, ret_count);
	free(text);
	return err;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int list_numeric_dir(const char *path, int **ret, size_t *ret_count)
{
	DIR *d = opendir(path);
	int *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (end == de->d_name || *end || v < 0)
			continue;
		if (n == cap) {
			int *nl;

			cap = cap ? cap * 2 : 32;
			nl = realloc(list, cap * sizeof(*nl));
			if (!nl) {
				free(list);
				closedir(d);
				return -ENOMEM;
			}
			list = nl;
		}
		list[n++] = (int)v;
	}
	closedir(d);
	if (n)
		qsort(list, n, sizeof(*list), cmp_int);
	*ret = list;
	*ret_count = n;
	return 0;
}

int proc_list_tasks(pid_t pid, pid_t **ret, size_t *ret_count)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	return list_numeric_dir(path, ret, ret_count);
}

int proc_list_fds(pid_t pid, int **ret, size_t *ret_count)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	return list_numeric_dir(path, ret, ret_count);
}
