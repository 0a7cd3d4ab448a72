/*
 * child.c: what the root of the new tree does before it becomes the saved
 * one: it dies with ckpt (PR_SET_PDEATHSIG), keeps every signal blocked,
 * maps the restorer area at its planned address, reports ready, waits for
 * ckpt (which seizes it meanwhile) to say go, and jumps into its list. The
 * list then swaps ckpt's descriptors and memory for the saved ones.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "core/child.h"

void child_main(const struct blob_plan *bp, size_t list, int report_fd, int go_fd, pid_t ckpt_pid)
{
	void *area;
	char go;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != ckpt_pid)
		_exit(1);
	area = mmap((void *)bp->base, bp->size, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (area == MAP_FAILED)
		_exit(2);
	memcpy(area, bp->image, bp->size);
	if (write(report_fd, CHILD_READY "\n", 2) != 2 || read(go_fd, &go, 1) != 1)
		_exit(1);
	close(go_fd);
	close(report_fd);
	arch_jump(plan_entry(bp), plan_stack_addr(bp, list), plan_list_addr(bp, list));
}
