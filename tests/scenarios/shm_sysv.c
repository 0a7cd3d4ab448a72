/*
 * shm_sysv.c: System V shared memory, attached by a parent and its child,
 * survives restart with its id, key, mode, owner and contents, attached at
 * the same addresses, still shared.
 *
 *   A  key 0x5c5xxxxx (from the pid), 3 pages and 10 bytes, mode 0640,
 *      owner 1234:1235; attached read-write by the root (its last page
 *      then made read-only: two areas) and, in the child, also read-only
 *      (SHM_RDONLY) at a second address
 *   B  IPC_PRIVATE, 2 pages, attached, then marked IPC_RMID: still
 *      attached by both, gone once they detach
 *
 * After restart the root checks each segment's id, key, mode, owner,
 * size, attach count (as before the checkpoint) and that B is still
 * marked for removal; contents; the areas' addresses and permissions. It
 * writes marks into both; its child must see them, also through its
 * read-only attach, which must refuse writes (SHM_RDONLY: mprotect
 * fails), writes marks of its own, and the root sees those. The root
 * removes A at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define A_SIZE (3 * PS + 10)
#define B_SIZE (2 * PS)

static uint8_t *a_at, *a_ro, *b_at;
static int a_id, b_id, a_key;
static pid_t kid_pid;
static struct shmid_ds a_before, b_before;

static uint8_t pat(size_t i, unsigned int seed)
{
	return (uint8_t)(i * 37 + seed * 11 + (i >> 12) + 5);
}

static void check_segment(const char *what, int id, int key, unsigned int mode, size_t size,
			  const struct shmid_ds *before, bool dest)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0)
		scen_fail("%s: segment %d: %m", what, id);
	CHECK_EQ(ds.shm_perm.__key, key);
	CHECK_EQ(ds.shm_perm.mode & 0777, mode);
	CHECK_EQ(!!(ds.shm_perm.mode & SHM_DEST), dest);
	CHECK_EQ(ds.shm_perm.uid, before->shm_perm.uid);
	CHECK_EQ(ds.shm_perm.gid, before->shm_perm.gid);
	CHECK_EQ(ds.shm_segsz, size);
	if (before->shm_nattch && ds.shm_nattch != before->shm_nattch)
		scen_fail("%s: attached %lu times, %lu before", what, (unsigned long)ds.shm_nattch,
			  (unsigned long)before->shm_nattch);
}

/* An area's permissions from /proc/self/maps. */
static void expect_perms(const void *addr, const char *perms)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	bool found = false;

	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char p[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, p) == 3 && s == (unsigned long)addr) {
			found = true;
			if (strcmp(p, perms))
				scen_fail("area at %p is %s, expected %s", addr, p, perms);
		}
	}
	fclose(f);
	if (!found)
		scen_fail("no area starts at %p", addr);
}

static void check_contents(const char *who, int root_mark, int kid_mark)
{
	for (size_t i = 0; i < A_SIZE; i++) {
		uint8_t want = pat(i, 1);

		if (i == 0 && root_mark >= 0)
			want = (uint8_t)root_mark;
		if (i == 1 && kid_mark >= 0)
			want = (uint8_t)kid_mark;
		if (a_at[i] != want)
			scen_fail("%s: A byte %zu is 0x%02x, expected 0x%02x", who, i, a_at[i],
				  want);
		if (a_ro && a_ro[i] != want)
			scen_fail("%s: A byte %zu is 0x%02x in the read-only attach, expected "
				  "0x%02x",
				  who, i, a_ro[i], want);
	}
	for (size_t i = 0; i < B_SIZE; i++) {
		uint8_t want = pat(i, 2);

		if (i == PS && root_mark >= 0)
			want = (uint8_t)root_mark;
		if (i == PS + 1 && kid_mark >= 0)
			want = (uint8_t)kid_mark;
		if (b_at[i] != want)
			scen_fail("%s: B byte %zu is 0x%02x, expected 0x%02x", who, i, b_at[i],
				  want);
	}
}

static void kid(void)
{
	scen_wait();
	expect_perms(a_ro, "r--s");
	errno = 0;
	CHECK_EQ(mprotect(a_ro, PS, PROT_READ | PROT_WRITE), -1);
	CHECK_EQ(errno, EACCES);
	check_contents("child", 0xa1, -1);
	a_at[1] = 0xb2;
	b_at[PS + 1] = 0xb2;
	CHECK_EQ(a_ro[1], 0xb2);
	scen_pass();
}

static void check_root(bool after)
{
	(void)after;
	check_segment("A", a_id, a_key, 0640, A_SIZE, &a_before, false);
	check_segment("B", b_id, IPC_PRIVATE, 0600, B_SIZE, &b_before, true);
	expect_perms(a_at, "rw-s");
	expect_perms(a_at + 3 * PS, "r--s");
	expect_perms(b_at, "rw-s");
}

int main(void)
{
	int pipefd[2];
	char c;

	scen_init();
	a_key = (int)(0x5c500000 | (getpid() & 0xfffff));
	a_id = shmget(a_key, A_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	if (a_id < 0 && errno == EEXIST) { /* left by an earlier run */
		shmctl(shmget(a_key, 0, 0), IPC_RMID, NULL);
		a_id = shmget(a_key, A_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	}
	CHECK_SYS(a_id);
	CHECK_SYS(shmctl(a_id, IPC_STAT, &a_before));
	a_before.shm_perm.uid = 1234;
	a_before.shm_perm.gid = 1235;
	CHECK_SYS(shmctl(a_id, IPC_SET, &a_before));
	a_at = shmat(a_id, NULL, 0);
	CHECK(a_at != (void *)-1);
	for (size_t i = 0; i < A_SIZE; i++)
		a_at[i] = pat(i, 1);
	CHECK_SYS(mprotect(a_at + 3 * PS, PS, PROT_READ));

	b_id = shmget(IPC_PRIVATE, B_SIZE, IPC_CREAT | 0600);
	CHECK_SYS(b_id);
	b_at = shmat(b_id, NULL, 0);
	CHECK(b_at != (void *)-1);
	for (size_t i = 0; i < B_SIZE; i++)
		b_at[i] = pat(i, 2);
	CHECK_SYS(shmctl(b_id, IPC_RMID, NULL));

	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	kid_pid = fork();
	CHECK_SYS(kid_pid);
	if (!kid_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing root takes it along */
		close(pipefd[0]);
		a_ro = shmat(a_id, NULL, SHM_RDONLY);
		CHECK(a_ro != (void *)-1);
		CHECK_EQ(write(pipefd[1], "x", 1), 1);
		close(pipefd[1]);
		kid();
	}
	close(pipefd[1]);
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	/* root: 2 areas of A; child: 2 inherited and 1 of its own */
	CHECK_SYS(shmctl(a_id, IPC_STAT, &a_before));
	CHECK_SYS(shmctl(b_id, IPC_STAT, &b_before));
	check_root(false);
	check_contents("root", -1, -1);
	scen_ready();
	scen_wait();

	check_root(true);
	check_contents("root", -1, -1);
	a_at[0] = 0xa1;
	b_at[PS] = 0xa1;
	{
		int status;

		CHECK_SYS(kill(kid_pid, SIGTERM));
		CHECK_EQ(waitpid(kid_pid, &status, 0), kid_pid);
		if (status)
			scen_fail("child ended with status 0x%x", status);
	}
	check_contents("root, after its child", 0xa1, 0xb2);
	CHECK_SYS(shmctl(a_id, IPC_RMID, NULL));
	scen_pass();
}
