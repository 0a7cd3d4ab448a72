/*
 * fd_procfs.c: /proc files kept open survive checkpoint and restart, and
 * name the restored processes.
 *   fd 3   /proc/self/stat, close-on-exec (the lowest free number: the
 *          process opens it right there)
 *   fd 10  /proc/self/status, read 50 bytes into it
 *   fd 11  /proc/CHILD/stat of a child that sleeps
 *   fd 12  the /proc/self directory, close-on-exec
 *   fd 13  the /proc/self link itself (O_PATH | O_NOFOLLOW)
 *   fd 14  /proc/thread-self/comm of the main thread, named by the test
 *   fd 15  /proc/self/task/TID/comm of another thread, named too
 *   fd 16  /proc/TID/status of that thread
 * After restart: status read again from the start says the process's own
 * pid, and the offset is still 50; the child's stat is its own; the
 * directory is the process's; the link reads the process's pid; comm is
 * the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/scen.h"

static volatile pid_t tid;

static void *thread_main(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "procfs-thr");
	tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static void place(int fd, int target, bool cloexec)
{
	CHECK_SYS(fd);
	CHECK_SYS(dup3(fd, target, cloexec ? O_CLOEXEC : 0));
	close(fd);
}

static long field(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	CHECK(p);
	return strtol(p + strlen(name), NULL, 10);
}

static void read_all(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	CHECK(n > 0);
	buf[n] = 0;
}

int main(void)
{
	char buf[4096], path[64], expect[64];
	pid_t self = getpid(), kid;
	struct stat st, st2;
	pthread_t th;
	int at;

	scen_init();
	kid = fork();
	CHECK_SYS(kid);
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with a failed test */
		for (;;)
			pause();
	}
	CHECK_SYS(prctl(PR_SET_NAME, "procfs-main"));
	CHECK_EQ(open("/proc/self/stat", O_RDONLY | O_CLOEXEC), 3);
	place(open("/proc/self/status", O_RDONLY), 10, false);
	CHECK_EQ(read(10, buf, 50), 50);
	snprintf(path, sizeof(path), "/proc/%d/stat", kid);
	place(open(path, O_RDONLY), 11, false);
	place(open("/proc/self", O_RDONLY | O_DIRECTORY), 12, true);
	place(open("/proc/self", O_PATH | O_NOFOLLOW), 13, false);
	place(open("/proc/thread-self/comm", O_RDONLY), 14, false);
	CHECK(!pthread_create(&th, NULL, thread_main, NULL));
	while (!tid)
		usleep(1000);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	place(open(path, O_RDONLY), 15, false);
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	place(open(path, O_RDONLY), 16, false);

	scen_ready();
	scen_wait();

	CHECK_EQ(getpid(), self);
	CHECK_EQ(fcntl(3, F_GETFD), FD_CLOEXEC);
	read_all(3, buf, sizeof(buf));
	snprintf(expect, sizeof(expect), "%d (procfs-main) ", self);
	CHECK(!strncmp(buf, expect, strlen(expect)));
	CHECK_EQ(lseek(10, 0, SEEK_CUR), 50);
	read_all(10, buf, sizeof(buf));
	CHECK_EQ(field(buf, "\nPid:\t"), self);
	CHECK(strstr(buf, "Name:\tprocfs-main\n") == buf);
	CHECK_EQ(fcntl(10, F_GETFD), 0);

	read_all(11, buf, sizeof(buf));
	snprintf(expect, sizeof(expect), "%d (fd_procfs) S ", kid);
	CHECK(!strncmp(buf, expect, strlen(expect)));

	CHECK_EQ(fcntl(12, F_GETFD), FD_CLOEXEC);
	CHECK_SYS(fstat(12, &st));
	CHECK(S_ISDIR(st.st_mode));
	at = openat(12, "status", O_RDONLY | O_CLOEXEC);
	CHECK_SYS(at);
	read_all(at, buf, sizeof(buf));
	CHECK_EQ(field(buf, "\nPid:\t"), self);
	close(at);
	snprintf(path, sizeof(path), "/proc/%d", self);
	CHECK_SYS(stat(path, &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);

	CHECK_EQ(fcntl(13, F_GETFL) & O_PATH, O_PATH);
	CHECK_SYS(fstatat(13, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st.st_mode));
	memset(buf, 0, sizeof(buf));
	CHECK(readlinkat(13, "", buf, sizeof(buf) - 1) > 0);
	CHECK_EQ(strtol(buf, NULL, 10), self);

	read_all(14, buf, sizeof(buf));
	CHECK(!strcmp(buf, "procfs-main\n"));
	read_all(15, buf, sizeof(buf));
	CHECK(!strcmp(buf, "procfs-thr\n"));
	read_all(16, buf, sizeof(buf));
	CHECK(strstr(buf, "Name:\tprocfs-thr\n") == buf);
	CHECK_EQ(field(buf, "\nPid:\t"), tid);
	CHECK_EQ(field(buf, "\nTgid:\t"), self);

	CHECK_SYS(kill(kid, SIGKILL));
	scen_pass();
}
