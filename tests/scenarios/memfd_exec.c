/*
 * memfd_exec.c: programs kept in memfds can still be run with fexecve
 * (execveat AT_EMPTY_PATH) after restart. Each memfd gets a copy of
 * /bin/true:
 *
 *   own   the process keeps memfd_create's own (read-write) descriptor,
 *         which exec does not count as a writer, and a read-write shared
 *         mapping of its first page
 *   ro    the process keeps only a read-only descriptor (reopened through
 *         /proc/self/fd, memfd_create's closed) and a read-only shared
 *         mapping
 *
 * A child runs each before the checkpoint and again after restart, while
 * restart --wait still waits as the tree's parent: each must exit 0 both
 * times (not fail with ETXTBSY), and the mappings still read the ELF
 * header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static void run(int fd, const char *what, const char *when)
{
	int status;
	pid_t pid = fork();

	CHECK_SYS(pid);
	if (pid == 0) {
		char *const argv[] = { "memfd-true", NULL };
		char *const envp[] = { NULL };

		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		fprintf(stderr, "FAIL: %s %s: fexecve of the memfd: %m\n", what, when);
		_exit(99);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("%s %s: the memfd's program ended with status 0x%x", what, when, status);
}

static int make_true(void)
{
	char buf[65536];
	int src = open("/bin/true", O_RDONLY | O_CLOEXEC), mfd = memfd_create("prog", MFD_CLOEXEC);
	ssize_t n;

	CHECK_SYS(src);
	CHECK_SYS(mfd);
	while ((n = read(src, buf, sizeof(buf))) > 0)
		CHECK_EQ(write(mfd, buf, (size_t)n), n);
	CHECK_SYS(n);
	close(src);
	return mfd;
}

int main(void)
{
	char path[64], *own_map, *ro_map;
	int own, mfd, ro;

	scen_init();
	own = make_true();
	own_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, own, 0);
	CHECK(own_map != MAP_FAILED);
	mfd = make_true();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_SYS(ro);
	close(mfd);
	ro_map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(ro_map != MAP_FAILED);
	CHECK(!memcmp(own_map, "\177ELF", 4) && !memcmp(ro_map, "\177ELF", 4));
	run(own, "own", "before the checkpoint");
	run(ro, "ro", "before the checkpoint");
	scen_ready();
	scen_wait();
	CHECK(!memcmp(own_map, "\177ELF", 4) && !memcmp(ro_map, "\177ELF", 4));
	run(own, "own", "after restart");
	run(ro, "ro", "after restart");
	scen_pass();
}
