/*
 * mem_shared_grown.c: a shared anonymous area that mremap grew beyond its
 * object. The kernel lets mremap enlarge a MAP_SHARED|MAP_ANONYMOUS area,
 * but the object behind it keeps its size: the area's tail is mapped and
 * touching it raises SIGBUS. After restart the area has the same bounds,
 * the object the same size (through /proc/self/map_files), the data in
 * the object's part is intact and shared with a second view, and the tail
 * still raises SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define OBJ_PAGES 4
#define AREA_PAGES 8

static sigjmp_buf probe_env;

static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

static bool bus_error(volatile uint8_t *p)
{
	struct sigaction sa = {.sa_handler = on_bus}, old;
	volatile bool faulted = false;

	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGBUS, &sa, &old));
	if (sigsetjmp(probe_env, 1) == 0)
		(void)*p;
	else
		faulted = true;
	CHECK_SYS(sigaction(SIGBUS, &old, NULL));
	return faulted;
}

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 29 + (i >> 12) + 11);
}

/* Checks the area and returns a descriptor of its object. */
static int check_area(const uint8_t *area)
{
	char path[96];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)area,
		 (unsigned long)area + AREA_PAGES * PS);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		scen_fail("the area is not %p-%p: %s: %m", (const void *)area,
			  (const void *)(area + AREA_PAGES * PS), path);
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, OBJ_PAGES * PS);
	for (size_t i = 0; i < OBJ_PAGES * PS; i++)
		if (area[i] != pat(i))
			scen_fail("byte %zu is 0x%02x, expected 0x%02x", i, area[i], pat(i));
	CHECK(!bus_error((volatile uint8_t *)area + OBJ_PAGES * PS - 1));
	CHECK(bus_error((volatile uint8_t *)area + OBJ_PAGES * PS));
	CHECK(bus_error((volatile uint8_t *)area + AREA_PAGES * PS - 1));
	return fd;
}

int main(void)
{
	uint8_t *obj, *area, *view;
	int fd;

	scen_init();
	obj = mmap(NULL, OBJ_PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(obj != MAP_FAILED);
	for (size_t i = 0; i < OBJ_PAGES * PS; i++)
		obj[i] = pat(i);
	area = mremap(obj, OBJ_PAGES * PS, AREA_PAGES * PS, MREMAP_MAYMOVE);
	if (area == MAP_FAILED)
		scen_fail("mremap: %m");
	close(check_area(area));
	scen_ready();
	scen_wait();

	fd = check_area(area);
	view = mmap(NULL, OBJ_PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(view != MAP_FAILED);
	close(fd);
	view[PS + 3] = 0x99;
	CHECK_EQ(((volatile uint8_t *)area)[PS + 3], 0x99);
	scen_pass();
}
