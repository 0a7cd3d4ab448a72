/*
 * vmflags.c: the flags madvise gives memory areas (VmFlags dc, dd, wf,
 * hg, nh, mg, sr, rr in /proc/self/smaps) come back on every kind of area,
 * in the root and in a child that inherited its areas from it:
 *
 *   private anonymous memory   dc, dd, wf, hg, nh, mg, sr, rr (each alone)
 *   shared anonymous memory    dc, dd, hg, sr
 *   a private file mapping     dc, dd, rr, mg
 *   a shared file mapping      dd, dc
 *   a shared memfd mapping     dd, nh
 *   a private memfd mapping    rr
 *   the heap (brk)             dd
 *
 * The child is forked once every area is advised (dc areas it does not
 * get, wf ones it gets wiped and writes again); it then advises one inherited area more (dd) and one of its own
 * (dc). Every area's bounds, permissions and VmFlags (but sd) must be the
 * same after restart, and its data too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define LEN (8 * PS)
#define HUGE_LEN (4UL << 20)
#define MAX_AREAS 32

static char smaps_buf[1 << 20];

static void slurp_smaps(void)
{
	size_t len = 0;
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		scen_fail("open smaps: %m");
	for (;;) {
		ssize_t n = read(fd, smaps_buf + len, sizeof(smaps_buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			scen_fail("read smaps: %m");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(smaps_buf) - 1)
			scen_fail("smaps is too big");
	}
	smaps_buf[len] = '\0';
	close(fd);
}

struct area {
	char *p;
	size_t len;
	char what[32];
	unsigned long start, end;
	char perms[5];
	char flags[160]; /* VmFlags without sd */
	unsigned int seed;
};

/* Fills a's bounds, permissions and flags from smaps; false if unmapped. */
static bool look(const void *addr, struct area *a)
{
	unsigned long want = (unsigned long)addr;
	bool in = false;

	slurp_smaps();
	for (char *line = smaps_buf; *line;) {
		char *end = strchrnul(line, '\n');
		unsigned long s, e;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s ", &s, &e, perms) == 3 && strchr(line, ' ') < end) {
			if (in)
				return true;
			if (want >= s && want < e) {
				in = true;
				a->start = s;
				a->end = e;
				memcpy(a->perms, perms, sizeof(perms));
				a->flags[0] = '\0';
			}
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			size_t n = 0;

			for (const char *f = line + 8; f + 1 < end; f++) {
				if (*f == ' ')
					continue;
				if (memcmp(f, "sd", 2) && n + 4 < sizeof(a->flags)) {
					if (n)
						a->flags[n++] = ' ';
					a->flags[n++] = f[0];
					a->flags[n++] = f[1];
					a->flags[n] = '\0';
				}
				f++;
			}
			return true;
		}
		line = *end ? end + 1 : end;
	}
	return in;
}

static bool has_flag(const struct area *a, const char *code)
{
	for (const char *f = a->flags; *f; f += f[2] ? 3 : 2)
		if (f[0] == code[0] && f[1] == code[1])
			return true;
	return false;
}

static uint8_t pat(size_t i, unsigned int seed)
{
	return (uint8_t)(i * 13 + seed * 71 + (i >> 12) + 1);
}

static struct area areas[MAX_AREAS];
static size_t nareas;

/* Records region p (filled with seed's pattern) as it is now; it must
 * carry flag code (NULL: none to check). */
static struct area *record(char *p, size_t len, const char *what, const char *code,
			   unsigned int seed)
{
	struct area *a = &areas[nareas++];

	CHECK(nareas <= MAX_AREAS);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)pat(i, seed);
	a->p = p;
	a->len = len;
	a->seed = seed;
	snprintf(a->what, sizeof(a->what), "%s", what);
	if (!look(p, a))
		scen_fail("%s: not mapped", what);
	if (code && !has_flag(a, code))
		scen_fail("%s: madvise did not set %s: '%s'", what, code, a->flags);
	return a;
}

static void check_area(const struct area *a, const char *who)
{
	struct area now;

	if (!look(a->p, &now))
		scen_fail("%s %s: no longer mapped", who, a->what);
	if (now.start != a->start || now.end != a->end)
		scen_fail("%s %s: area was %lx-%lx, is %lx-%lx", who, a->what, a->start, a->end,
			  now.start, now.end);
	if (strcmp(now.perms, a->perms))
		scen_fail("%s %s: permissions were %s, are %s", who, a->what, a->perms, now.perms);
	if (strcmp(now.flags, a->flags))
		scen_fail("%s %s: VmFlags were '%s', are '%s'", who, a->what, a->flags, now.flags);
	for (size_t i = 0; i < a->len; i++)
		if ((uint8_t)a->p[i] != pat(i, a->seed))
			scen_fail("%s %s: byte %zu is 0x%02x, expected 0x%02x", who, a->what, i,
				  (uint8_t)a->p[i], pat(i, a->seed));
}

/* len bytes mapped with an unmapped page on each side: an area of its own */
static char *map_isolated(size_t len, int flags, int fd, off_t off)
{
	char *r = mmap(NULL, len + 2 * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (r == MAP_FAILED)
		scen_fail("mmap reserve: %m");
	p = mmap(r + PS, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, off);
	if (p != r + PS)
		scen_fail("mmap: %m");
	CHECK_SYS(munmap(r, PS));
	CHECK_SYS(munmap(r + PS + len, PS));
	return p;
}

static char *advised(size_t len, int flags, int fd, off_t off, int advice)
{
	char *p = map_isolated(len, flags, fd, off);

	CHECK_SYS(madvise(p, len, advice));
	return p;
}

static const struct {
	int advice;
	const char *code;
} anon_adv[] = {
	{ MADV_DONTFORK, "dc" },   { MADV_DONTDUMP, "dd" },   { MADV_WIPEONFORK, "wf" },
	{ MADV_HUGEPAGE, "hg" },   { MADV_NOHUGEPAGE, "nh" }, { MADV_MERGEABLE, "mg" },
	{ MADV_SEQUENTIAL, "sr" }, { MADV_RANDOM, "rr" },
};

static const struct {
	int advice;
	const char *code;
} shared_adv[] = {
	{ MADV_DONTFORK, "dc" },
	{ MADV_DONTDUMP, "dd" },
	{ MADV_HUGEPAGE, "hg" },
	{ MADV_SEQUENTIAL, "sr" },
};

static const struct {
	int advice;
	const char *code;
} file_adv[] = {
	{ MADV_DONTFORK, "dc" },
	{ MADV_DONTDUMP, "dd" },
	{ MADV_RANDOM, "rr" },
	{ MADV_MERGEABLE, "mg" },
};

static void build(void)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	char buf[PS], *heap;
	int fd, mfd;

	for (size_t i = 0; i < sizeof(anon_adv) / sizeof(anon_adv[0]); i++) {
		size_t len = anon_adv[i].advice == MADV_HUGEPAGE ? HUGE_LEN : LEN;
		char what[32];

		snprintf(what, sizeof(what), "anon %s", anon_adv[i].code);
		record(advised(len, anon, -1, 0, anon_adv[i].advice), len, what, anon_adv[i].code,
		       (unsigned int)i + 1);
	}
	for (size_t i = 0; i < sizeof(shared_adv) / sizeof(shared_adv[0]); i++) {
		size_t len = shared_adv[i].advice == MADV_HUGEPAGE ? HUGE_LEN : LEN;
		char what[32];

		snprintf(what, sizeof(what), "shared %s", shared_adv[i].code);
		record(advised(len, MAP_SHARED | MAP_ANONYMOUS, -1, 0, shared_adv[i].advice), len,
		       what, shared_adv[i].code, (unsigned int)i + 20);
	}
	/* one mapping, its pages advised apart: areas side by side */
	{
		char *p = map_isolated(4 * PS, anon, -1, 0);

		CHECK_SYS(madvise(p + PS, PS, MADV_DONTDUMP));
		CHECK_SYS(madvise(p + 2 * PS, PS, MADV_RANDOM));
		CHECK_SYS(madvise(p + 3 * PS, PS, MADV_DONTDUMP));
		CHECK_SYS(madvise(p + 3 * PS, PS, MADV_SEQUENTIAL));
		record(p, PS, "side plain", NULL, 30);
		record(p + PS, PS, "side dd", "dd", 31);
		record(p + 2 * PS, PS, "side rr", "rr", 32);
		record(p + 3 * PS, PS, "side dd sr", "sr", 33);
	}
	fd = open("vmflags.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK_SYS(fd);
	memset(buf, 'f', sizeof(buf));
	for (size_t i = 0; i < 4 * 4; i++)
		CHECK_EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
	for (size_t i = 0; i < sizeof(file_adv) / sizeof(file_adv[0]); i++) {
		char what[32];

		snprintf(what, sizeof(what), "file %s", file_adv[i].code);
		record(advised(4 * PS, MAP_PRIVATE, fd, (off_t)(i * 4 * PS), file_adv[i].advice),
		       4 * PS, what, file_adv[i].code, (unsigned int)i + 40);
	}
	record(advised(4 * PS, MAP_SHARED, fd, 0, MADV_DONTDUMP), 4 * PS, "shared file dd", "dd",
	       45);
	record(advised(4 * PS, MAP_SHARED, fd, 4 * PS, MADV_DONTFORK), 4 * PS, "shared file dc",
	       "dc", 46);
	close(fd);
	mfd = memfd_create("vmflags", MFD_CLOEXEC);
	CHECK_SYS(mfd);
	CHECK_SYS(ftruncate(mfd, 2 * LEN));
	record(advised(LEN, MAP_SHARED, mfd, 0, MADV_DONTDUMP), LEN, "memfd dd", "dd", 50);
	record(advised(LEN, MAP_SHARED, mfd, LEN, MADV_NOHUGEPAGE), LEN, "memfd nh", "nh", 51);
	record(advised(LEN, MAP_PRIVATE, mfd, 0, MADV_RANDOM), LEN, "private memfd rr", "rr", 52);
	close(mfd);
	heap = sbrk(0);
	CHECK(sbrk(LEN) == heap);
	CHECK_SYS(madvise(heap, LEN, MADV_DONTDUMP));
	record(heap, LEN, "heap dd", "dd", 53);
}

/* The child drops the areas it was not given (dc), adds dd to the first
 * inherited anonymous area and an area of its own with dc. */
static void child_setup(void)
{
	size_t keep = 0;

	for (size_t i = 0; i < nareas; i++) {
		struct area *a = &areas[i];

		if (!look(a->p, a))
			continue; /* MADV_DONTFORK: not inherited */
		if (has_flag(a, "wf")) {
			/* wiped at the fork: the child writes its own */
			CHECK_EQ(a->p[0], 0);
			a->seed += 100;
			for (size_t k = 0; k < a->len; k++)
				a->p[k] = (char)pat(k, a->seed);
		}
		areas[keep++] = *a;
	}
	nareas = keep;
	for (size_t i = 0; i < nareas; i++) {
		if (strncmp(areas[i].what, "anon", 4) || has_flag(&areas[i], "dd"))
			continue;
		CHECK_SYS(madvise(areas[i].p, areas[i].len, MADV_DONTDUMP));
		if (!look(areas[i].p, &areas[i]) || !has_flag(&areas[i], "dd"))
			scen_fail("child: madvise did not set dd");
		break;
	}
	record(advised(LEN, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, MADV_DONTFORK), LEN, "child dc",
	       "dc", 60);
}

int main(void)
{
	int ready[2];
	pid_t kid;
	int status;
	char c;

	scen_init();
	build();
	CHECK_SYS(pipe(ready));
	kid = fork();
	CHECK_SYS(kid);
	if (kid == 0) {
		close(ready[0]);
		child_setup();
		CHECK_EQ(write(ready[1], "r", 1), 1);
		close(ready[1]);
		scen_wait();
		for (size_t i = 0; i < nareas; i++)
			check_area(&areas[i], "child");
		exit(0);
	}
	close(ready[1]);
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	scen_ready();
	scen_wait();
	for (size_t i = 0; i < nareas; i++)
		check_area(&areas[i], "root");
	CHECK_SYS(kill(kid, SIGTERM));
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("the child failed (status 0x%x)", status);
	scen_pass();
}
