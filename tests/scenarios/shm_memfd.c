/*
 * shm_memfd.c: memfds, mapped and open, shared by a parent and its
 * children, survive restart as one object each, still shared.
 *
 *   A "ckpt-a"  5 pages and 100 bytes (page 2 a hole), mode 0640, at fd 10
 *               (read-write, close-on-exec, offset 1234) and at fd 11 (a
 *               second open description, read-only, offset 77); mapped
 *               shared (whole) and private (pages 1-3, page 1 written
 *               privately)
 *   B "ckpt-b"  2 pages sealed (write, shrink, grow, seal) at fd 12,
 *               mapped shared read-only
 *   C "ckpt-c"  created without MFD_ALLOW_SEALING, at fd 13
 *
 * Two children inherit all of it. After restart the root checks names,
 * sizes, modes, offsets, access modes, close-on-exec, seals (writes and
 * resizes of B fail with EPERM, its mapping cannot become writable, C
 * takes no seal), contents, and that fds and mappings reach one object.
 * It then writes a mark into A; each child must see it (through its
 * mapping and its fd), writes marks of its own, and child 0 moves the
 * shared offset of fd 10; the root then sees all of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define PS 4096UL
#define A_SIZE (5 * PS + 100)
#define A_MAP (6 * PS)
#define B_SIZE (2 * PS)
#define FD_A 10
#define FD_A2 11
#define FD_B 12
#define FD_C 13
#define NKIDS 2
#define ROOT_MARK (2 * PS) /* in the hole of A: written after restart */
#define KID_MARK (2 * PS + 16) /* + child index */
#define B_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static uint8_t *a_sh, *a_pr, *b_ro;
static pid_t kids[NKIDS];

static uint8_t pat(size_t i, unsigned int seed)
{
	return (uint8_t)(i * 31 + seed * 7 + (i >> 12) + 1);
}

/* What A holds before any mark. */
static uint8_t a_byte(size_t i)
{
	return i / PS == 2 || i >= A_SIZE ? 0 : pat(i, 1);
}

static void expect_link(int fd, const char *want)
{
	char path[64], buf[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	if (strcmp(buf, want))
		scen_fail("fd %d is '%s', expected '%s'", fd, buf, want);
}

static ino_t map_ino(const void *addr, size_t len)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	CHECK_SYS(stat(path, &st));
	return st.st_ino;
}

/* Checks A's contents through the shared mapping and fd 10, given which
 * marks must be there. */
static void check_a(const char *who, bool root_mark, int kid_marks)
{
	static uint8_t buf[A_MAP];

	CHECK_EQ(pread(FD_A, buf, sizeof(buf), 0), A_SIZE);
	for (size_t i = 0; i < A_MAP; i++) {
		uint8_t want = a_byte(i);

		if (i == ROOT_MARK && root_mark)
			want = 0xa0;
		if (i >= KID_MARK && i < KID_MARK + NKIDS && (int)(i - KID_MARK) < kid_marks)
			want = (uint8_t)(0xb0 + i - KID_MARK);
		if (a_sh[i] != want)
			scen_fail("%s: A byte %zu is 0x%02x through the mapping, expected 0x%02x",
				  who, i, a_sh[i], want);
		if (i < A_SIZE && buf[i] != want)
			scen_fail("%s: A byte %zu is 0x%02x through fd %d, expected 0x%02x", who, i,
				  buf[i], FD_A, want);
	}
}

static void kid(int k)
{
	char who[16];

	snprintf(who, sizeof(who), "child %d", k);
	scen_wait();
	/* the root wrote its mark after restart: still one object */
	check_a(who, true, k);
	a_sh[KID_MARK + k] = (uint8_t)(0xb0 + k);
	if (k == 0)
		CHECK_EQ(lseek(FD_A, 4321, SEEK_SET), 4321);
	scen_pass();
}

static void check_root(void)
{
	struct stat st;
	uint8_t buf[16];

	expect_link(FD_A, "/memfd:ckpt-a (deleted)");
	expect_link(FD_A2, "/memfd:ckpt-a (deleted)");
	expect_link(FD_B, "/memfd:ckpt-b (deleted)");
	expect_link(FD_C, "/memfd:ckpt-c (deleted)");
	CHECK_SYS(fstat(FD_A, &st));
	CHECK_EQ(st.st_size, A_SIZE);
	CHECK_EQ(st.st_mode & 07777, 0640);
	/* one object behind both descriptions and both mappings */
	CHECK(map_ino(a_sh, A_MAP) == st.st_ino);
	CHECK(map_ino(a_pr, 3 * PS) == st.st_ino);
	{
		struct stat st2;

		CHECK_SYS(fstat(FD_A2, &st2));
		CHECK(st2.st_ino == st.st_ino);
	}
	CHECK_EQ(lseek(FD_A, 0, SEEK_CUR), 1234);
	CHECK_EQ(lseek(FD_A2, 0, SEEK_CUR), 77);
	CHECK_EQ(fcntl(FD_A, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(fcntl(FD_A2, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fcntl(FD_A, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(FD_A2, F_GETFD), 0);
	CHECK_EQ(write(FD_A2, "x", 1), -1);
	check_a("root", false, 0);
	/* the private view: page 0 (A's page 1) is its own, the others A's */
	for (size_t i = 0; i < 3 * PS; i++) {
		uint8_t want = i < PS ? pat(i, 9) : a_byte(PS + i);

		if (a_pr[i] != want)
			scen_fail("private view byte %zu is 0x%02x, expected 0x%02x", i, a_pr[i],
				  want);
	}

	/* B: sealed */
	CHECK_SYS(fstat(FD_B, &st));
	CHECK_EQ(st.st_size, B_SIZE);
	CHECK_EQ(fcntl(FD_B, F_GET_SEALS), B_SEALS);
	for (size_t i = 0; i < B_SIZE; i++)
		if (b_ro[i] != pat(i, 2))
			scen_fail("B byte %zu is 0x%02x, expected 0x%02x", i, b_ro[i], pat(i, 2));
	errno = 0;
	CHECK_EQ(pwrite(FD_B, "x", 1, 0), -1);
	CHECK_EQ(errno, EPERM);
	errno = 0;
	CHECK_EQ(ftruncate(FD_B, PS), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(mprotect(b_ro, B_SIZE, PROT_READ | PROT_WRITE), -1);
	CHECK(mmap(NULL, B_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, FD_B, 0) == MAP_FAILED);

	/* C: no sealing allowed */
	CHECK_EQ(fcntl(FD_C, F_GET_SEALS), F_SEAL_SEAL);
	errno = 0;
	CHECK_EQ(fcntl(FD_C, F_ADD_SEALS, F_SEAL_GROW), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(pread(FD_C, buf, sizeof(buf), 0), 10);
	CHECK(!memcmp(buf, "ckpt-c-abc", 10));
}

int main(void)
{
	static uint8_t buf[A_SIZE];

	scen_init();
	scen_move_fd(memfd_create("ckpt-a", MFD_CLOEXEC | MFD_ALLOW_SEALING), FD_A);
	CHECK_SYS(fcntl(FD_A, F_SETFD, FD_CLOEXEC));
	for (size_t i = 0; i < A_SIZE; i++)
		buf[i] = a_byte(i);
	CHECK_EQ(pwrite(FD_A, buf, 2 * PS, 0), 2 * PS);
	CHECK_EQ(pwrite(FD_A, buf + 3 * PS, A_SIZE - 3 * PS, 3 * PS), A_SIZE - 3 * PS);
	CHECK_SYS(fchmod(FD_A, 0640));
	CHECK_EQ(lseek(FD_A, 1234, SEEK_SET), 1234);
	scen_move_fd(open("/proc/self/fd/10", O_RDONLY), FD_A2);
	CHECK_EQ(lseek(FD_A2, 77, SEEK_SET), 77);
	a_sh = mmap(NULL, A_MAP, PROT_READ | PROT_WRITE, MAP_SHARED, FD_A, 0);
	a_pr = mmap(NULL, 3 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, FD_A, PS);
	CHECK(a_sh != MAP_FAILED && a_pr != MAP_FAILED);
	for (size_t i = 0; i < PS; i++)
		a_pr[i] = pat(i, 9);
	for (size_t i = PS; i < 3 * PS; i++) /* read: file pages, not copies */
		CHECK_EQ(a_pr[i], a_byte(PS + i));

	scen_move_fd(memfd_create("ckpt-b", MFD_CLOEXEC | MFD_ALLOW_SEALING), FD_B);
	for (size_t i = 0; i < B_SIZE; i++)
		buf[i] = pat(i, 2);
	CHECK_EQ(write(FD_B, buf, B_SIZE), B_SIZE);
	CHECK_SYS(fcntl(FD_B, F_ADD_SEALS, B_SEALS));
	b_ro = mmap(NULL, B_SIZE, PROT_READ, MAP_SHARED, FD_B, 0);
	CHECK(b_ro != MAP_FAILED);

	scen_move_fd(memfd_create("ckpt-c", MFD_CLOEXEC), FD_C);
	CHECK_EQ(write(FD_C, "ckpt-c-abc", 10), 10);

	for (int k = 0; k < NKIDS; k++) {
		kids[k] = fork();
		CHECK_SYS(kids[k]);
		if (!kids[k]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing root takes it along */
			kid(k);
		}
	}
	check_root();
	scen_ready();
	scen_wait();

	check_root();
	a_sh[ROOT_MARK] = 0xa0;
	for (int k = 0; k < NKIDS; k++) {
		int status;

		CHECK_SYS(kill(kids[k], SIGTERM));
		CHECK_EQ(waitpid(kids[k], &status, 0), kids[k]);
		if (status)
			scen_fail("child %d ended with status 0x%x", k, status);
	}
	check_a("root, after its children", true, NKIDS);
	{
		uint8_t b[NKIDS];

		CHECK_EQ(pread(FD_A2, b, NKIDS, KID_MARK), NKIDS);
		for (int k = 0; k < NKIDS; k++)
			CHECK_EQ(b[k], 0xb0 + k);
	}
	CHECK_EQ(lseek(FD_A, 0, SEEK_CUR), 4321);
	/* the private view sees the file where it did not write */
	CHECK_EQ(a_pr[PS], 0xa0);
	scen_pass();
}
