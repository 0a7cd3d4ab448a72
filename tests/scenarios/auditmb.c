/*
 * auditmb.c: the audit login uid (/proc/self/loginuid) and the membarrier
 * registrations of a process come back:
 *
 *   root     login uid 4242, a thread (which has it too); registered for
 *            every membarrier command this kernel has (private expedited,
 *            its sync-core and rseq flavours, global expedited)
 *   +- kid   login uid 4343, set after the fork; private expedited only
 *   +- unset login uid unset again (4294967295); no registration
 *
 * After restart each has its login uid and the registrations
 * MEMBARRIER_CMD_GET_REGISTRATIONS tells, and the expedited barriers work.
 * The audit session id is not restored (the kernel gives a new one with
 * each login uid set): it is not checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include "lib/scen.h"

#define GET_REGISTRATIONS (1 << 9)

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static unsigned long read_uid(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		scen_fail("open %s: %m", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		scen_fail("read %s: %m", path);
	close(fd);
	return strtoul(buf, NULL, 10);
}

static void set_loginuid(const char *value)
{
	int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		scen_fail("open loginuid: %m");
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		scen_fail("write loginuid %s: %m", value);
	close(fd);
}

static long registered_before;

static void check_state(const char *who, unsigned long loginuid, long registered)
{
	unsigned long now = read_uid("/proc/self/loginuid");
	long reg = membarrier(GET_REGISTRATIONS);

	if (now != loginuid)
		scen_fail("%s: login uid is %lu, was %lu", who, now, loginuid);
	if (reg != registered)
		scen_fail("%s: membarrier registrations are 0x%lx, were 0x%lx", who, reg,
			  registered);
	if (registered & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
		CHECK_SYS(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED));
	else
		CHECK(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0 && errno == EPERM);
	if (registered & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE)
		CHECK_SYS(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE));
}

static volatile int thread_loginuid_ok = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int phase;

static void *thread_main(void *arg)
{
	unsigned long want = (unsigned long)arg;

	pthread_mutex_lock(&lock);
	while (phase == 0)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	thread_loginuid_ok = read_uid("/proc/thread-self/loginuid") == want;
	return NULL;
}

static pid_t kid(const char *loginuid, int reg_cmd, const int ready[2])
{
	int ready_fd = ready[1];
	pid_t pid = fork();

	CHECK_SYS(pid);
	if (pid)
		return pid;
	close(ready[0]);
	set_loginuid(loginuid);
	if (reg_cmd)
		CHECK_SYS(membarrier(reg_cmd));
	registered_before = membarrier(GET_REGISTRATIONS);
	CHECK(registered_before >= 0);
	CHECK_EQ(write(ready_fd, "r", 1), 1);
	close(ready_fd);
	scen_wait();
	check_state(loginuid, strtoul(loginuid, NULL, 10), registered_before);
	exit(0);
}

int main(void)
{
	static const int regs[] = { MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
				    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
				    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
				    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED };
	long supported = membarrier(MEMBARRIER_CMD_QUERY);
	pid_t kids[2];
	pthread_t th;
	int ready[2], status;
	char c;

	scen_init();
	CHECK(supported >= 0);
	if (membarrier(GET_REGISTRATIONS) < 0)
		scen_fail("no MEMBARRIER_CMD_GET_REGISTRATIONS on this kernel: %m");
	set_loginuid("4242");
	CHECK_EQ(read_uid("/proc/self/loginuid"), 4242);
	CHECK_SYS(pipe(ready));
	kids[0] = kid("4343", MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, ready);
	kids[1] = kid("4294967295", 0, ready);
	close(ready[1]);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (supported & regs[i])
			CHECK_SYS(membarrier(regs[i]));
	registered_before = membarrier(GET_REGISTRATIONS);
	CHECK(registered_before & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
	CHECK_EQ(pthread_create(&th, NULL, thread_main, (void *)4242UL), 0);
	scen_ready();
	scen_wait();

	check_state("root", 4242, registered_before);
	pthread_mutex_lock(&lock);
	phase = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(thread_loginuid_ok, 1);
	for (int i = 0; i < 2; i++) {
		CHECK_SYS(kill(kids[i], SIGTERM));
		CHECK_EQ(waitpid(kids[i], &status, 0), kids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			scen_fail("child %d failed (status 0x%x)", i, status);
	}
	scen_pass();
}
