/*
 * basic.c: a process counting in a loop, sleeping between steps. After
 * restart it has its own PID, its counter goes on from where it was, and
 * its memory, stack and heap still hold what they held.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/scen.h"

int main(void)
{
	pid_t pid = getpid();
	char stack_buf[4096];
	char *heap = malloc(1 << 20);
	unsigned long n = 0, last;

	scen_init();
	CHECK(heap);
	memset(stack_buf, 0x5a, sizeof(stack_buf));
	for (size_t i = 0; i < (1 << 20); i++)
		heap[i] = (char)(i * 7);
	scen_ready();
	while (!scen_told()) {
		n++;
		usleep(1000);
	}
	last = n;
	CHECK_EQ(getpid(), pid);
	for (size_t i = 0; i < sizeof(stack_buf); i++)
		CHECK_EQ(stack_buf[i], 0x5a);
	for (size_t i = 0; i < (1 << 20); i++)
		CHECK_EQ(heap[i], (char)(i * 7));
	for (int i = 0; i < 10; i++)
		n++;
	CHECK_EQ(n, last + 10);
	scen_pass();
}
