/*
 * mem_shared_anon.c: shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS)
 * survives restart as one object. A 16-page object holds a pattern but for
 * two pages never touched, and its upper half is made read-only, which
 * splits it in two areas of the same object; a second 4-page object holds
 * another pattern. After restart the contents are intact (the untouched
 * pages read zero), /proc/self/maps shows both areas of the first object
 * as "/dev/zero (deleted)" with their permissions and file offsets, both
 * areas are backed by the same file (same inode through map_files) and
 * the second object by another, a third view of the first object mapped
 * through /proc/self/map_files sees writes made through the first area and
 * its own writes show in the read-only second area, and writes to one
 * object never show in the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define OBJ_PAGES 16
#define RO_FROM 8 /* pages 8-15 read-only */
#define OTHER_PAGES 4

struct area {
	unsigned long start, end, off;
	char perms[5];
	char name[256];
};

static char text[1 << 18];

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

static struct area area_of(const void *addr, const char *what)
{
	unsigned long a = (unsigned long)addr;
	struct area v;

	slurp("/proc/self/maps", text, sizeof(text));
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		int pos = 0;

		if (nl)
			*nl = '\0';
		if (sscanf(line, "%lx-%lx %4s %lx %*s %*s%n", &v.start, &v.end, v.perms, &v.off,
			   &pos) >= 4 &&
		    pos > 0 && a >= v.start && a < v.end) {
			char *n = line + pos;

			while (*n == ' ')
				n++;
			snprintf(v.name, sizeof(v.name), "%s", n);
			return v;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	scen_fail("%s: %p is not mapped", what, addr);
}

static void expect_area(const void *addr, size_t len, const char *perms, unsigned long off,
			const char *what)
{
	struct area v = area_of(addr, what);

	if (v.start != (unsigned long)addr || v.end != (unsigned long)addr + len)
		scen_fail("%s: area is %lx-%lx, expected %p-%p", what, v.start, v.end, addr,
			  (const char *)addr + len);
	if (strcmp(v.perms, perms))
		scen_fail("%s: permissions %s, expected %s", what, v.perms, perms);
	if (v.off != off)
		scen_fail("%s: offset %lx, expected %lx", what, v.off, off);
	if (strcmp(v.name, "/dev/zero (deleted)"))
		scen_fail("%s: named '%s', expected '/dev/zero (deleted)'", what, v.name);
}

/* The inode behind an area, through /proc/self/map_files. */
static ino_t area_ino(const void *addr, size_t len)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	if (stat(path, &st))
		scen_fail("stat %s: %m", path);
	return st.st_ino;
}

static bool untouched(size_t pg)
{
	return pg == 5 || pg == 12;
}

static uint8_t pat(size_t i, unsigned int seed)
{
	return (uint8_t)(i * 17 + seed * 59 + (i >> 12) + 1);
}

static uint8_t expect_obj(size_t i)
{
	return untouched(i / PS) ? 0 : pat(i, 1);
}

int main(void)
{
	uint8_t *obj, *other, *view;
	char path[96];
	int fd;

	scen_init();
	obj = mmap(NULL, OBJ_PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	other = mmap(NULL, OTHER_PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	CHECK(obj != MAP_FAILED && other != MAP_FAILED);
	for (size_t i = 0; i < OBJ_PAGES * PS; i++)
		if (!untouched(i / PS))
			obj[i] = pat(i, 1);
	for (size_t i = 0; i < OTHER_PAGES * PS; i++)
		other[i] = pat(i, 2);
	CHECK_SYS(mprotect(obj + RO_FROM * PS, (OBJ_PAGES - RO_FROM) * PS, PROT_READ));
	expect_area(obj, RO_FROM * PS, "rw-s", 0, "first area");
	expect_area(obj + RO_FROM * PS, (OBJ_PAGES - RO_FROM) * PS, "r--s", RO_FROM * PS,
		    "second area");
	CHECK(area_ino(obj, RO_FROM * PS) ==
	      area_ino(obj + RO_FROM * PS, (OBJ_PAGES - RO_FROM) * PS));
	scen_ready();
	scen_wait();

	/* areas and contents */
	expect_area(obj, RO_FROM * PS, "rw-s", 0, "first area");
	expect_area(obj + RO_FROM * PS, (OBJ_PAGES - RO_FROM) * PS, "r--s", RO_FROM * PS,
		    "second area");
	expect_area(other, OTHER_PAGES * PS, "rw-s", 0, "other object");
	for (size_t i = 0; i < OBJ_PAGES * PS; i++)
		if (obj[i] != expect_obj(i))
			scen_fail("object: byte %zu (page %zu) is 0x%02x, expected 0x%02x", i,
				  i / PS, obj[i], expect_obj(i));
	for (size_t i = 0; i < OTHER_PAGES * PS; i++)
		if (other[i] != pat(i, 2))
			scen_fail("other object: byte %zu is 0x%02x, expected 0x%02x", i, other[i],
				  pat(i, 2));

	/* one object behind both areas, another behind the other */
	CHECK(area_ino(obj, RO_FROM * PS) ==
	      area_ino(obj + RO_FROM * PS, (OBJ_PAGES - RO_FROM) * PS));
	CHECK(area_ino(obj, RO_FROM * PS) != area_ino(other, OTHER_PAGES * PS));

	/* a third view of the whole object through map_files */
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)obj,
		 (unsigned long)obj + RO_FROM * PS);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		scen_fail("open %s: %m", path);
	{
		struct stat st;

		CHECK_SYS(fstat(fd, &st));
		CHECK_EQ(st.st_size, OBJ_PAGES * PS);
	}
	view = mmap(NULL, OBJ_PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(view != MAP_FAILED);
	close(fd);
	CHECK(!memcmp(view, obj, OBJ_PAGES * PS));
	obj[3 * PS + 1] = 0xa1;
	CHECK_EQ(((volatile uint8_t *)view)[3 * PS + 1], 0xa1);
	view[10 * PS + 2] = 0xb2;
	CHECK_EQ(((volatile uint8_t *)obj)[10 * PS + 2], 0xb2);
	view[12 * PS] = 0xc3; /* a page that was never touched */
	CHECK_EQ(((volatile uint8_t *)obj)[12 * PS], 0xc3);
	for (size_t i = 0; i < OTHER_PAGES * PS; i++)
		CHECK_EQ(other[i], pat(i, 2));
	other[0] = 0xd4;
	CHECK_EQ(view[0], pat(0, 1));
	CHECK_EQ(obj[0], pat(0, 1));
	CHECK_SYS(munmap(view, OBJ_PAGES * PS));
	scen_pass();
}
