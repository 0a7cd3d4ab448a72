/*
 * memhog.c: a process with SIZE_MIB of touched private anonymous memory
 * (every page written with data, so none is the zero page), which then
 * waits. Creates the file "ready" in its directory when it is.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t len = (size_t)atol(argc > 1 ? argv[1] : "64") << 20;
	uint64_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < len / 8; i++)
		m[i] = i * 0x9E3779B97F4A7C15ULL;
	close(open("ready", O_WRONLY | O_CREAT, 0644));
	for (;;)
		pause();
}
