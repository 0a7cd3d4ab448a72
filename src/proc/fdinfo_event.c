/*
 * fdinfo_event.c: the lines /proc/PID/fdinfo/FD adds for eventfds
 * ("eventfd-count:" in hex, "eventfd-semaphore:"), signalfds ("sigmask:",
 * the signals read through it, in hex) and timerfds ("clockid:", "ticks:",
 * "settime flags:" in octal, "it_value:" and "it_interval:" as "(sec,
 * nsec)"). Every field the kind needs must be there and well formed, or the
 * text is rejected with -EINVAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/proc.h"

/* The rest of the line that starts with key, or NULL. */
static const char *field(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *line = text; line && *line;) {
		if (!strncmp(line, key, len))
			return line + len;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

/* A number in base base that ends its line; blanks before it are skipped. */
static int number(const char *s, int base, uint64_t *ret)
{
	char *end;
	uint64_t v;

	if (!s)
		return -EINVAL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '-' || *s == '\n')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || (*end && *end != '\n'))
		return -EINVAL;
	*ret = v;
	return 0;
}

int proc_parse_eventfd(const char *text, struct proc_eventfd *ret)
{
	const char *sem = field(text, "eventfd-semaphore:");
	struct proc_eventfd e = { .semaphore = -1 };
	uint64_t v;

	if (number(field(text, "eventfd-count:"), 16, &e.count))
		return -EINVAL;
	if (sem) {
		if (number(sem, 10, &v) || v > 1)
			return -EINVAL;
		e.semaphore = (int)v;
	}
	*ret = e;
	return 0;
}

int proc_parse_signalfd(const char *text, uint64_t *ret_mask)
{
	return number(field(text, "sigmask:"), 16, ret_mask);
}

/* "(sec, nsec)" as nanoseconds */
static int timespec_ns(const char *s, int64_t *ret)
{
	unsigned long long sec, nsec;
	int end = 0;

	if (!s || sscanf(s, " (%llu, %llu)%n", &sec, &nsec, &end) != 2 || !end ||
	    (s[end] && s[end] != '\n') || nsec >= 1000000000 || sec > INT64_MAX / 1000000000 - 1)
		return -EINVAL;
	*ret = (int64_t)sec * 1000000000 + (int64_t)nsec;
	return 0;
}

int proc_parse_timerfd(const char *text, struct proc_timerfd *ret)
{
	struct proc_timerfd t;
	uint64_t clock, flags;

	if (number(field(text, "clockid:"), 10, &clock) || clock > 64 ||
	    number(field(text, "ticks:"), 10, &t.ticks) ||
	    number(field(text, "settime flags:"), 8, &flags) || flags > 0xff ||
	    timespec_ns(field(text, "it_value:"), &t.value_ns) ||
	    timespec_ns(field(text, "it_interval:"), &t.interval_ns))
		return -EINVAL;
	t.clockid = (int)clock;
	t.settime_flags = (unsigned int)flags;
	*ret = t;
	return 0;
}
