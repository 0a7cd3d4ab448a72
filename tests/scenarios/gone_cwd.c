/*
 * gone_cwd.c: a working directory that was removed (with its parent) comes
 * back removed:
 *
 *   root    in gone/sub (mode 0751, group 12), both removed since
 *   +- kid  in the same removed directory
 *
 * After restart /proc/self/cwd reads as before ("/.../gone/sub
 * (deleted)"), "." is an empty directory with no links and the saved
 * permissions and owner, getcwd() fails with ENOENT, nothing can be made
 * in it, root and kid are in one directory again, and restart left no
 * "gone" behind.
 *
 * With the argument "taken", a new gone/sub is made once the first is
 * removed: restart cannot use the name and makes the directory beside
 * it, so /proc/self/cwd reads "/.../gone/sub.ckpt-XXXXXX (deleted)" (or
 * as before, in the original), and gone holds only the new sub after
 * restart.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static char top[PATH_MAX / 2], link_before[PATH_MAX];
static bool taken;

/* "/.../gone/sub.ckpt-XXXXXX (deleted)" */
static bool beside(const char *link)
{
	char want[PATH_MAX];
	size_t n = (size_t)snprintf(want, sizeof(want), "%s/gone/sub.ckpt-", top);

	return !strncmp(link, want, n) && strlen(link) == n + 6 + strlen(" (deleted)") &&
	       !strcmp(link + n + 6, " (deleted)");
}

/* Only the new sub is left in gone. */
static void only_new_sub(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/gone", top);
	d = opendir(path);
	if (!d)
		scen_fail("opendir %s: %m", path);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "sub"))
			scen_fail("restart left %s/%s", path, e->d_name);
	closedir(d);
}

static void read_cwd_link(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/cwd", buf, len - 1);

	CHECK_SYS(n);
	buf[n] = '\0';
}

static void check_gone(const char *who)
{
	char now[PATH_MAX], buf[64];
	struct stat st;

	read_cwd_link(now, sizeof(now));
	if (strcmp(now, link_before) && !(taken && beside(now)))
		scen_fail("%s: cwd reads '%s', was '%s'", who, now, link_before);
	CHECK_SYS(stat(".", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_mode & 07777, 0751);
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(st.st_gid, 12);
	CHECK(!getcwd(buf, sizeof(buf)) && errno == ENOENT);
	CHECK(open("new", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == ENOENT);
	CHECK(mkdir("newdir", 0700) < 0 && errno == ENOENT);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX + 16];
	struct stat mine, theirs;
	int ready[2], status, here;
	pid_t kid;
	char c;

	scen_init();
	taken = argc > 1 && !strcmp(argv[1], "taken");
	CHECK(getcwd(top, sizeof(top)));
	CHECK_SYS(mkdir("gone", 0700));
	CHECK_SYS(mkdir("gone/sub", 0700));
	CHECK_SYS(chown("gone/sub", 0, 12));
	CHECK_SYS(chmod("gone/sub", 0751));
	CHECK_SYS(chdir("gone/sub"));
	snprintf(path, sizeof(path), "%s/gone/sub", top);
	CHECK_SYS(rmdir(path));
	snprintf(path, sizeof(path), "%s/gone", top);
	CHECK_SYS(rmdir(path));
	if (taken) {
		CHECK_SYS(mkdir(path, 0700));
		snprintf(path, sizeof(path), "%s/gone/sub", top);
		CHECK_SYS(mkdir(path, 0700));
	}
	read_cwd_link(link_before, sizeof(link_before));
	snprintf(path, sizeof(path), "%s/gone/sub (deleted)", top);
	CHECK(!strcmp(link_before, path));
	check_gone("original");
	CHECK_SYS(pipe(ready));
	kid = fork();
	CHECK_SYS(kid);
	if (kid == 0) {
		close(ready[0]);
		CHECK_EQ(write(ready[1], "r", 1), 1);
		close(ready[1]);
		scen_wait();
		check_gone("kid");
		exit(0);
	}
	close(ready[1]);
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	/* the ready file goes where the runner looks */
	here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK_SYS(here);
	CHECK_SYS(chdir(top));
	scen_ready();
	CHECK_SYS(fchdir(here));
	close(here);
	scen_wait();

	check_gone("root");
	CHECK_SYS(stat(".", &mine));
	snprintf(path, sizeof(path), "/proc/%d/cwd", kid);
	CHECK_SYS(stat(path, &theirs));
	CHECK(mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino);
	snprintf(path, sizeof(path), "%s/gone", top);
	if (taken)
		only_new_sub();
	else
		CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	CHECK_SYS(kill(kid, SIGTERM));
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("kid failed (status 0x%x)", status);
	scen_pass();
}
