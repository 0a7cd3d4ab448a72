/*
 * locks.c: file locks as the kernel lists them, in the "lock:" lines of
 * /proc/PID/fdinfo/FD (the locks taken through that description by its
 * process or by the description itself) and in /proc/locks (every lock,
 * and after "->" the requests waiting for one). A line reads
 *
 *   1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF
 *
 * id, kind, mode (or a lease's state), type, pid, device and inode, first
 * byte, last byte or EOF.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/proc.h"

static const struct {
	const char *word;
	enum proc_lock_kind kind;
} kinds[] = {
	{ "POSIX", PROC_LOCK_POSIX },
	{ "OFDLCK", PROC_LOCK_OFD },
	{ "FLOCK", PROC_LOCK_FLOCK },
	{ "LEASE", PROC_LOCK_LEASE },
};

static enum proc_lock_kind kind_of(const char *word)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(word, kinds[i].word))
			return kinds[i].kind;
	return PROC_LOCK_OTHER;
}

static int parse_type(const char *word, enum proc_lock_type *ret)
{
	if (!strcmp(word, "READ"))
		*ret = PROC_LOCK_READ;
	else if (!strcmp(word, "WRITE"))
		*ret = PROC_LOCK_WRITE;
	else if (!strcmp(word, "UNLCK"))
		*ret = PROC_LOCK_UNLCK;
	else
		return -EINVAL;
	return 0;
}

static int parse_dev_ino(const char *word, struct proc_lock *l)
{
	char tail;

	if (!strcmp(word, "<none>:0"))
		return 0;
	if (sscanf(word, "%x:%x:%llu%c", &l->dev_major, &l->dev_minor, &l->ino, &tail) != 3)
		return -EINVAL;
	return 0;
}

/* One line, past its "lock:" prefix if it had one. */
static int parse_line(const char *line, size_t len, struct proc_lock *ret)
{
	char buf[256], kind[16], mode[16], type[16], devino[64], end[32], *s, *e;
	struct proc_lock l = { 0 };
	long long start;
	int pid, n;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	strtoll(buf, &s, 10);
	if (s == buf || *s != ':')
		return -EINVAL;
	s++;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!strncmp(s, "->", 2)) {
		l.waiting = true;
		s += 2;
	}
	if (sscanf(s, "%15s %15s %15s %d %63s %lld %31s%n", kind, mode, type, &pid, devino, &start,
		   end, &n) != 7 ||
	    s[n] || start < 0)
		return -EINVAL;
	l.kind = kind_of(kind);
	l.mandatory = !strcmp(mode, "MANDATORY");
	l.breaking = !strcmp(mode, "BREAKING") || !strcmp(mode, "BREAKER");
	l.pid = pid;
	l.start = (unsigned long long)start;
	if (parse_type(type, &l.type) || parse_dev_ino(devino, &l))
		return -EINVAL;
	if (!strcmp(end, "EOF")) {
		l.to_eof = true;
		l.end = (unsigned long long)INT64_MAX;
	} else {
		l.end = strtoull(end, &e, 10);
		if (e == end || *e || end[0] == '-' || l.end < l.start)
			return -EINVAL;
	}
	*ret = l;
	return 0;
}

int proc_parse_locks(const char *text, struct proc_lock **ret, size_t *ret_count)
{
	struct proc_lock *list = NULL;
	size_t n = 0, cap = 0;

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n'), *s = line;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int err = 0;

		if (!strncmp(s, "lock:", 5)) {
			s += 5;
			while (*s == '\t' || *s == ' ')
				s++;
		}
		if (*s >= '0' && *s <= '9') {
			if (n == cap) {
				struct proc_lock *nlist;

				cap = cap ? cap * 2 : 8;
				nlist = realloc(list, cap * sizeof(*nlist));
				if (!nlist) {
					free(list);
					return -ENOMEM;
				}
				list = nlist;
			}
			err = parse_line(s, len - (size_t)(s - line), &list[n]);
			if (err) {
				free(list);
				return err;
			}
			n++;
		}
		line = nl ? nl + 1 : NULL;
	}
	*ret = list;
	*ret_count = n;
	return 0;
}
