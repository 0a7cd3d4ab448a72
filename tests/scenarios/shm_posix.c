/*
 * shm_posix.c: POSIX shared memory (files of /dev/shm), shared by a parent
 * and its child, survives restart with its contents, its name, and its
 * sharing.
 *
 *   N  /ckpt-scen-PID-n: 3 pages and 50 bytes (page 1 a hole), mode 0640,
 *      owner 1234:1235, open read-write at fd 10 (offset 100) and
 *      read-only at fd 11 (offset 5), mapped shared writable and,
 *      through fd 11, shared read-only
 *   G  /ckpt-scen-PID-g: 2 pages, mapped shared, its descriptor closed and
 *      the name unlinked (shm_unlink): only the mapping holds it
 *
 * After restart the root checks N's name, size, mode, owner, contents,
 * offsets, access modes, that the read-only mapping cannot become
 * writable, and that the name, both fds and the mapping are one file; and
 * that G is still unnamed ("(deleted)") with its contents. Then it writes
 * marks into both; its child must see them (N also through a fresh
 * shm_open of the name), writes marks of its own, and the root sees
 * those. The root unlinks N at the end, so a restart after the original
 * finished must create it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define N_SIZE (3 * PS + 50)
#define N_MAP (4 * PS)
#define G_SIZE (2 * PS)
#define FD_N 10
#define FD_NRO 11
#define MARK (PS + 8) /* in N's hole: written after restart */

static uint8_t *n_sh, *n_ro, *g_sh;
static char n_name[64], g_name[64], n_path[80], g_path[80];
static pid_t kid_pid;

static uint8_t pat(size_t i, unsigned int seed)
{
	return (uint8_t)(i * 13 + seed * 101 + (i >> 12) + 3);
}

static uint8_t n_byte(size_t i)
{
	return i / PS == 1 || i >= N_SIZE ? 0 : pat(i, 1);
}

static void map_link(const void *addr, size_t len, char *buf, size_t cap, struct stat *st)
{
	char path[96];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	n = readlink(path, buf, cap - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK_SYS(stat(path, st));
}

/* N and G hold their patterns and the marks given (-1: none). */
static void check_contents(const char *who, int root_mark, int kid_mark)
{
	for (size_t i = 0; i < N_MAP; i++) {
		uint8_t want = n_byte(i);

		if (i == MARK && root_mark >= 0)
			want = (uint8_t)root_mark;
		if (i == MARK + 1 && kid_mark >= 0)
			want = (uint8_t)kid_mark;
		if (n_sh[i] != want || n_ro[i] != want)
			scen_fail(
				"%s: N byte %zu is 0x%02x (read-only view 0x%02x), expected 0x%02x",
				who, i, n_sh[i], n_ro[i], want);
	}
	for (size_t i = 0; i < G_SIZE; i++) {
		uint8_t want = pat(i, 2);

		if (i == 0 && root_mark >= 0)
			want = (uint8_t)root_mark;
		if (i == 1 && kid_mark >= 0)
			want = (uint8_t)kid_mark;
		if (g_sh[i] != want)
			scen_fail("%s: G byte %zu is 0x%02x, expected 0x%02x", who, i, g_sh[i],
				  want);
	}
}

static void kid(void)
{
	uint8_t b;
	int fd;

	scen_wait();
	check_contents("child", 0xa1, -1);
	/* the name reaches the object the mappings share */
	fd = shm_open(n_name, O_RDONLY, 0);
	CHECK_SYS(fd);
	CHECK_EQ(pread(fd, &b, 1, MARK), 1);
	CHECK_EQ(b, 0xa1);
	close(fd);
	n_sh[MARK + 1] = 0xb2;
	g_sh[1] = 0xb2;
	scen_pass();
}

static void check_root(void)
{
	struct stat st, via_fd, via_map;
	char link[256];

	CHECK_SYS(stat(n_path, &st));
	CHECK_EQ(st.st_size, N_SIZE);
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 1235);
	CHECK_SYS(fstat(FD_N, &via_fd));
	CHECK(via_fd.st_ino == st.st_ino && via_fd.st_dev == st.st_dev);
	CHECK_SYS(fstat(FD_NRO, &via_fd));
	CHECK(via_fd.st_ino == st.st_ino);
	map_link(n_sh, N_MAP, link, sizeof(link), &via_map);
	CHECK(via_map.st_ino == st.st_ino);
	if (strcmp(link, n_path))
		scen_fail("N is mapped as '%s', expected '%s'", link, n_path);
	map_link(n_ro, N_MAP, link, sizeof(link), &via_map);
	CHECK(via_map.st_ino == st.st_ino);
	CHECK_EQ(lseek(FD_N, 0, SEEK_CUR), 100);
	CHECK_EQ(lseek(FD_NRO, 0, SEEK_CUR), 5);
	CHECK_EQ(fcntl(FD_N, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(fcntl(FD_NRO, F_GETFL) & O_ACCMODE, O_RDONLY);
	errno = 0;
	CHECK_EQ(mprotect(n_ro, N_MAP, PROT_READ | PROT_WRITE), -1);
	CHECK_EQ(errno, EACCES);

	map_link(g_sh, G_SIZE, link, sizeof(link), &via_map);
	{
		char want[128];

		snprintf(want, sizeof(want), "%s (deleted)", g_path);
		if (strcmp(link, want))
			scen_fail("G is mapped as '%s', expected '%s'", link, want);
	}
	CHECK_EQ(via_map.st_size, G_SIZE);
	CHECK_EQ(access(g_path, F_OK), -1);
}

int main(void)
{
	static uint8_t buf[N_SIZE];
	int fd;

	scen_init();
	snprintf(n_name, sizeof(n_name), "/ckpt-scen-%d-n", (int)getpid());
	snprintf(g_name, sizeof(g_name), "/ckpt-scen-%d-g", (int)getpid());
	snprintf(n_path, sizeof(n_path), "/dev/shm%s", n_name);
	snprintf(g_path, sizeof(g_path), "/dev/shm%s", g_name);
	shm_unlink(n_name);
	shm_unlink(g_name);

	scen_move_fd(shm_open(n_name, O_CREAT | O_EXCL | O_RDWR, 0640), FD_N);
	CHECK_SYS(fchmod(FD_N, 0640));
	CHECK_SYS(fchown(FD_N, 1234, 1235));
	CHECK_SYS(ftruncate(FD_N, N_SIZE));
	for (size_t i = 0; i < N_SIZE; i++)
		buf[i] = n_byte(i);
	CHECK_EQ(pwrite(FD_N, buf, PS, 0), PS);
	CHECK_EQ(pwrite(FD_N, buf + 2 * PS, N_SIZE - 2 * PS, 2 * PS), N_SIZE - 2 * PS);
	CHECK_EQ(lseek(FD_N, 100, SEEK_SET), 100);
	scen_move_fd(shm_open(n_name, O_RDONLY, 0), FD_NRO);
	CHECK_EQ(lseek(FD_NRO, 5, SEEK_SET), 5);
	n_sh = mmap(NULL, N_MAP, PROT_READ | PROT_WRITE, MAP_SHARED, FD_N, 0);
	n_ro = mmap(NULL, N_MAP, PROT_READ, MAP_SHARED, FD_NRO, 0);
	CHECK(n_sh != MAP_FAILED && n_ro != MAP_FAILED);

	fd = shm_open(g_name, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK_SYS(fd);
	CHECK_SYS(ftruncate(fd, G_SIZE));
	g_sh = mmap(NULL, G_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(g_sh != MAP_FAILED);
	close(fd);
	CHECK_SYS(shm_unlink(g_name));
	for (size_t i = 0; i < G_SIZE; i++)
		g_sh[i] = pat(i, 2);

	kid_pid = fork();
	CHECK_SYS(kid_pid);
	if (!kid_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing root takes it along */
		kid();
	}
	check_root();
	check_contents("root", -1, -1);
	scen_ready();
	scen_wait();

	check_root();
	check_contents("root", -1, -1);
	n_sh[MARK] = 0xa1;
	g_sh[0] = 0xa1;
	{
		int status;

		CHECK_SYS(kill(kid_pid, SIGTERM));
		CHECK_EQ(waitpid(kid_pid, &status, 0), kid_pid);
		if (status)
			scen_fail("child ended with status 0x%x", status);
	}
	check_contents("root, after its child", 0xa1, 0xb2);
	{
		uint8_t b[2];

		CHECK_EQ(pread(FD_NRO, b, 2, MARK), 2);
		CHECK_EQ(b[0], 0xa1);
		CHECK_EQ(b[1], 0xb2);
	}
	CHECK_SYS(shm_unlink(n_name));
	scen_pass();
}
