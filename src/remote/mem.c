/*
 * mem.c: memory of another process, and finding a syscall instruction in it.
 *
 * process_vm_readv/writev copy straight between the two address spaces but
 * honour page protections; /proc/PID/mem (FOLL_FORCE) is the fallback for
 * pages the owner itself cannot access. Page data for an image is read
 * with remote_pages_read, which never unshares a copy-on-write page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include "proc/proc.h"
#include "remote/remote.h"

static int proc_mem_rw(pid_t pid, unsigned long addr, void *buf, size_t len, bool write)
{
	char path[64];
	int fd;
	size_t done = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write ? pwrite(fd, (char *)buf + done, len - done, addr + done)
				  : pread(fd, (char *)buf + done, len - done, addr + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			close(fd);
			return err;
		}
		done += n;
	}
	close(fd);
	return 0;
}

static int vm_rw(pid_t pid, unsigned long addr, void *buf, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		struct iovec local = { .iov_base = (char *)buf + done, .iov_len = len - done };
		struct iovec remote = { .iov_base = (void *)(addr + done), .iov_len = len - done };
		ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
				  : process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EFAULT)
				return -errno;
			return proc_mem_rw(pid, addr + done, (char *)buf + done, len - done, write);
		}
		done += n;
	}
	return 0;
}

int remote_read(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	return vm_rw(pid, addr, buf, len, false);
}

int remote_write(pid_t pid, unsigned long addr, const void *buf, size_t len)
{
	return vm_rw(pid, addr, (void *)buf, len, true);
}

#define PM_EXCLUSIVE (1ULL << 56)
#define PM_PRESENT (1ULL << 63)

int remote_pages_open(struct remote_pages *rp, pid_t pid)
{
	char path[64];

	*rp = (struct remote_pages){ .pid = pid, .pagemap = -1, .mem = -1 };
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	rp->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	rp->mem = open(path, O_RDONLY | O_CLOEXEC);
	if (rp->pagemap < 0 || rp->mem < 0) {
		int err = -errno;

		remote_pages_close(rp);
		return err;
	}
	return 0;
}

void remote_pages_close(struct remote_pages *rp)
{
	if (rp->pagemap >= 0)
		close(rp->pagemap);
	if (rp->mem >= 0)
		close(rp->mem);
	free(rp->entries);
	*rp = (struct remote_pages){ .pagemap = -1, .mem = -1 };
}

static int mem_read(int fd, unsigned long addr, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int remote_pages_read(struct remote_pages *rp, unsigned long addr, void *buf, size_t len)
{
	unsigned long ps = (unsigned long)sysconf(_SC_PAGESIZE);
	size_t n = len / ps, bytes = n * sizeof(*rp->entries);
	ssize_t got;

	if (n > rp->cap) {
		uint64_t *e = realloc(rp->entries, bytes);

		if (!e)
			return -ENOMEM;
		rp->entries = e;
		rp->cap = n;
	}
	got = pread(rp->pagemap, rp->entries, bytes, (off_t)(addr / ps * sizeof(*rp->entries)));
	if (got != (ssize_t)bytes)
		return got < 0 ? -errno : -EIO;
	for (size_t i = 0; i < n;) {
		bool alone = (rp->entries[i] & (PM_PRESENT | PM_EXCLUSIVE)) ==
			     (PM_PRESENT | PM_EXCLUSIVE);
		size_t j = i + 1;
		int err;

		while (j < n && ((rp->entries[j] & (PM_PRESENT | PM_EXCLUSIVE)) ==
				 (PM_PRESENT | PM_EXCLUSIVE)) == alone)
			j++;
		if (alone)
			err = vm_rw(rp->pid, addr + i * ps, (char *)buf + i * ps, (j - i) * ps,
				    false);
		else
			err = mem_read(rp->mem, addr + i * ps, (char *)buf + i * ps, (j - i) * ps);
		if (err)
			return err;
		i = j;
	}
	return 0;
}

static int scan_area(pid_t pid, const struct proc_vma *v, unsigned long *ret_ip)
{
	size_t len = v->end - v->start;
	unsigned char *buf;
	int err;

	if (len > (64U << 20))
		len = 64U << 20;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	err = remote_read(pid, v->start, buf, len);
	if (!err) {
		err = -ENOENT;
		for (size_t i = 0; i + 1 < len; i++) {
			if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
				*ret_ip = v->start + i;
				err = 0;
				break;
			}
		}
	}
	free(buf);
	return err;
}

int remote_find_syscall_ip(pid_t pid, const struct proc_maps *maps, unsigned long *ret_ip)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < maps->count; i++) {
			const struct proc_vma *v = &maps->vmas[i];
			bool vdso = v->name && !strcmp(v->name, "[vdso]");

			if (!(v->prot & PROT_EXEC) || !(v->prot & PROT_READ))
				continue;
			if ((pass == 0) != vdso)
				continue;
			if (!scan_area(pid, v, ret_ip))
				return 0;
		}
	}
	return -ENOENT;
}
