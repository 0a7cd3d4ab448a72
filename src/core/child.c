/*
 * child.c: what a new process does before it becomes the saved one.
 *
 *  1. Report failures to ckpt through its report pipe (log_capture_fd);
 *     die with ckpt (PR_SET_PDEATHSIG); all signals stay blocked.
 *  2. Install its descriptors: copies of what ckpt opened (or ckpt's own
 *     descriptors, for external ones) at the saved numbers, plus temporary
 *     ones above them for the blob; everything else is closed.
 *  3. Run every resource's child hook (directory, signal actions, ...).
 *  4. Map the restorer blob at its planned address, report ready, wait for
 *     ckpt (which seizes it meanwhile) to say go, and jump into the blob.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "core/child.h"
#include "util/log.h"

static int max_open_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int max = -1, self;

	if (!d)
		return -errno;
	self = dirfd(d);
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != self && fd > max)
			max = fd;
	}
	closedir(d);
	return max;
}

static int move_high(int *fd, int hi)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, hi);

	if (n < 0)
		return -errno;
	*fd = n;
	return 0;
}

static int install_fds(struct ck_rst *r)
{
	int hi = max_open_fd(), *copies, err = 0;

	if (hi < 0)
		return hi;
	for (size_t i = 0; i < r->ninstalls; i++)
		if (r->installs[i].fd > hi)
			hi = r->installs[i].fd;
	hi++;
	copies = calloc(r->ninstalls ? r->ninstalls : 1, sizeof(*copies));
	if (!copies)
		return -ENOMEM;
	for (size_t i = 0; i < r->ninstalls && !err; i++) {
		copies[i] = r->installs[i].src;
		err = move_high(&copies[i], hi);
	}
	if (!err)
		err = move_high(&r->go[0], hi);
	if (!err)
		err = move_high(&r->child_err[1], hi);
	if (err) {
		log_err("cannot copy a descriptor: %s", strerror(-err));
		free(copies);
		return err;
	}
	log_capture_fd(r->child_err[1]);
	close_range(0, (unsigned int)hi - 1, 0);
	for (size_t i = 0; i < r->ninstalls && !err; i++) {
		const struct fd_install *in = &r->installs[i];

		if (dup3(copies[i], in->fd, in->cloexec ? O_CLOEXEC : 0) < 0) {
			err = -errno;
			log_err("cannot install fd %d: %s", in->fd, strerror(errno));
		}
	}
	for (size_t i = 0; i < r->ninstalls; i++)
		close(copies[i]);
	free(copies);
	return err;
}

void child_main(struct rst_ctx *ctx, struct ck_proc *p, pid_t ckpt_pid)
{
	struct ck_rst *r = p->rst;
	struct blob_plan *bp = &r->plan;
	void *area;
	char go;
	int err = 0;

	close(r->child_err[0]);
	close(r->go[1]);
	log_capture_fd(r->child_err[1]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != ckpt_pid)
		_exit(1);
	err = install_fds(r);
	for (size_t k = 0; res_table[k] && !err; k++)
		if (res_table[k]->child)
			err = res_table[k]->child(ctx, p);
	if (err)
		_exit(1);
	area = mmap((void *)bp->base, bp->size, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (area == MAP_FAILED) {
		log_err("pid %d: cannot map the restorer at 0x%llx: %s", p->rec.pid,
			(unsigned long long)bp->base, strerror(errno));
		_exit(1);
	}
	memcpy(area, bp->image, bp->size);
	if (write(r->child_err[1], CHILD_READY "\n", 2) != 2 || read(r->go[0], &go, 1) != 1)
		_exit(1);
	close(r->go[0]);
	close(r->child_err[1]);
	arch_jump(plan_entry(bp), plan_stack_addr(bp, 0), plan_list_addr(bp, 0));
}
