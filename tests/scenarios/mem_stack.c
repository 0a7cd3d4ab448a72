/*
 * mem_stack.c: the main stack survives restart and can still grow. The
 * program recurses 400 frames deep, each frame holding a pattern of its
 * own, and is checkpointed at the deepest point; after restart each frame
 * checks its data on the way back up. The [stack] area of /proc/self/maps
 * has the same bounds and VmFlags (gd) as before. Then the stack grows
 * further: 4 MiB of new frames (within the 8 MiB limit), each written and
 * checked, and [stack] now reaches down past the deepest of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "lib/scen.h"

#define DEPTH 400
#define FRAME 200
#define DEEP_FRAMES 1024
#define DEEP_FRAME 4096 /* 1024 frames of 4 KiB and more: 4 MiB */
#define PRETOUCH (64 << 10)

struct area {
	unsigned long start, end;
	char flags[256];
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

/* The [stack] area from /proc/self/smaps, with its VmFlags. */
static struct area stack_area(void)
{
	struct area a = {0};
	bool in = false;

	slurp("/proc/self/smaps", text, sizeof(text));
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (!in && strstr(line, " [stack]") &&
		    sscanf(line, "%lx-%lx", &a.start, &a.end) == 2)
			in = true;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(a.flags, sizeof(a.flags), "%s", line + 8);
			return a;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	scen_fail("no [stack] in /proc/self/smaps");
}

static uint8_t pat(unsigned int depth, size_t i)
{
	return (uint8_t)(depth * 37 + i * 11 + 5);
}

static struct area before;
static unsigned long deepest_sp;

/* Touches the stack below the caller so that signal frames delivered at
 * the deepest point need no growth the checkpoint did not see. */
static __attribute__((noinline)) void pretouch(void)
{
	volatile char buf[PRETOUCH];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static __attribute__((noinline)) void at_bottom(void)
{
	struct area now;

	pretouch();
	before = stack_area();
	scen_ready();
	scen_wait();
	now = stack_area();
	if (now.start != before.start || now.end != before.end)
		scen_fail("[stack] was %lx-%lx, is %lx-%lx", before.start, before.end, now.start,
			  now.end);
	if (strcmp(now.flags, before.flags))
		scen_fail("[stack] VmFlags were '%s', are '%s'", before.flags, now.flags);
	if (!strstr(now.flags, " gd"))
		scen_fail("[stack] does not grow down: '%s'", now.flags);
}

static __attribute__((noinline)) unsigned long recurse(unsigned int depth)
{
	uint8_t buf[FRAME];
	unsigned long sum;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = pat(depth, i);
	__asm__ volatile("" : : "r"(buf) : "memory");
	if (depth + 1 < DEPTH)
		sum = recurse(depth + 1);
	else {
		at_bottom();
		sum = 0;
	}
	__asm__ volatile("" : : "r"(buf) : "memory");
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != pat(depth, i))
			scen_fail("frame %u (at %p): byte %zu is 0x%02x, expected 0x%02x", depth,
				  (void *)buf, i, buf[i], pat(depth, i));
	return sum + depth;
}

static __attribute__((noinline)) unsigned long grow(unsigned int depth)
{
	uint8_t buf[DEEP_FRAME];
	unsigned long sum = 0;

	for (size_t i = 0; i < sizeof(buf); i += 64)
		buf[i] = pat(depth + 1000, i);
	__asm__ volatile("" : : "r"(buf) : "memory");
	if (depth + 1 < DEEP_FRAMES) {
		sum = grow(depth + 1);
	} else {
		struct area now = stack_area();

		deepest_sp = (unsigned long)buf;
		if (now.start > deepest_sp || now.end != before.end)
			scen_fail("[stack] %lx-%lx does not hold the deepest frame at %lx",
				  now.start, now.end, deepest_sp);
	}
	__asm__ volatile("" : : "r"(buf) : "memory");
	for (size_t i = 0; i < sizeof(buf); i += 64)
		if (buf[i] != pat(depth + 1000, i))
			scen_fail("deep frame %u: byte %zu is 0x%02x", depth, i, buf[i]);
	return sum + buf[0];
}

int main(void)
{
	struct rlimit rl;

	scen_init();
	CHECK_SYS(getrlimit(RLIMIT_STACK, &rl));
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (6UL << 20))
		scen_fail("the stack limit is %lu bytes: too small for this test",
			  (unsigned long)rl.rlim_cur);
	CHECK_EQ(recurse(0), (unsigned long)DEPTH * (DEPTH - 1) / 2);
	grow(0);
	CHECK(before.end - deepest_sp >= (unsigned long)DEEP_FRAMES * DEEP_FRAME);
	scen_pass();
}
