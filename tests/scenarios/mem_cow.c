/*
 * mem_cow.c: memory a forked child still shares copy-on-write with its
 * parent is shared again after restart, and every difference between them
 * survives. The root fills an anonymous area A, a second area B and a
 * private mapping F of cow.dat (writing some of its pages), then forks:
 *
 *   root      after the forks, rewrites every 5th page of A
 *   +- c1     only reads
 *   +- c2     rewrites every 7th page of A, drops a range of A
 *   |         (MADV_DONTNEED: zeros again), unmaps B and maps a fresh
 *   |         area at the same place (writing a few pages of it), drops
 *   |         a page of F the root wrote (the file shows again) and
 *   |         writes another
 *   +- c3     rewrites every 13th page of A after forking
 *      +- g   rewrites every 11th page of A
 *
 * Each process keeps the generation of every page it expects, and on
 * SIGTERM checks each page's contents, then that it shares (the same
 * physical page, from /proc/PID/pagemap) at least 90% of the pages of A
 * that neither it nor its parent rewrote since the fork: restart must not
 * have given it copies of its own. The root checks first and then tells its
 * children, each of which tells its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define A_PAGES 8192
#define B_PAGES 256
#define F_PAGES 16
#define ZERO 0xff /* generation of a page that reads as zeros */
#define FILE_GEN 0xfe /* generation of a page that reads as the file */

static uint8_t *a_area, *b_area, *f_area;
static uint8_t a_gen[A_PAGES], b_gen[B_PAGES], f_gen[F_PAGES];
/* pages of A rewritten since the fork, by this process or its parent */
static uint8_t a_touched[A_PAGES];
static const char *who = "root";
static pid_t kids[4];
static int nkids;
static int ready_read_fd, g_ready_fd; /* the children's pipe to say they are ready */

static uint64_t word(size_t page, unsigned gen, size_t w)
{
	return (uint64_t)page * 0x10001 + (uint64_t)gen * 0x100000007ULL + w;
}

static void fill(uint8_t *area, uint8_t *gens, size_t page, unsigned gen)
{
	uint64_t *p = (uint64_t *)(area + page * PS);

	for (size_t w = 0; w < PS / 8; w++)
		p[w] = word(page, gen, w);
	gens[page] = (uint8_t)gen;
}

static uint8_t file_byte(size_t page, size_t i)
{
	return (uint8_t)(page * 31 + i * 7 + 3);
}

/* The expected word w of a page of the given generation. */
static uint64_t expected(size_t page, unsigned gen, size_t w)
{
	uint8_t bytes[8];
	uint64_t v;

	if (gen == ZERO)
		return 0;
	if (gen != FILE_GEN)
		return word(page, gen, w);
	for (size_t i = 0; i < 8; i++)
		bytes[i] = file_byte(page, w * 8 + i);
	memcpy(&v, bytes, 8);
	return v;
}

static void check_area(const char *name, const uint8_t *area, const uint8_t *gens, size_t n)
{
	for (size_t page = 0; page < n; page++) {
		const uint64_t *p = (const uint64_t *)(area + page * PS);

		for (size_t w = 0; w < PS / 8; w++) {
			uint64_t want = expected(page, gens[page], w);
			if (p[w] != want)
				scen_fail(
					"%s: %s page %zu word %zu is %#llx, expected %#llx (gen %u)",
					who, name, page, w, (unsigned long long)p[w],
					(unsigned long long)want, gens[page]);
		}
	}
}

/* Pages of A this process shares with its parent, out of those it could. */
static void check_sharing(void)
{
	static uint64_t mine[A_PAGES], theirs[A_PAGES];
	char path[64];
	int fd_mine = open("/proc/self/pagemap", O_RDONLY), fd_theirs;
	size_t could = 0, does = 0;
	off_t off = (off_t)((uintptr_t)a_area / PS * 8);

	snprintf(path, sizeof(path), "/proc/%d/pagemap", getppid());
	fd_theirs = open(path, O_RDONLY);
	CHECK(fd_mine >= 0 && fd_theirs >= 0);
	CHECK(pread(fd_mine, mine, sizeof(mine), off) == sizeof(mine));
	CHECK(pread(fd_theirs, theirs, sizeof(theirs), off) == sizeof(theirs));
	close(fd_mine);
	close(fd_theirs);
	for (size_t i = 0; i < A_PAGES; i++) {
		uint64_t pfn_mine = mine[i] & ((1ULL << 55) - 1);

		if (a_touched[i] || a_gen[i] == ZERO)
			continue;
		could++;
		if (mine[i] >> 63 && theirs[i] >> 63 && pfn_mine &&
		    pfn_mine == (theirs[i] & ((1ULL << 55) - 1)))
			does++;
	}
	if (does * 10 < could * 9)
		scen_fail("%s: shares %zu of %zu pages of A with its parent", who, does, could);
}

static void check_all(bool shares)
{
	check_area("A", a_area, a_gen, A_PAGES);
	check_area("B", b_area, b_gen, B_PAGES);
	check_area("F", f_area, f_gen, F_PAGES);
	if (shares)
		check_sharing();
	for (int i = 0; i < nkids; i++) {
		int status;

		CHECK_SYS(kill(kids[i], SIGTERM));
		if (waitpid(kids[i], &status, 0) != kids[i])
			scen_fail("%s: waitpid(%d): %m", who, kids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			scen_fail("%s: child %d ended with status 0x%x", who, kids[i], status);
	}
}

/* The parent rewrites every step-th page of A after the fork. */
static void parent_rewrites(size_t step)
{
	for (size_t i = 0; i < A_PAGES; i += step)
		a_touched[i] = 1;
}

static void rewrite_every(size_t step, unsigned gen)
{
	for (size_t i = 0; i < A_PAGES; i += step) {
		fill(a_area, a_gen, i, gen);
		a_touched[i] = 1;
	}
}

static void c2_work(void)
{
	void *b;

	parent_rewrites(5);
	rewrite_every(7, 2);
	CHECK_SYS(madvise(a_area + 1000 * PS, 100 * PS, MADV_DONTNEED));
	memset(a_gen + 1000, ZERO, 100);
	memset(a_touched + 1000, 1, 100);
	CHECK_SYS(munmap(b_area, B_PAGES * PS));
	b = mmap(b_area, B_PAGES * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(b == b_area);
	memset(b_gen, ZERO, sizeof(b_gen));
	for (size_t i = 0; i < 10; i++)
		fill(b_area, b_gen, i * 3, 2);
	CHECK_SYS(madvise(f_area, PS, MADV_DONTNEED));
	f_gen[0] = FILE_GEN;
	fill(f_area, f_gen, 5, 2);
}

/* Forks a child that runs work, signals ready on fd and waits. */
static void spawn(const char *name, void (*work)(void), int ready_fd)
{
	pid_t pid = fork();

	CHECK_SYS(pid);
	if (pid) {
		kids[nkids++] = pid;
		return;
	}
	who = name;
	nkids = 0;
	close(ready_read_fd);
	memset(a_touched, 0, sizeof(a_touched));
	work();
	CHECK(write(ready_fd, "x", 1) == 1);
	close(ready_fd);
	scen_wait();
	check_all(true);
	scen_pass();
}

static void g_work(void)
{
	parent_rewrites(13);
	rewrite_every(11, 3);
}

static void c3_work(void)
{
	parent_rewrites(5);
	spawn("g", g_work, g_ready_fd);
	rewrite_every(13, 4);
}

static void c1_work(void)
{
	parent_rewrites(5);
}

static void make_file(void)
{
	static uint8_t buf[F_PAGES * PS];
	int fd = open("cow.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK(fd >= 0);
	for (size_t page = 0; page < F_PAGES; page++)
		for (size_t i = 0; i < PS; i++)
			buf[page * PS + i] = file_byte(page, i);
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	f_area = mmap(NULL, F_PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(f_area != MAP_FAILED);
	close(fd);
	memset(f_gen, FILE_GEN, sizeof(f_gen));
	for (size_t page = 0; page < 4; page++)
		fill(f_area, f_gen, page, 1);
}

int main(void)
{
	int ready[2];
	char c;

	scen_init();
	a_area = mmap(NULL, A_PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	b_area = mmap(NULL, B_PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	CHECK(a_area != MAP_FAILED && b_area != MAP_FAILED);
	for (size_t i = 0; i < A_PAGES; i++)
		fill(a_area, a_gen, i, 0);
	for (size_t i = 0; i < B_PAGES; i++)
		fill(b_area, b_gen, i, 0);
	make_file();
	CHECK_SYS(pipe2(ready, O_CLOEXEC));
	ready_read_fd = ready[0];
	g_ready_fd = ready[1];
	spawn("c1", c1_work, ready[1]);
	spawn("c2", c2_work, ready[1]);
	spawn("c3", c3_work, ready[1]);
	/* every child writes a byte and closes its end: the end of file
	 * comes when all are ready and none holds the pipe */
	close(ready[1]);
	for (int i = 0; i < 4; i++)
		CHECK(read(ready[0], &c, 1) == 1);
	CHECK(read(ready[0], &c, 1) == 0);
	close(ready[0]);
	rewrite_every(5, 1);
	scen_ready();
	scen_wait();
	check_all(false);
	scen_pass();
}
