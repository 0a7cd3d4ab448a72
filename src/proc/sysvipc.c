/*
 * sysvipc.c: /proc/sysvipc/sem and /proc/sysvipc/msg, whose lines after
 * the heading are
 *   key semid perms nsems uid gid cuid cgid otime ctime
 *   key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime
 * (perms in octal, the rest in decimal), and the status line of a POSIX
 * message queue's file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/sysvipc.h"
#include "util/io.h"

/* Calls fn for each line after the heading; a line it cannot take is
 * -EINVAL. */
static int each_line(const char *text, int (*fn)(const char *line, void *item), void *items,
		     size_t size, size_t *ret_count)
{
	const char *line = strchr(text, '\n');
	char *list = NULL;
	size_t n = 0;
	int err = 0;

	if (!line && *text)
		return -EINVAL;
	while (line && *++line && !err) {
		char *nl = realloc(list, (n + 1) * size);

		if (!nl) {
			err = -ENOMEM;
			break;
		}
		list = nl;
		err = fn(line, list + n * size);
		n++;
		line = strchr(line, '\n');
	}
	if (err) {
		free(list);
		return err;
	}
	*(char **)items = list;
	*ret_count = n;
	return 0;
}

static int sem_line(const char *line, void *item)
{
	struct proc_sysv_sem *s = item;
	long long otime, ctime;

	if (sscanf(line, "%d %d %o %u %u %u %u %u %lld %lld", &s->key, &s->id, &s->perms, &s->nsems,
		   &s->uid, &s->gid, &s->cuid, &s->cgid, &otime, &ctime) != 10)
		return -EINVAL;
	s->otime = otime;
	s->ctime = ctime;
	return 0;
}

static int msg_line(const char *line, void *item)
{
	struct proc_sysv_msg *m = item;
	unsigned long long cbytes, qnum;
	long long stime, rtime, ctime;

	if (sscanf(line, "%d %d %o %llu %llu %d %d %u %u %u %u %lld %lld %lld", &m->key, &m->id,
		   &m->perms, &cbytes, &qnum, &m->lspid, &m->lrpid, &m->uid, &m->gid, &m->cuid,
		   &m->cgid, &stime, &rtime, &ctime) != 14)
		return -EINVAL;
	m->cbytes = cbytes;
	m->qnum = qnum;
	m->stime = stime;
	m->rtime = rtime;
	m->ctime = ctime;
	return 0;
}

int proc_parse_sysv_sem(const char *text, struct proc_sysv_sem **ret, size_t *ret_count)
{
	return each_line(text, sem_line, ret, sizeof(**ret), ret_count);
}

int proc_parse_sysv_msg(const char *text, struct proc_sysv_msg **ret, size_t *ret_count)
{
	return each_line(text, msg_line, ret, sizeof(**ret), ret_count);
}

int proc_read_sysv_sem(struct proc_sysv_sem **ret, size_t *ret_count)
{
	char *text;
	int err = io_slurp("/proc/sysvipc/sem", &text, NULL);

	if (err)
		return err;
	err = proc_parse_sysv_sem(text, ret, ret_count);
	free(text);
	return err;
}

int proc_read_sysv_msg(struct proc_sysv_msg **ret, size_t *ret_count)
{
	char *text;
	int err = io_slurp("/proc/sysvipc/msg", &text, NULL);

	if (err)
		return err;
	err = proc_parse_sysv_msg(text, ret, ret_count);
	free(text);
	return err;
}

int proc_parse_mq_status(const char *text, struct proc_mq_status *ret)
{
	unsigned long long qsize;
	struct proc_mq_status s;

	if (sscanf(text, "QSIZE:%llu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize, &s.notify, &s.signo,
		   &s.notify_pid) != 4)
		return -EINVAL;
	s.qsize = qsize;
	*ret = s;
	return 0;
}
