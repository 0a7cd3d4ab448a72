/*
 * sysvipc.c: helpers of the System V semaphore sets and message queues.
 * Such an object is reached by no descriptor or area: the tree's are the
 * ones a live process of the tree operated on last, and the first of those
 * processes, in tree order, holds its record. At restart it is created
 * under its old id by writing the id to /proc/sys/kernel/{sem,msg}_next_id
 * just before semget/msgget.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ipc.h>
#include "res/sysvipc.h"
#include "util/log.h"

bool sysvipc_is_live(const struct ck_image *img, pid_t pid)
{
	const struct ck_proc *p = pid > 0 ? model_find_proc(img, pid) : NULL;

	return p && !(p->rec.flags & (CKPT_PROC_ZOMBIE | CK_PROC_HELPER));
}

pid_t sysvipc_holder(const struct ck_image *img, const pid_t *pids, size_t n)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		const struct ck_proc *p = &img->procs[i];

		if (p->rec.flags & (CKPT_PROC_ZOMBIE | CK_PROC_HELPER))
			continue;
		for (size_t k = 0; k < n; k++)
			if (pids[k] == p->rec.pid)
				return p->rec.pid;
	}
	return 0;
}

int sysvipc_check_free(pid_t pid, const char *what, int id, int32_t key, int in_use_id,
		       int32_t in_use_key)
{
	if (in_use_id == id)
		log_err("pid %d: System V %s id %d is in use", pid, what, id);
	else if (key != IPC_PRIVATE && in_use_key == key)
		log_err("pid %d: System V %s key 0x%08x is in use", pid, what, (unsigned int)key);
	else
		return 0;
	return -EEXIST;
}

int sysvipc_next_id(const char *kind, int id)
{
	char path[64], buf[16];
	int fd, len, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s_next_id", kind);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", id);
	if (write(fd, buf, (size_t)len) != len)
		err = -errno;
	close(fd);
	return err;
}
