/*
 * fdinfo_poll.c: what the fdinfo of an epoll and of an inotify instance
 * lists (the interest list's "tfd:" lines, the "inotify wd:" watch lines
 * with their file handles), and /proc/PID/mountinfo, in which a file
 * handle's device is found a mount to open it from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/proc.h"
#include "util/io.h"

/* list of n items of size sz, grown by one zeroed item; NULL if out of memory */
static void *grow(void *list, size_t n, size_t sz)
{
	char *nl = realloc(list, (n + 1) * sz);

	if (nl)
		memset(nl + n * sz, 0, sz);
	return nl;
}

static const char *next_line(const char *line)
{
	line = strchr(line, '\n');
	return line ? line + 1 : NULL;
}

int proc_parse_epoll(const char *text, struct proc_epoll_entry **ret, size_t *ret_count)
{
	struct proc_epoll_entry *list = NULL, *nl, *e;
	size_t n = 0;

	for (const char *line = text; line && *line; line = next_line(line)) {
		unsigned long long data, ino = 0;
		unsigned int events, sdev = 0;
		long long pos;
		int tfd;

		if (strncmp(line, "tfd:", 4))
			continue;
		if (sscanf(line, "tfd: %d events: %x data: %llx pos:%lli ino:%llx sdev:%x", &tfd,
			   &events, &data, &pos, &ino, &sdev) < 3 ||
		    tfd < 0)
			goto bad;
		nl = grow(list, n, sizeof(*nl));
		if (!nl) {
			free(list);
			return -ENOMEM;
		}
		list = nl;
		e = &list[n++];
		e->tfd = tfd;
		e->events = events;
		e->data = data;
		e->ino = ino;
		e->sdev = sdev;
	}
	*ret = list;
	*ret_count = n;
	return 0;
bad:
	free(list);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The " fhandle-bytes:N fhandle-type:T f_handle:HEX" part of a watch line */
static int parse_fhandle(const char *line, struct proc_inotify_watch *w)
{
	size_t len = strcspn(line, "\n");
	const char *s = memmem(line, len, "fhandle-bytes:", 14);
	unsigned int bytes;
	int type, off = 0;

	if (!s)
		return 0; /* none: the file system does not export handles */
	if (sscanf(s, "fhandle-bytes:%x fhandle-type:%x f_handle:%n", &bytes, &type, &off) < 2 ||
	    !off || bytes > PROC_FHANDLE_MAX)
		return -EINVAL;
	s += off;
	for (unsigned int i = 0; i < bytes; i++) {
		int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);

		if (lo < 0)
			return -EINVAL;
		w->handle[i] = (unsigned char)(hi << 4 | lo);
	}
	w->handle_bytes = bytes;
	w->handle_type = type;
	return 0;
}

int proc_parse_inotify(const char *text, struct proc_inotify_watch **ret, size_t *ret_count)
{
	struct proc_inotify_watch *list = NULL, *nl, *w;
	size_t n = 0;
	int err;

	for (const char *line = text; line && *line; line = next_line(line)) {
		unsigned int wd, sdev, mask, ignored;
		unsigned long long ino;

		if (strncmp(line, "inotify wd:", 11))
			continue;
		if (sscanf(line, "inotify wd:%x ino:%llx sdev:%x mask:%x ignored_mask:%x", &wd,
			   &ino, &sdev, &mask, &ignored) != 5 ||
		    (int)wd <= 0) {
			err = -EINVAL;
			goto out_free;
		}
		nl = grow(list, n, sizeof(*nl));
		if (!nl) {
			err = -ENOMEM;
			goto out_free;
		}
		list = nl;
		w = &list[n++];
		w->wd = (int)wd;
		w->ino = ino;
		w->sdev = sdev;
		w->mask = mask;
		w->ignored_mask = ignored;
		err = parse_fhandle(line, w);
		if (err)
			goto out_free;
	}
	*ret = list;
	*ret_count = n;
	return 0;
out_free:
	free(list);
	return err;
}

/* A mountinfo path field up to the next space, with its \ooo escapes decoded */
static char *mount_path(const char **s)
{
	const char *p = *s;
	size_t len = strcspn(p, " \n");
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 3 < len && p[i + 1] >= '0' && p[i + 1] <= '3' &&
		    p[i + 2] >= '0' && p[i + 2] <= '7' && p[i + 3] >= '0' && p[i + 3] <= '7') {
			*o++ = (char)((p[i + 1] - '0') << 6 | (p[i + 2] - '0') << 3 |
				      (p[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = p[i];
		}
	}
	*o = '\0';
	*s = p + len;
	return out;
}

void proc_mounts_release(struct proc_mount *m, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(m[i].root);
		free(m[i].point);
	}
	free(m);
}

int proc_parse_mountinfo(const char *text, struct proc_mount **ret, size_t *ret_count)
{
	struct proc_mount *list = NULL, *nl, *m;
	size_t n = 0;
	int err;

	for (const char *line = text; line && *line; line = next_line(line)) {
		int off = 0;

		if (*line == '\n')
			continue;
		nl = grow(list, n, sizeof(*nl));
		if (!nl) {
			err = -ENOMEM;
			goto out_free;
		}
		list = nl;
		m = &list[n++];
		if (sscanf(line, "%d %d %u:%u %n", &m->id, &m->parent, &m->major, &m->minor, &off) <
			    4 ||
		    !off) {
			err = -EINVAL;
			goto out_free;
		}
		line += off;
		m->root = mount_path(&line);
		if (m->root && *line == ' ') {
			line++;
			m->point = mount_path(&line);
		}
		if (!m->point) {
			err = m->root ? -EINVAL : -ENOMEM;
			goto out_free;
		}
		if (m->root[0] != '/' || m->point[0] != '/') {
			err = -EINVAL;
			goto out_free;
		}
	}
	*ret = list;
	*ret_count = n;
	return 0;
out_free:
	proc_mounts_release(list, n);
	return err;
}

int proc_read_mountinfo(pid_t pid, struct proc_mount **ret, size_t *ret_count)
{
	char path[64], *text;
	int err;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	err = io_slurp(path, &text, NULL);
	if (err)
		return err;
	err = proc_parse_mountinfo(text, ret, ret_count);
	free(text);
	return err;
}
