/*
 * cowserver.c: a forking server whose children share its memory copy on
 * write, as a preforked server shares a large warmed-up heap:
 *
 *   cowserver [HEAP_MIB [CHILDREN [PERMILLE]]]     (256, 8, 10)
 *
 * The parent fills HEAP_MIB of malloc'ed heap (64 KiB objects, from brk)
 * with data, then forks CHILDREN children. Child c writes PERMILLE/1000 of
 * the heap's pages (every page whose index is c modulo 1000/PERMILLE, so
 * the children write different pages) and reads the rest. Then every
 * process blocks (the parent in wait4, the children in pause), and the
 * parent creates the file "ready" in its directory. Used by bench/cow.sh.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define OBJ_SIZE (64U << 10)
#define PAGE 4096U

static volatile uint64_t sink;

/* Child c: writes its share of the pages, reads one word of each other. */
static void child(uint64_t **obj, size_t nobj, int c, int stride)
{
	uint64_t sum = 0;
	size_t page = 0;

	for (size_t i = 0; i < nobj; i++) {
		for (size_t off = 0; off < OBJ_SIZE / 8; off += PAGE / 8, page++) {
			if ((int)(page % (size_t)stride) == c % stride)
				obj[i][off] ^= (uint64_t)c + 1;
			else
				sum += obj[i][off];
		}
	}
	sink = sum;
}

int main(int argc, char **argv)
{
	size_t nobj = ((size_t)atol(argc > 1 ? argv[1] : "256") << 20) / OBJ_SIZE;
	int children = atoi(argc > 2 ? argv[2] : "8");
	int permille = atoi(argc > 3 ? argv[3] : "10");
	int stride, p[2];
	char ch;
	uint64_t **obj;

	if (!nobj || children < 0 || permille < 1 || permille > 1000 || pipe(p))
		return 2;
	stride = 1000 / permille;
	obj = calloc(nobj, sizeof(*obj));
	if (!obj)
		return 1;
	for (size_t i = 0; i < nobj; i++) {
		obj[i] = malloc(OBJ_SIZE);
		if (!obj[i])
			return 1;
		for (size_t j = 0; j < OBJ_SIZE / 8; j++)
			obj[i][j] = (i * OBJ_SIZE / 8 + j) * 0x9E3779B97F4A7C15ULL;
	}
	for (int c = 0; c < children; c++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid > 0)
			continue;
		close(p[0]);
		child(obj, nobj, c, stride);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	/* end of file: every child has written its pages */
	while (read(p[0], &ch, 1) > 0)
		;
	close(p[0]);
	close(open("ready", O_WRONLY | O_CREAT, 0644));
	while (wait4(-1, NULL, 0, NULL) > 0)
		;
	for (;;)
		pause();
}
