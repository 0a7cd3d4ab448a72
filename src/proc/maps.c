/*
 * maps.c: /proc/PID/smaps (and maps), one struct per memory area with its
 * permissions, backing file and VmFlags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "proc/proc.h"
#include "util/io.h"

static const char vmflag_codes[VMF_COUNT][3] = {
	[VMF_RD] = "rd", [VMF_WR] = "wr", [VMF_EX] = "ex", [VMF_SH] = "sh",	 [VMF_MR] = "mr",
	[VMF_MW] = "mw", [VMF_ME] = "me", [VMF_MS] = "ms", [VMF_GD] = "gd",	 [VMF_PF] = "pf",
	[VMF_LO] = "lo", [VMF_IO] = "io", [VMF_SR] = "sr", [VMF_RR] = "rr",	 [VMF_DC] = "dc",
	[VMF_DE] = "de", [VMF_AC] = "ac", [VMF_NR] = "nr", [VMF_HT] = "ht",	 [VMF_SF] = "sf",
	[VMF_AR] = "ar", [VMF_WF] = "wf", [VMF_DD] = "dd", [VMF_SD] = "sd",	 [VMF_MM] = "mm",
	[VMF_HG] = "hg", [VMF_NH] = "nh", [VMF_MG] = "mg", [VMF_UM] = "um",	 [VMF_UW] = "uw",
	[VMF_UI] = "ui", [VMF_SS] = "ss", [VMF_SL] = "sl", [VMF_LF] = "lf",	 [VMF_DP] = "dp",
	[VMF_BT] = "bt", [VMF_MT] = "mt", [VMF_GU] = "gu", [VMF_UNKNOWN] = "??",
};

const char *proc_vmflag_name(enum proc_vmflag f)
{
	return f < VMF_COUNT ? vmflag_codes[f] : "??";
}

static uint64_t parse_vmflags(const char *p, const char *end)
{
	uint64_t flags = 0;

	while (p < end) {
		int f;

		while (p < end && *p == ' ')
			p++;
		if (end - p < 2)
			break;
		for (f = 0; f < VMF_UNKNOWN; f++)
			if (p[0] == vmflag_codes[f][0] && p[1] == vmflag_codes[f][1])
				break;
		flags |= 1ULL << f;
		p += 2;
	}
	return flags;
}

static int add_vma(struct proc_maps *m, size_t *cap, const char *line, const char *end)
{
	struct proc_vma v = { 0 };
	char perms[5];
	int off = 0;
	const char *name;
	size_t len;

	if (sscanf(line, "%lx-%lx %4s %llx %x:%x %llu%n", &v.start, &v.end, perms, &v.pgoff,
		   &v.dev_major, &v.dev_minor, &v.ino, &off) != 7 ||
	    off <= 0 || line + off > end)
		return 1;
	if (strlen(perms) != 4 || v.end <= v.start)
		return -EINVAL;
	v.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		 (perms[2] == 'x' ? PROT_EXEC : 0);
	v.shared = perms[3] == 's';
	name = line + off;
	while (name < end && (*name == ' ' || *name == '\t'))
		name++;
	len = end - name;
	if (len) {
		static const char deleted[] = " (deleted)";
		size_t dl = sizeof(deleted) - 1;

		if (len > dl && !memcmp(name + len - dl, deleted, dl)) {
			v.deleted = true;
			len -= dl;
		}
		v.name = strndup(name, len);
		if (!v.name)
			return -ENOMEM;
	}
	if (m->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct proc_vma *n = realloc(m->vmas, ncap * sizeof(*n));

		if (!n) {
			free(v.name);
			return -ENOMEM;
		}
		m->vmas = n;
		*cap = ncap;
	}
	m->vmas[m->count++] = v;
	return 0;
}

int proc_parse_smaps(const char *text, struct proc_maps *ret)
{
	struct proc_maps m = { 0 };
	size_t cap = 0;
	int err = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');

		if (!end)
			end = line + strlen(line);
		if (!strncmp(line, "VmFlags:", 8)) {
			if (!m.count) {
				err = -EINVAL;
				break;
			}
			m.vmas[m.count - 1].vmflags = parse_vmflags(line + 8, end);
		} else if ((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f')) {
			err = add_vma(&m, &cap, line, end);
			if (err < 0)
				break;
			err = 0;
		}
		line = *end ? end + 1 : end;
	}
	if (err) {
		proc_maps_release(&m);
		return err;
	}
	*ret = m;
	return 0;
}

int proc_read_smaps(pid_t pid, struct proc_maps *ret)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	err = io_slurp(path, &text, NULL);
	if (err)
		return err;
	err = proc_parse_smaps(text, ret);
	free(text);
	return err;
}

int proc_read_vmflags_at(pid_t pid, unsigned long addr, uint64_t *ret_flags)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start;
		char dash;

		if (!found) {
			found = sscanf(line, "%lx%c", &start, &dash) == 2 && dash == '-' &&
				start == addr;
			if (!found && sscanf(line, "%lx%c", &start, &dash) == 2 && dash == '-' &&
			    start > addr)
				break;
		} else if (!strncmp(line, "VmFlags:", 8)) {
			*ret_flags = parse_vmflags(line + 8, line + strcspn(line, "\n"));
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

void proc_maps_release(struct proc_maps *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->vmas[i].name);
	free(m->vmas);
	m->vmas = NULL;
	m->count = 0;
}
