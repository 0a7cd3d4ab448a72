/*
 * mem_anon.c: private anonymous memory of several kinds survives restart.
 * A region filled with a pattern; a 1 GiB MAP_NORESERVE region with only 3
 * pages touched (their data come back and the region's Rss stays what it
 * was: only present pages were saved, nothing was populated); a region
 * with holes punched by munmap (the holes stay unmapped and can be mapped
 * with MAP_FIXED_NOREPLACE); regions made PROT_NONE and read-only after
 * being written (data and protections kept: access to the first and
 * writes to the second still fault); regions with MADV_DONTFORK,
 * MADV_DONTDUMP, MADV_WIPEONFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
 * MADV_SEQUENTIAL, MADV_RANDOM and MADV_MERGEABLE (VmFlags dc, dd, wf, hg,
 * nh, sr, rr, mg); mlock'ed regions (lo, and lo lf for MLOCK_ONFAULT); a
 * region named with PR_SET_VMA_ANON_NAME (on kernels that have names); a
 * region only ever read (the zero page), and one with MADV_HUGEPAGE (the
 * huge zero page), which still read zero and did not become resident; a
 * region once writable, now read-only and never written; a region sealed
 * with mseal (munmap and mprotect still fail with EPERM). Every region is
 * its own area (unmapped pages on both sides), and its bounds,
 * permissions, name and VmFlags (but sd) in /proc/self/smaps must be the
 * same before and after. Last, the program break is where it was and can
 * still move.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/prctl.h>
#include "lib/scen.h"

#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif

#define PS 4096UL
#define GIB (1UL << 30)
#define ANON_NAME "scen_named"

/* ---- /proc/self/smaps ---- */

struct vma {
	unsigned long start, end;
	char perms[5];
	char name[256];
	char flags[256]; /* VmFlags without sd (soft-dirty tracking state) */
	long rss_kb;
};

static char smaps_buf[1 << 20];

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

static void copy_field(char *dst, size_t cap, const char *src, const char *end)
{
	size_t n = (size_t)(end - src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void norm_flags(char *dst, size_t cap, const char *p, const char *end)
{
	size_t len = 0;

	dst[0] = '\0';
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (end - p < 2)
			break;
		if (memcmp(p, "sd", 2) && len + 4 < cap) {
			if (len)
				dst[len++] = ' ';
			dst[len++] = p[0];
			dst[len++] = p[1];
			dst[len] = '\0';
		}
		p += 2;
	}
}

/* The area holding addr; false when addr is not mapped. */
static bool find_vma(const void *addr, struct vma *v)
{
	unsigned long a = (unsigned long)addr;
	bool in = false;

	slurp("/proc/self/smaps", smaps_buf, sizeof(smaps_buf));
	for (char *line = smaps_buf; *line;) {
		char *end = strchr(line, '\n');

		if (!end)
			end = line + strlen(line);
		if ((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f')) {
			unsigned long s, e;
			int off = 0;

			if (in)
				return true; /* VmFlags missing: keep what we have */
			if (sscanf(line, "%lx-%lx %4s %*s %*s %*s%n", &s, &e, v->perms, &off) >=
				    3 &&
			    off > 0 && a >= s && a < e) {
				char *n = line + off;

				while (n < end && *n == ' ')
					n++;
				in = true;
				v->start = s;
				v->end = e;
				copy_field(v->name, sizeof(v->name), n, end);
				v->flags[0] = '\0';
				v->rss_kb = -1;
			}
		} else if (in && !strncmp(line, "Rss:", 4)) {
			v->rss_kb = strtol(line + 4, NULL, 10);
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			norm_flags(v->flags, sizeof(v->flags), line + 8, end);
			return true;
		}
		line = *end ? end + 1 : end;
	}
	return in;
}

static struct vma vma_of(const void *addr, const char *what)
{
	struct vma v;

	if (!find_vma(addr, &v))
		scen_fail("%s: %p is not mapped", what, addr);
	return v;
}

static bool has_flag(const struct vma *v, const char *code)
{
	for (const char *p = v->flags; *p; p += p[2] ? 3 : 2)
		if (p[0] == code[0] && p[1] == code[1])
			return true;
	return false;
}

static void same_vma(const struct vma *before, const void *addr, const char *what)
{
	struct vma now = vma_of(addr, what);

	if (now.start != before->start || now.end != before->end)
		scen_fail("%s: area was %lx-%lx, is %lx-%lx", what, before->start, before->end,
			  now.start, now.end);
	if (strcmp(now.perms, before->perms))
		scen_fail("%s: permissions were %s, are %s", what, before->perms, now.perms);
	if (strcmp(now.name, before->name))
		scen_fail("%s: name was '%s', is '%s'", what, before->name, now.name);
	if (strcmp(now.flags, before->flags))
		scen_fail("%s: VmFlags were '%s', are '%s'", what, before->flags, now.flags);
}

/* ---- memory helpers ---- */

static uint8_t pat(size_t i, unsigned int seed)
{
	return (uint8_t)(i * 31 + seed * 101 + (i >> 12) * 7 + 1);
}

static void fill(void *p, size_t len, unsigned int seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = pat(i, seed);
}

/* Bytes [off, off + len) of a region filled by fill(base, ..., seed). */
static void check_part(const void *base, size_t off, size_t len, unsigned int seed,
		       const char *what)
{
	const uint8_t *b = base;

	for (size_t i = off; i < off + len; i++)
		if (b[i] != pat(i, seed))
			scen_fail("%s: byte %zu is 0x%02x, expected 0x%02x", what, i, b[i],
				  pat(i, seed));
}

static void check_fill(const void *p, size_t len, unsigned int seed, const char *what)
{
	check_part(p, 0, len, seed, what);
}

/* Maps len bytes with an unmapped page on each side, so the region is an
 * area of its own that no neighbour merges with. */
static void *map_isolated(size_t len, int prot, int flags)
{
	char *r = mmap(NULL, len + 2 * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	char *p;

	if (r == MAP_FAILED)
		scen_fail("mmap reserve %zu: %m", len);
	p = mmap(r + PS, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | flags, -1, 0);
	if (p != r + PS)
		scen_fail("mmap %zu: %m", len);
	CHECK_SYS(munmap(r, PS));
	CHECK_SYS(munmap(r + PS + len, PS));
	return p;
}

static sigjmp_buf probe_env;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

/* Whether reading (or writing back what is there) at p faults. */
static bool faults(volatile uint8_t *p, bool write)
{
	struct sigaction sa = {.sa_handler = on_segv}, old;
	volatile bool faulted = false;

	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGSEGV, &sa, &old));
	if (sigsetjmp(probe_env, 1) == 0) {
		uint8_t v = *p;

		if (write)
			*p = v;
	} else {
		faulted = true;
	}
	CHECK_SYS(sigaction(SIGSEGV, &old, NULL));
	return faulted;
}

static bool unmapped(const void *addr)
{
	struct vma v;

	return !find_vma(addr, &v);
}

/* ---- the regions ---- */

#define PLAIN_LEN (64 * PS)
#define HOLES_LEN (16 * PS)
#define SMALL_LEN (8 * PS)
#define HUGE_LEN (4UL << 20)

static const size_t sparse_off[3] = {0, GIB / 2 + 5 * PS, GIB - PS};

static const struct {
	int advice;
	const char *code;
} advised[] = {
	{MADV_DONTFORK, "dc"}, {MADV_DONTDUMP, "dd"},	{MADV_WIPEONFORK, "wf"},
	{MADV_HUGEPAGE, "hg"}, {MADV_NOHUGEPAGE, "nh"}, {MADV_SEQUENTIAL, "sr"},
	{MADV_RANDOM, "rr"},   {MADV_MERGEABLE, "mg"},
};
#define NADV (sizeof(advised) / sizeof(advised[0]))

struct region {
	char *p;
	size_t len;
	const char *what;
	struct vma before;
};

static bool have_names, have_mseal;
static void *brk_before;
static struct region hzero, empty_ro, sealed;
static struct region plain, sparse, holes, none, ro, adv[NADV], locked, onfault, named, zero;

static void record(struct region *r, char *p, size_t len, const char *what)
{
	r->p = p;
	r->len = len;
	r->what = what;
	r->before = vma_of(p, what);
}

static void build(void)
{
	char *p;

	/* a region filled with a pattern */
	p = map_isolated(PLAIN_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, PLAIN_LEN, 1);
	record(&plain, p, PLAIN_LEN, "plain");

	/* 1 GiB, NORESERVE, three pages touched */
	p = map_isolated(GIB, PROT_READ | PROT_WRITE, MAP_NORESERVE);
	for (int i = 0; i < 3; i++)
		fill(p + sparse_off[i], PS, 10 + (unsigned int)i);
	record(&sparse, p, GIB, "sparse");
	CHECK(has_flag(&sparse.before, "nr"));
	if (sparse.before.rss_kb > 3 * (long)PS / 1024)
		scen_fail("sparse: Rss is %ld kB before the checkpoint already",
			  sparse.before.rss_kb);

	/* holes at pages 4-5 and 10 */
	p = map_isolated(HOLES_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, HOLES_LEN, 2);
	CHECK_SYS(munmap(p + 4 * PS, 2 * PS));
	CHECK_SYS(munmap(p + 10 * PS, PS));
	record(&holes, p, HOLES_LEN, "holes");
	CHECK(unmapped(p + 4 * PS) && unmapped(p + 5 * PS) && unmapped(p + 10 * PS));

	/* written, then PROT_NONE; written, then read-only */
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, SMALL_LEN, 3);
	CHECK_SYS(mprotect(p, SMALL_LEN, PROT_NONE));
	record(&none, p, SMALL_LEN, "prot-none");
	CHECK(!strcmp(none.before.perms, "---p"));
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, SMALL_LEN, 4);
	CHECK_SYS(mprotect(p, SMALL_LEN, PROT_READ));
	record(&ro, p, SMALL_LEN, "read-only");
	CHECK(!strcmp(ro.before.perms, "r--p"));

	/* madvise flags, each on a region of its own, with data */
	for (size_t i = 0; i < NADV; i++) {
		size_t len = advised[i].advice == MADV_HUGEPAGE ? HUGE_LEN : SMALL_LEN;

		p = map_isolated(len, PROT_READ | PROT_WRITE, 0);
		CHECK_SYS(madvise(p, len, advised[i].advice));
		fill(p, len, 20 + (unsigned int)i);
		record(&adv[i], p, len, advised[i].code);
		if (!has_flag(&adv[i].before, advised[i].code))
			scen_fail("madvise did not set %s: '%s'", advised[i].code,
				  adv[i].before.flags);
	}

	/* locked regions */
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, SMALL_LEN, 5);
	CHECK_SYS(mlock(p, SMALL_LEN));
	record(&locked, p, SMALL_LEN, "mlock");
	CHECK(has_flag(&locked.before, "lo"));
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	CHECK_SYS(syscall(SYS_mlock2, p, SMALL_LEN, MLOCK_ONFAULT));
	fill(p, SMALL_LEN / 2, 6);
	record(&onfault, p, SMALL_LEN, "mlock-onfault");
	CHECK(has_flag(&onfault.before, "lo") && has_flag(&onfault.before, "lf"));

	/* a named region, on kernels built with CONFIG_ANON_VMA_NAME */
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, SMALL_LEN, 7);
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, SMALL_LEN,
		  (unsigned long)ANON_NAME)) {
		if (errno != EINVAL)
			scen_fail("prctl(PR_SET_VMA_ANON_NAME): %m");
		fprintf(stderr, "note: no anonymous area names on this kernel "
				"(CONFIG_ANON_VMA_NAME): not tested\n");
	} else {
		have_names = true;
	}
	record(&named, p, SMALL_LEN, "named");
	if (have_names)
		CHECK(!strcmp(named.before.name, "[anon:" ANON_NAME "]"));

	/* only read: the zero page */
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	for (size_t i = 0; i < SMALL_LEN; i += PS)
		CHECK_EQ(((volatile char *)p)[i], 0);
	record(&zero, p, SMALL_LEN, "zero-page");
	CHECK_EQ(zero.before.rss_kb, 0);

	/* only read with MADV_HUGEPAGE: the huge zero page */
	p = map_isolated(HUGE_LEN, PROT_READ | PROT_WRITE, 0);
	CHECK_SYS(madvise(p, HUGE_LEN, MADV_HUGEPAGE));
	for (size_t i = 0; i < HUGE_LEN; i += PS)
		CHECK_EQ(((volatile char *)p)[i], 0);
	record(&hzero, p, HUGE_LEN, "huge-zero-page");
	CHECK_EQ(hzero.before.rss_kb, 0);

	/* writable once, read-only now, never written (no accounting left) */
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	CHECK_SYS(mprotect(p, SMALL_LEN, PROT_READ));
	record(&empty_ro, p, SMALL_LEN, "empty-read-only");

	/* sealed with mseal */
	p = map_isolated(SMALL_LEN, PROT_READ | PROT_WRITE, 0);
	fill(p, SMALL_LEN, 8);
	if (syscall(SYS_mseal, p, SMALL_LEN, 0)) {
		if (errno != ENOSYS)
			scen_fail("mseal: %m");
		fprintf(stderr, "note: no mseal on this kernel: not tested\n");
	} else {
		have_mseal = true;
	}
	record(&sealed, p, SMALL_LEN, "sealed");
	if (have_mseal)
		CHECK(has_flag(&sealed.before, "sl"));

	brk_before = sbrk(0);
}

static void check_all(void)
{
	struct region *all[] = {&plain,	  &sparse, &holes, &none,  &ro,	      &locked,
				&onfault, &named,  &zero,  &hzero, &empty_ro, &sealed};
	struct vma v;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		same_vma(&all[i]->before, all[i]->p, all[i]->what);
	for (size_t i = 0; i < NADV; i++)
		same_vma(&adv[i].before, adv[i].p, adv[i].what);

	/* plain */
	check_fill(plain.p, PLAIN_LEN, 1, "plain");

	/* sparse: Rss first, before anything reads it */
	v = vma_of(sparse.p, "sparse");
	if (v.rss_kb > sparse.before.rss_kb)
		scen_fail("sparse: Rss grew from %ld kB to %ld kB", sparse.before.rss_kb, v.rss_kb);
	for (int i = 0; i < 3; i++)
		check_fill(sparse.p + sparse_off[i], PS, 10 + (unsigned int)i, "sparse page");
	for (size_t off = PS; off < GIB - PS; off += 65 * PS)
		if (off != sparse_off[1])
			CHECK_EQ(((volatile char *)sparse.p)[off], 0);
	v = vma_of(sparse.p, "sparse");
	if (v.rss_kb > sparse.before.rss_kb)
		scen_fail("sparse: Rss grew from %ld kB to %ld kB on reading", sparse.before.rss_kb,
			  v.rss_kb);

	/* holes stay holes; the rest holds its data */
	CHECK(unmapped(holes.p + 4 * PS));
	CHECK(unmapped(holes.p + 5 * PS));
	CHECK(unmapped(holes.p + 10 * PS));
	{
		struct vma a, b;

		CHECK(find_vma(holes.p + 6 * PS, &a));
		CHECK_EQ(a.start, (unsigned long)(holes.p + 6 * PS));
		CHECK_EQ(a.end, (unsigned long)(holes.p + 10 * PS));
		CHECK(find_vma(holes.p + 11 * PS, &b));
		CHECK_EQ(b.start, (unsigned long)(holes.p + 11 * PS));
		CHECK_EQ(b.end, (unsigned long)(holes.p + HOLES_LEN));
	}
	check_part(holes.p, 0, 4 * PS, 2, "holes, pages 0-3");
	check_part(holes.p, 6 * PS, 4 * PS, 2, "holes, pages 6-9");
	check_part(holes.p, 11 * PS, 5 * PS, 2, "holes, pages 11-15");
	{
		void *m = mmap(holes.p + 4 * PS, 2 * PS, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (m != holes.p + 4 * PS)
			scen_fail("holes: cannot map the hole at %p: %m (got %p)", holes.p + 4 * PS,
				  m);
		CHECK_EQ(((volatile char *)m)[0], 0);
		CHECK_SYS(munmap(m, 2 * PS));
	}

	/* PROT_NONE: faults, then holds its data once readable */
	CHECK(faults((volatile uint8_t *)none.p, false));
	CHECK(faults((volatile uint8_t *)none.p + SMALL_LEN - 1, false));
	CHECK_SYS(mprotect(none.p, SMALL_LEN, PROT_READ));
	check_fill(none.p, SMALL_LEN, 3, "prot-none");

	/* read-only: data, and writes fault */
	check_fill(ro.p, SMALL_LEN, 4, "read-only");
	CHECK(!faults((volatile uint8_t *)ro.p, false));
	CHECK(faults((volatile uint8_t *)ro.p, true));
	CHECK(faults((volatile uint8_t *)ro.p + SMALL_LEN - 1, true));

	for (size_t i = 0; i < NADV; i++) {
		v = vma_of(adv[i].p, adv[i].what);
		if (!has_flag(&v, advised[i].code))
			scen_fail("%s lost: VmFlags '%s'", advised[i].code, v.flags);
		check_fill(adv[i].p, adv[i].len, 20 + (unsigned int)i, adv[i].what);
	}

	v = vma_of(locked.p, "mlock");
	CHECK(has_flag(&v, "lo"));
	check_fill(locked.p, SMALL_LEN, 5, "mlock");
	v = vma_of(onfault.p, "mlock-onfault");
	CHECK(has_flag(&v, "lo") && has_flag(&v, "lf"));
	check_fill(onfault.p, SMALL_LEN / 2, 6, "mlock-onfault");
	for (size_t i = SMALL_LEN / 2; i < SMALL_LEN; i++)
		CHECK_EQ(onfault.p[i], 0);

	v = vma_of(named.p, "named");
	if (have_names)
		CHECK(!strcmp(v.name, "[anon:" ANON_NAME "]"));
	check_fill(named.p, SMALL_LEN, 7, "named");

	v = vma_of(zero.p, "zero-page");
	if (v.rss_kb > zero.before.rss_kb)
		scen_fail("zero-page: Rss grew from %ld kB to %ld kB", zero.before.rss_kb,
			  v.rss_kb);
	for (size_t i = 0; i < SMALL_LEN; i++)
		CHECK_EQ(zero.p[i], 0);

	v = vma_of(hzero.p, "huge-zero-page");
	if (v.rss_kb > hzero.before.rss_kb)
		scen_fail("huge-zero-page: Rss grew from %ld kB to %ld kB", hzero.before.rss_kb,
			  v.rss_kb);
	for (size_t i = 0; i < HUGE_LEN; i += 512)
		CHECK_EQ(hzero.p[i], 0);

	for (size_t i = 0; i < SMALL_LEN; i += 512)
		CHECK_EQ(empty_ro.p[i], 0);
	CHECK(faults((volatile uint8_t *)empty_ro.p, true));

	/* the seal holds: no unmapping, no protection change, data kept */
	check_fill(sealed.p, SMALL_LEN, 8, "sealed");
	if (have_mseal) {
		errno = 0;
		CHECK(munmap(sealed.p, SMALL_LEN) && errno == EPERM);
		errno = 0;
		CHECK(mprotect(sealed.p, SMALL_LEN, PROT_READ) && errno == EPERM);
	}

	/* the program break is where it was and still moves */
	{
		char *b = sbrk(0), *grown;

		CHECK(b == brk_before);
		grown = sbrk(1 << 20);
		CHECK(grown == b);
		memset(grown, 0x6b, 1 << 20);
		CHECK_EQ(grown[(1 << 20) - 1], 0x6b);
		CHECK(sbrk(-(1 << 20)) != (void *)-1);
		CHECK(sbrk(0) == b);
	}

	/* still ordinary memory */
	plain.p[0] ^= 0x55;
	CHECK_EQ((uint8_t)plain.p[0], (uint8_t)(pat(0, 1) ^ 0x55));
}

int main(void)
{
	scen_init();
	build();
	scen_ready();
	scen_wait();
	check_all();
	scen_pass();
}
