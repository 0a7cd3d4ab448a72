/*
 * pidns.c: a copy restarted with --pidns runs beside the original (and
 * beside other copies) with the original's PIDs:
 *
 *   root        leads a session of its own (so its group and session are
 *   |           in the tree)
 *   +- child    leads a process group of its own
 *      +- grandchild   in its parent's group
 *
 * On SIGTERM every process checks, from inside, that getpid(), getppid(),
 * getpgid() and getsid() are what they were before the checkpoint, and
 * that /proc shows it under that PID. A process that finds itself in
 * another PID namespace than the original's is a copy: there the root's
 * parent must be the namespace's init, PID 1, which must be ckpt's. The
 * root then appends "copy|original NAMESPACE PID" to the file "roles", so
 * the runner can tell that copies ran in namespaces of their own.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

struct ids {
	pid_t pid, ppid, pgid, sid;
};

static struct ids mine;
static uint64_t original_ns;
static pid_t kid;

static struct ids current(void)
{
	return (struct ids){ getpid(), getppid(), getpgid(0), getsid(0) };
}

/* The PID the process's /proc/self names: the namespace's, with a /proc
 * of the namespace. */
static pid_t proc_self_pid(void)
{
	char buf[64] = "";
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		scen_fail("cannot read /proc/self/stat: %m");
	close(fd);
	return (pid_t)atoi(buf);
}

static void check_init(void)
{
	char comm[32] = "";
	int fd = open("/proc/1/comm", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, comm, sizeof(comm) - 1) <= 0)
		scen_fail("root: cannot read /proc/1/comm: %m");
	close(fd);
	if (strcmp(comm, "ckpt\n"))
		scen_fail("root: pid 1 of its namespace is '%.*s', not ckpt",
			  (int)strcspn(comm, "\n"), comm);
}

static void check(const char *who, bool root)
{
	struct ids now = current();
	bool copy = scen_pidns() != original_ns;

	if (root) {
		if (copy && now.ppid != 1)
			scen_fail("root: parent %d in a new pid namespace, not its init", now.ppid);
		if (copy)
			check_init();
		now.ppid = mine.ppid; /* whoever restarted it */
	}
	if (memcmp(&now, &mine, sizeof(now)))
		scen_fail("%s%s: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", who,
			  copy ? " (copy)" : "", now.pid, now.ppid, now.pgid, now.sid, mine.pid,
			  mine.ppid, mine.pgid, mine.sid);
	CHECK_EQ(proc_self_pid(), now.pid);
}

/* Tells its child to check itself and waits for the verdict. */
static void check_kid(const char *who)
{
	int status;

	CHECK_SYS(kill(kid, SIGTERM));
	if (waitpid(kid, &status, 0) != kid)
		scen_fail("%s: waitpid(%d): %m", who, kid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("%s: child %d ended with status 0x%x", who, kid, status);
}

static void report_role(void)
{
	uint64_t ns = scen_pidns();
	FILE *f = fopen("roles", "a");

	if (!f)
		scen_fail("cannot open 'roles': %m");
	fprintf(f, "%s %" PRIu64 " %d\n", ns == original_ns ? "original" : "copy", ns, getpid());
	if (fclose(f))
		scen_fail("cannot write 'roles': %m");
}

static __attribute__((noreturn)) void descend(const char *who, bool has_kid)
{
	mine = current();
	kid = 0;
	if (has_kid) {
		kid = fork();
		CHECK_SYS(kid);
		if (kid == 0) {
			CHECK_SYS(setpgid(0, getppid()));
			descend("grandchild", false);
		}
	}
	scen_wait();
	check(who, false);
	if (kid)
		check_kid(who);
	exit(0);
}

int main(void)
{
	scen_init();
	CHECK_SYS(setsid());
	original_ns = scen_pidns();
	mine = current();
	kid = fork();
	CHECK_SYS(kid);
	if (kid == 0) {
		CHECK_SYS(setpgid(0, 0));
		descend("child", true);
	}
	usleep(100000); /* the descendants have their ids */
	scen_ready();
	scen_wait();
	check("root", true);
	check_kid("root");
	report_role();
	scen_pass();
}
