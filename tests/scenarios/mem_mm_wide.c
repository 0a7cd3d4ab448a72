/*
 * mem_mm_wide.c: memory settings of the whole address space, rather than
 * of one area, survive restart: mlockall(MCL_FUTURE) (every new mapping
 * is locked: VmFlags lo), PR_SET_THP_DISABLE (PR_GET_THP_DISABLE), and
 * PR_SET_MEMORY_MERGE (PR_GET_MEMORY_MERGE, and every new mapping is
 * mergeable: VmFlags mg). Each is checked on a fresh mapping before the
 * checkpoint and after restart; all differences are reported together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "lib/scen.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

#define PS 4096UL

struct state {
	bool locked, mergeable;
	int thp_disable, memory_merge;
	char flags[256];
};

static char smaps_buf[1 << 20];
static bool have_merge;

static void slurp(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		scen_fail("open %s: %m", path);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			scen_fail("read %s: %m", path);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1)
			scen_fail("%s is too big", path);
	}
	buf[len] = '\0';
	close(fd);
}

/* The VmFlags line of the area holding addr. */
static void vmflags(const void *addr, char *out, size_t cap)
{
	unsigned long a = (unsigned long)addr;
	bool in = false;

	slurp("/proc/self/smaps", smaps_buf, sizeof(smaps_buf));
	for (char *line = smaps_buf; *line;) {
		char *nl = strchr(line, '\n');
		unsigned long s, e;

		if (nl)
			*nl = '\0';
		if ((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f')) {
			in = sscanf(line, "%lx-%lx", &s, &e) == 2 && a >= s && a < e;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, cap, "%s ", line + 8); /* " rd wr ... " */
			return;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	scen_fail("%p is not mapped", addr);
}

/* What a fresh mapping gets, and what prctl says. */
static struct state probe(void)
{
	struct state st = {0};
	char *p = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED);
	p[0] = 1;
	vmflags(p, st.flags, sizeof(st.flags));
	st.locked = strstr(st.flags, " lo ");
	st.mergeable = strstr(st.flags, " mg ");
	CHECK_SYS(munmap(p, 2 * PS));
	st.thp_disable = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	CHECK_SYS(st.thp_disable);
	st.memory_merge = have_merge ? prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) : 0;
	CHECK_SYS(st.memory_merge);
	return st;
}

int main(void)
{
	struct state before, after;
	char why[1024] = "";

	scen_init();
	CHECK_SYS(mlockall(MCL_FUTURE));
	CHECK_SYS(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0)) {
		if (errno != EINVAL)
			scen_fail("PR_SET_MEMORY_MERGE: %m");
		fprintf(stderr, "note: no PR_SET_MEMORY_MERGE on this kernel: not tested\n");
	} else {
		have_merge = true;
	}
	before = probe();
	CHECK(before.locked);
	CHECK(before.thp_disable != 0);
	if (have_merge)
		CHECK(before.mergeable && before.memory_merge == 1);
	scen_ready();
	scen_wait();

	after = probe();
	if (!after.locked)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "; mlockall(MCL_FUTURE) lost: a new mapping has VmFlags '%s'",
			 after.flags);
	if (after.thp_disable != before.thp_disable)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "; PR_GET_THP_DISABLE was %d, is %d", before.thp_disable,
			 after.thp_disable);
	if (have_merge && after.memory_merge != before.memory_merge)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "; PR_GET_MEMORY_MERGE was %d, is %d", before.memory_merge,
			 after.memory_merge);
	if (have_merge && !after.mergeable)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "; a new mapping is not mergeable: VmFlags '%s'", after.flags);
	if (why[0])
		scen_fail("%s", why + 2);
	scen_pass();
}
