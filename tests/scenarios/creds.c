/*
 * creds.c: credentials. Started as root, the process sets supplementary
 * groups, three different real/effective/saved group ids and a distinct
 * filesystem gid, then three different non-root user ids and a filesystem
 * uid equal to the saved one, which drops root. After restart the ids, the
 * groups, the (now empty) capability sets and the dumpable flag are what
 * they were.
 *
 * The runner's directory is mode 0777, so "ready" can still be created
 * there without root; the log was opened before.
 */
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "lib/scen.h"

#define RUID 1001
#define EUID 1002
#define SUID 1003
#define FSUID SUID /* an unprivileged process may only pick one of the three */
#define RGID 2001
#define EGID 2002
#define SGID 2003
#define FSGID 2004

static const gid_t groups[] = { 3001, 100, 65534, 4242, 2001 };
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

struct caps {
	struct __user_cap_data_struct d[2];
};

static void get_caps(struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	memset(c, 0, sizeof(*c));
	CHECK_SYS(syscall(SYS_capget, &h, c->d));
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

/* setfsuid/setfsgid with an invalid id change nothing and return the
 * current one. */
static unsigned int cur_fsuid(void)
{
	return (unsigned int)setfsuid((uid_t)-1);
}

static unsigned int cur_fsgid(void)
{
	return (unsigned int)setfsgid((gid_t)-1);
}

static void check_ids(const char *when)
{
	uid_t r, e, s;
	gid_t rg, eg, sg, got[NGROUPS + 8], want[NGROUPS];
	int n;

	CHECK_SYS(getresuid(&r, &e, &s));
	if (r != RUID || e != EUID || s != SUID)
		scen_fail("%s: uids %u/%u/%u, expected %u/%u/%u", when, r, e, s, RUID, EUID, SUID);
	CHECK_SYS(getresgid(&rg, &eg, &sg));
	if (rg != RGID || eg != EGID || sg != SGID)
		scen_fail("%s: gids %u/%u/%u, expected %u/%u/%u", when, rg, eg, sg, RGID, EGID,
			  SGID);
	if (cur_fsuid() != FSUID)
		scen_fail("%s: fsuid %u, expected %u", when, cur_fsuid(), FSUID);
	if (cur_fsgid() != FSGID)
		scen_fail("%s: fsgid %u, expected %u", when, cur_fsgid(), FSGID);
	n = getgroups((int)(sizeof(got) / sizeof(got[0])), got);
	CHECK_SYS(n);
	if ((size_t)n != NGROUPS)
		scen_fail("%s: %d supplementary groups, expected %zu", when, n, NGROUPS);
	memcpy(want, groups, sizeof(want));
	qsort(want, NGROUPS, sizeof(want[0]), cmp_gid);
	qsort(got, (size_t)n, sizeof(got[0]), cmp_gid);
	for (size_t i = 0; i < NGROUPS; i++)
		if (got[i] != want[i])
			scen_fail("%s: supplementary group %u, expected %u", when, got[i], want[i]);
}

int main(void)
{
	struct caps before, after;
	int dumpable;

	scen_init();
	if (geteuid() != 0)
		scen_fail("must start as root");
	CHECK_SYS(setgroups(NGROUPS, groups));
	CHECK_SYS(setresgid(RGID, EGID, SGID));
	setfsgid(FSGID);
	CHECK_SYS(setresuid(RUID, EUID, SUID));
	setfsuid(FSUID);
	check_ids("before");
	get_caps(&before);
	CHECK_EQ(before.d[0].effective | before.d[0].permitted, 0);
	CHECK_EQ(before.d[1].effective | before.d[1].permitted, 0);
	dumpable = prctl(PR_GET_DUMPABLE);
	CHECK_SYS(dumpable);
	scen_ready();
	scen_wait();

	check_ids("after restart");
	get_caps(&after);
	if (memcmp(&before, &after, sizeof(before)))
		scen_fail("capabilities eff %#x/%#x prm %#x/%#x inh %#x/%#x differ from before",
			  after.d[0].effective, after.d[1].effective, after.d[0].permitted,
			  after.d[1].permitted, after.d[0].inheritable, after.d[1].inheritable);
	CHECK_EQ(prctl(PR_GET_DUMPABLE), dumpable);
	/* the saved set-user-ID still works: back to it and to the real one */
	CHECK_SYS(seteuid(SUID));
	CHECK_EQ(geteuid(), SUID);
	CHECK_SYS(seteuid(RUID));
	CHECK_EQ(geteuid(), RUID);
	CHECK(seteuid(0) < 0);
	scen_pass();
}
