/*
 * status.c: /proc/PID/status and /proc/PID/stat.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/proc.h"
#include "util/io.h"

static const char *field(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, n) && p[n] == ':')
			return p + n + 1;
	}
	return NULL;
}

static int parse_u32x4(const char *v, uint32_t out[4])
{
	if (!v || sscanf(v, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &out[0], &out[1],
			 &out[2], &out[3]) != 4)
		return -EINVAL;
	return 0;
}

static int parse_hex(const char *v, uint64_t *out)
{
	if (!v || sscanf(v, "%" SCNx64, out) != 1)
		return -EINVAL;
	return 0;
}

static int parse_groups(const char *v, struct proc_status *st)
{
	const char *end = v ? strchr(v, '\n') : NULL;
	unsigned int cap = 0;

	if (!v)
		return -EINVAL;
	if (!end)
		end = v + strlen(v);
	while (v < end) {
		char *next;
		unsigned long g;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end)
			break;
		g = strtoul(v, &next, 10);
		if (next == v)
			return -EINVAL;
		if (st->ngroups == cap) {
			uint32_t *n;

			cap = cap ? cap * 2 : 16;
			n = realloc(st->groups, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			st->groups = n;
		}
		st->groups[st->ngroups++] = (uint32_t)g;
		v = next;
	}
	return 0;
}

int proc_parse_status(const char *text, struct proc_status *ret)
{
	struct proc_status st = { 0 };
	const char *v;
	int err = -EINVAL;

	v = field(text, "Name");
	if (!v || sscanf(v, " %63[^\n]", st.name) != 1)
		goto fail;
	v = field(text, "State");
	if (!v || sscanf(v, " %c", &st.state) != 1)
		goto fail;
	v = field(text, "Umask");
	if (!v || sscanf(v, "%o", &st.umask) != 1)
		goto fail;
	if (!(v = field(text, "Tgid")) || sscanf(v, "%d", &st.tgid) != 1)
		goto fail;
	if (!(v = field(text, "PPid")) || sscanf(v, "%d", &st.ppid) != 1)
		goto fail;
	if (!(v = field(text, "TracerPid")) || sscanf(v, "%d", &st.tracer) != 1)
		goto fail;
	if (parse_u32x4(field(text, "Uid"), st.uid) || parse_u32x4(field(text, "Gid"), st.gid))
		goto fail;
	err = parse_groups(field(text, "Groups"), &st);
	if (err)
		goto fail;
	err = -EINVAL;
	if (!(v = field(text, "Threads")) || sscanf(v, "%u", &st.threads) != 1)
		goto fail;
	if (parse_hex(field(text, "SigPnd"), &st.sigpnd) ||
	    parse_hex(field(text, "ShdPnd"), &st.shdpnd) ||
	    parse_hex(field(text, "SigBlk"), &st.sigblk) ||
	    parse_hex(field(text, "SigIgn"), &st.sigign) ||
	    parse_hex(field(text, "SigCgt"), &st.sigcgt) ||
	    parse_hex(field(text, "CapInh"), &st.cap_inh) ||
	    parse_hex(field(text, "CapPrm"), &st.cap_prm) ||
	    parse_hex(field(text, "CapEff"), &st.cap_eff) ||
	    parse_hex(field(text, "CapBnd"), &st.cap_bnd) ||
	    parse_hex(field(text, "CapAmb"), &st.cap_amb))
		goto fail;
	v = field(text, "NoNewPrivs");
	if (v && sscanf(v, "%d", &st.no_new_privs) != 1)
		goto fail;
	v = field(text, "Seccomp");
	if (v && sscanf(v, "%d", &st.seccomp) != 1)
		goto fail;
	v = field(text, "Seccomp_filters");
	if (v && sscanf(v, "%d", &st.seccomp_filters) != 1)
		goto fail;
	v = field(text, "NSpid");
	if (v) {
		const char *end = strchr(v, '\n');
		int n = 0;

		for (const char *p = v; *p && p != end; p++)
			if ((p == v || p[-1] == ' ' || p[-1] == '\t') && *p >= '0' && *p <= '9')
				n++;
		st.nspid_depth = n;
	}
	*ret = st;
	return 0;
fail:
	free(st.groups);
	return err;
}

void proc_status_release(struct proc_status *st)
{
	free(st->groups);
	st->groups = NULL;
}

static int read_task_file(pid_t pid, pid_t tid, const char *name, char **ret)
{
	char path[64];

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, name);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return io_slurp(path, ret, NULL);
}

int proc_read_status(pid_t pid, pid_t tid, struct proc_status *ret)
{
	char *text;
	int err = read_task_file(pid, tid, "status", &text);

	if (err)
		return err;
	err = proc_parse_status(text, ret);
	free(text);
	return err;
}

int proc_parse_stat(const char *text, struct proc_stat *ret)
{
	struct proc_stat st = { 0 };
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	size_t n;
	int got;

	if (!open || !close || close < open)
		return -EINVAL;
	n = close - open - 1;
	if (n >= sizeof(st.comm))
		n = sizeof(st.comm) - 1;
	memcpy(st.comm, open + 1, n);
	st.comm[n] = '\0';
	/* fields 3.. after the comm: see proc(5) */
	got = sscanf(close + 1,
		     " %c %d %d %d %d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %ld %ld %ld %*d %llu"
		     " %*u %*d %*u %lu %lu %lu %*u %*u %*u %*u %*u %*u %*u %*u %*u %d %*d %u %u"
		     " %*u %*u %*d %lu %lu %lu %lu %lu %lu %lu %d",
		     &st.state, &st.ppid, &st.pgrp, &st.session, &st.tty_nr, &st.flags,
		     &st.priority, &st.nice, &st.num_threads, &st.start_time, &st.start_code,
		     &st.end_code, &st.start_stack, &st.exit_signal, &st.rt_priority, &st.policy,
		     &st.start_data, &st.end_data, &st.start_brk, &st.arg_start, &st.arg_end,
		     &st.env_start, &st.env_end, &st.exit_code);
	if (got != 24)
		return -EINVAL;
	*ret = st;
	return 0;
}

int proc_read_stat(pid_t pid, pid_t tid, struct proc_stat *ret)
{
	char *text;
	int err = read_task_file(pid, tid, "stat", &text);

	if (err)
		return err;
	err = proc_parse_stat(text, ret);
	free(text);
	return err;
}
