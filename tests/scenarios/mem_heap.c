/*
 * mem_heap.c: the heap survives restart and keeps working. Many malloc'ed
 * blocks of various sizes (most on the brk heap, a few large enough for
 * mmap) hold patterns, a third of them freed. After restart the remaining
 * blocks are intact, /proc/self/maps still shows [heap] holding them, the
 * program break and the start_brk/start_data/end_data fields of
 * /proc/self/stat are what they were, malloc hands out new memory without
 * touching live blocks (enough of it to grow the heap), and the break can
 * be moved further by several MiB with sbrk, written, read, and moved
 * back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/scen.h"

#define NBLOCKS 3000
#define NBIG 4
#define NNEW 2000
#define GROW (8UL << 20)

static char text[1 << 16];

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

/* The [heap] area of /proc/self/maps (the one holding addr if several);
 * false when there is none. */
static bool heap_area(unsigned long addr, unsigned long *start, unsigned long *end)
{
	bool found = false;

	slurp("/proc/self/maps", text, sizeof(text));
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		unsigned long s, e;

		if (nl)
			*nl = '\0';
		if (strstr(line, " [heap]") && sscanf(line, "%lx-%lx", &s, &e) == 2 &&
		    (!found || (addr >= s && addr < e))) {
			*start = s;
			*end = e;
			found = true;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return found;
}

/* Fields 45-47 of /proc/self/stat: start_data, end_data, start_brk. */
static void stat_fields(unsigned long f[3])
{
	char *p;

	slurp("/proc/self/stat", text, sizeof(text));
	p = strrchr(text, ')');
	CHECK(p);
	p += 2; /* field 3 */
	for (int field = 3; field < 45; field++) {
		p = strchr(p, ' ');
		CHECK(p);
		p++;
	}
	CHECK_EQ(sscanf(p, "%lu %lu %lu", &f[0], &f[1], &f[2]), 3);
}

static uint8_t pat(size_t block, size_t i)
{
	return (uint8_t)(block * 13 + i * 7 + (i >> 8) + 3);
}

static size_t block_size(size_t b)
{
	if (b < NBIG)
		return (256UL << 10) + b * 4096 + 17; /* above the mmap threshold */
	return 1 + (b * 2654435761UL) % 6000 + (b % 50 == 0 ? 60000 : 0);
}

static uint8_t *blocks[NBLOCKS];
static uint8_t *fresh[NNEW];

static bool is_live(size_t b)
{
	return b % 3 != 1;
}

static void check_block(size_t b)
{
	for (size_t i = 0; i < block_size(b); i++)
		if (blocks[b][i] != pat(b, i))
			scen_fail(
				"block %zu (%zu bytes at %p): byte %zu is 0x%02x, expected 0x%02x",
				b, block_size(b), (void *)blocks[b], i, blocks[b][i], pat(b, i));
}

int main(void)
{
	unsigned long hs, he, stat_before[3], stat_after[3];
	void *brk_before, *brk_now;
	uint8_t *grown;
	size_t on_heap = 0;
	unsigned long probe = 0;

	scen_init();
	for (size_t b = 0; b < NBLOCKS; b++) {
		blocks[b] = malloc(block_size(b));
		CHECK(blocks[b]);
		for (size_t i = 0; i < block_size(b); i++)
			blocks[b][i] = pat(b, i);
	}
	for (size_t b = 0; b < NBLOCKS; b++)
		if (!is_live(b)) {
			free(blocks[b]);
			blocks[b] = NULL;
		}
	CHECK(heap_area(0, &hs, &he));
	for (size_t b = NBIG; b < NBLOCKS; b++)
		if (blocks[b] && (unsigned long)blocks[b] >= hs && (unsigned long)blocks[b] < he) {
			if (!on_heap++)
				probe = (unsigned long)blocks[b];
		}
	if (on_heap < NBLOCKS / 2)
		scen_fail("only %zu blocks are on [heap] %lx-%lx", on_heap, hs, he);
	brk_before = sbrk(0);
	stat_fields(stat_before);
	scen_ready();
	scen_wait();

	/* the blocks and the heap as they were */
	for (size_t b = 0; b < NBLOCKS; b++)
		if (is_live(b))
			check_block(b);
	brk_now = sbrk(0);
	CHECK(brk_now == brk_before);
	stat_fields(stat_after);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(stat_after[i], stat_before[i]);
	{
		unsigned long s, e;

		if (!heap_area(probe, &s, &e))
			scen_fail("no [heap] in /proc/self/maps after restart");
		CHECK_EQ(s, hs);
		CHECK_EQ(e, he);
	}

	/* malloc grows the heap and never hands out live memory */
	for (size_t n = 0; n < NNEW; n++) {
		size_t len = 4096 + n % 97;

		fresh[n] = malloc(len);
		CHECK(fresh[n]);
		memset(fresh[n], (int)(n & 0xff), len);
	}
	for (size_t n = 0; n < NNEW; n++)
		for (size_t i = 0; i < 4096 + n % 97; i += 512)
			CHECK_EQ(fresh[n][i], (uint8_t)(n & 0xff));
	for (size_t b = 0; b < NBLOCKS; b++)
		if (is_live(b))
			check_block(b);
	CHECK((char *)sbrk(0) > (char *)brk_before);

	/* the break moves further with sbrk: several MiB, written and read */
	brk_now = sbrk(0);
	grown = sbrk((intptr_t)GROW);
	if (grown == (void *)-1)
		scen_fail("sbrk(%lu): %m", GROW);
	CHECK(grown == brk_now);
	CHECK((uint8_t *)sbrk(0) == grown + GROW);
	for (size_t i = 0; i < GROW; i += 4096)
		grown[i] = (uint8_t)(i >> 12);
	grown[GROW - 1] = 0xa5;
	for (size_t i = 0; i < GROW; i += 4096)
		CHECK_EQ(grown[i], (uint8_t)(i >> 12));
	CHECK_EQ(grown[GROW - 1], 0xa5);
	{
		unsigned long s, e;

		if (!heap_area((unsigned long)(grown + GROW - 1), &s, &e))
			scen_fail("no [heap] after sbrk");
		CHECK((unsigned long)(grown + GROW - 1) >= s && (unsigned long)(grown + GROW) <= e);
	}
	CHECK(sbrk(-(intptr_t)GROW) != (void *)-1);
	CHECK(sbrk(0) == brk_now);

	for (size_t n = 0; n < NNEW; n++)
		free(fresh[n]);
	for (size_t b = 0; b < NBLOCKS; b++)
		if (is_live(b)) {
			check_block(b);
			free(blocks[b]);
		}
	scen_pass();
}
