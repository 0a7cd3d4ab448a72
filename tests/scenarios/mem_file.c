/*
 * mem_file.c: file mappings survive restart. priv.dat (in the working
 * directory) is mapped MAP_PRIVATE at a page offset, read and written
 * (some pages, one of them only partly), and a second private view is
 * written and then made read-only. After restart the written pages keep
 * their modifications, the others equal the file, the file itself is
 * unchanged, the areas have the same bounds, offset, permissions and file
 * as before, only the written pages are anonymous (Anonymous in smaps:
 * the rest is still the page cache, not a copy), writes still fault in
 * the read-only view, and a new write through the private mapping does
 * not reach the file. shared.dat is mapped MAP_SHARED and written through
 * the mapping: after restart the mapping holds that data, the file shows
 * it (pread), a write through the mapping shows in pread and a pwrite
 * shows through the mapping: it is still the file's page cache.
 *
 * The files are closed before the checkpoint and opened again by absolute
 * path afterwards, so this tests mappings, not descriptors. In "leave"
 * mode the original puts shared.dat back as it was at the checkpoint
 * before it passes, for the restarted copy to find it so.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define PRIV_PAGES 16
#define MAP_OFF 1 /* the private mapping starts at file page 1 */
#define MAP_PAGES 12
#define SHARED_PAGES 8

struct vma {
	unsigned long start, end, off;
	char perms[5];
	char name[PATH_MAX];
	long anon_kb;
};

static char smaps_buf[1 << 20];
static char priv_path[PATH_MAX], shared_path[PATH_MAX];

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

/* The smaps entry of the area holding addr. */
static struct vma vma_of(const void *addr, const char *what)
{
	unsigned long a = (unsigned long)addr;
	struct vma v = {0};
	bool in = false;

	slurp("/proc/self/smaps", smaps_buf, sizeof(smaps_buf));
	for (char *line = smaps_buf; *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if ((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f')) {
			unsigned long s, e, off;
			int pos = 0;

			if (in)
				break;
			if (sscanf(line, "%lx-%lx %4s %lx %*s %*s%n", &s, &e, v.perms, &off,
				   &pos) >= 4 &&
			    pos > 0 && a >= s && a < e) {
				char *n = line + pos;

				while (*n == ' ')
					n++;
				in = true;
				v.start = s;
				v.end = e;
				v.off = off;
				snprintf(v.name, sizeof(v.name), "%s", n);
				v.anon_kb = -1;
			}
		} else if (in && !strncmp(line, "Anonymous:", 10)) {
			v.anon_kb = strtol(line + 10, NULL, 10);
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!in)
		scen_fail("%s: %p is not mapped", what, addr);
	return v;
}

static void same_vma(const struct vma *b, const void *addr, const char *what)
{
	struct vma n = vma_of(addr, what);

	if (n.start != b->start || n.end != b->end || n.off != b->off)
		scen_fail("%s: was %lx-%lx at offset %lx, is %lx-%lx at offset %lx", what, b->start,
			  b->end, b->off, n.start, n.end, n.off);
	if (strcmp(n.perms, b->perms))
		scen_fail("%s: permissions were %s, are %s", what, b->perms, n.perms);
	if (strcmp(n.name, b->name))
		scen_fail("%s: file was '%s', is '%s'", what, b->name, n.name);
	if (n.anon_kb != b->anon_kb)
		scen_fail("%s: %ld kB were anonymous (written), now %ld kB", what, b->anon_kb,
			  n.anon_kb);
}

static uint8_t file_pat(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 12) * 3 + 1);
}

static uint8_t mod_pat(size_t i)
{
	return (uint8_t)(~(i * 5 + 0x21));
}

static uint8_t shared_pat(size_t i, unsigned int gen)
{
	return (uint8_t)(i * 13 + gen * 0x31 + 9);
}

static void write_file(const char *path, size_t len, uint8_t (*fn)(size_t))
{
	uint8_t buf[PS];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		scen_fail("create %s: %m", path);
	for (size_t off = 0; off < len; off += PS) {
		for (size_t i = 0; i < PS; i++)
			buf[i] = fn(off + i);
		if (write(fd, buf, PS) != (ssize_t)PS)
			scen_fail("write %s: %m", path);
	}
	close(fd);
}

static uint8_t zero_pat(size_t i)
{
	(void)i;
	return 0;
}

static sigjmp_buf probe_env;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

static bool write_faults(volatile uint8_t *p)
{
	struct sigaction sa = {.sa_handler = on_segv}, old;
	volatile bool faulted = false;

	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGSEGV, &sa, &old));
	if (sigsetjmp(probe_env, 1) == 0) {
		uint8_t v = *p;

		*p = v;
	} else {
		faulted = true;
	}
	CHECK_SYS(sigaction(SIGSEGV, &old, NULL));
	return faulted;
}

/* Written in the private mapping (mapping page index): pages 2 and 5
 * whole, page 7 one byte. */
static bool page_written(size_t pg)
{
	return pg == 2 || pg == 5;
}

static uint8_t expect_priv(size_t i)
{
	size_t pg = i / PS;

	if (page_written(pg) || i == 7 * PS + 100)
		return mod_pat(i);
	return file_pat(MAP_OFF * PS + i);
}

int main(void)
{
	uint8_t *priv, *ro, *shared;
	struct vma priv_before, ro_before, shared_before;
	struct stat st_before, st;
	int fd;
	char cwd[PATH_MAX - 64];

	scen_init();
	CHECK(getcwd(cwd, sizeof(cwd)));
	snprintf(priv_path, sizeof(priv_path), "%s/priv.dat", cwd);
	snprintf(shared_path, sizeof(shared_path), "%s/shared.dat", cwd);
	write_file(priv_path, PRIV_PAGES * PS, file_pat);
	write_file(shared_path, SHARED_PAGES * PS, zero_pat);

	/* the private mapping: read everything, write some */
	fd = open(priv_path, O_RDONLY | O_CLOEXEC);
	CHECK_SYS(fd);
	priv = mmap(NULL, MAP_PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, MAP_OFF * PS);
	CHECK(priv != MAP_FAILED);
	for (size_t i = 0; i < MAP_PAGES * PS; i++)
		CHECK_EQ(priv[i], file_pat(MAP_OFF * PS + i));
	for (size_t i = 0; i < MAP_PAGES * PS; i++)
		if (page_written(i / PS) || i == 7 * PS + 100)
			priv[i] = mod_pat(i);
	/* a second private view, page 0 written, then read-only */
	ro = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(ro != MAP_FAILED);
	memset(ro, 0x5c, PS);
	CHECK_EQ(ro[PS], file_pat(PS));
	CHECK_SYS(mprotect(ro, 4 * PS, PROT_READ));
	close(fd);
	CHECK_SYS(stat(priv_path, &st_before));

	/* the shared mapping, written through */
	fd = open(shared_path, O_RDWR | O_CLOEXEC);
	CHECK_SYS(fd);
	shared = mmap(NULL, SHARED_PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(shared != MAP_FAILED);
	close(fd);
	for (size_t i = 0; i < SHARED_PAGES * PS; i++)
		shared[i] = shared_pat(i, 1);

	priv_before = vma_of(priv, "private mapping");
	ro_before = vma_of(ro, "read-only private mapping");
	shared_before = vma_of(shared, "shared mapping");
	CHECK_EQ(priv_before.anon_kb, 3 * PS / 1024);
	CHECK_EQ(ro_before.anon_kb, PS / 1024);
	CHECK(!strcmp(priv_before.name, priv_path));
	scen_ready();
	scen_wait();

	/* private: areas as they were, only the written pages anonymous */
	same_vma(&priv_before, priv, "private mapping");
	same_vma(&ro_before, ro, "read-only private mapping");
	same_vma(&shared_before, shared, "shared mapping");
	for (size_t i = 0; i < MAP_PAGES * PS; i++)
		if (priv[i] != expect_priv(i))
			scen_fail("private mapping: byte %zu (page %zu) is 0x%02x, expected 0x%02x",
				  i, i / PS, priv[i], expect_priv(i));
	for (size_t i = 0; i < 4 * PS; i++)
		CHECK_EQ(ro[i], i < PS ? 0x5c : file_pat(i));
	CHECK(write_faults(ro));
	CHECK(write_faults(ro + 3 * PS));

	/* the file is untouched, and still behind the unwritten pages */
	CHECK_SYS(stat(priv_path, &st));
	CHECK_EQ(st.st_size, st_before.st_size);
	CHECK_EQ(st.st_mtim.tv_sec, st_before.st_mtim.tv_sec);
	CHECK_EQ(st.st_mtim.tv_nsec, st_before.st_mtim.tv_nsec);
	fd = open(priv_path, O_RDONLY | O_CLOEXEC);
	CHECK_SYS(fd);
	{
		static uint8_t buf[PRIV_PAGES * PS];

		CHECK_EQ(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != file_pat(i))
				scen_fail("priv.dat changed at byte %zu", i);
	}
	/* still private: a write does not reach the file */
	priv[0] = (uint8_t)~file_pat(MAP_OFF * PS);
	{
		uint8_t b;

		CHECK_EQ(pread(fd, &b, 1, MAP_OFF * PS), 1);
		CHECK_EQ(b, file_pat(MAP_OFF * PS));
	}
	close(fd);

	/* shared: the data written before, and still the file's pages */
	fd = open(shared_path, O_RDWR | O_CLOEXEC);
	CHECK_SYS(fd);
	for (size_t i = 0; i < SHARED_PAGES * PS; i++)
		if (shared[i] != shared_pat(i, 1))
			scen_fail("shared mapping: byte %zu is 0x%02x, expected 0x%02x", i,
				  shared[i], shared_pat(i, 1));
	for (size_t pg = 0; pg < SHARED_PAGES; pg++) {
		uint8_t buf[PS];

		CHECK_EQ(pread(fd, buf, PS, (off_t)(pg * PS)), (ssize_t)PS);
		if (memcmp(buf, shared + pg * PS, PS))
			scen_fail("shared.dat page %zu differs from the mapping", pg);
	}
	shared[3 * PS + 17] = 0xe1;
	{
		uint8_t b = 0;

		CHECK_EQ(pread(fd, &b, 1, 3 * PS + 17), 1);
		CHECK_EQ(b, 0xe1);
		b = 0x7e;
		CHECK_EQ(pwrite(fd, &b, 1, 6 * PS + 5), 1);
		CHECK_EQ(((volatile uint8_t *)shared)[6 * PS + 5], 0x7e);
	}
	/* put shared.dat back as at the checkpoint (for "leave" mode) */
	shared[3 * PS + 17] = shared_pat(3 * PS + 17, 1);
	shared[6 * PS + 5] = shared_pat(6 * PS + 5, 1);
	CHECK_SYS(msync(shared, SHARED_PAGES * PS, MS_SYNC));
	close(fd);
	scen_pass();
}
