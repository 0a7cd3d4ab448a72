/*
 * fd_deleted.c: files deleted while open survive checkpoint and restart,
 * content, holes, mode and sharing.
 *   big: a 1 GiB sparse file, mode 0640, with a page of data at 0, at
 *        512 MiB and at its last page
 *     fd 10  O_RDWR, offset 1234, close-on-exec; fd 12 a dup of it
 *     fd 11  O_RDONLY, another description, offset 4096
 *   small: "hello" in a file of mode 0600
 *     fd 13  O_WRONLY | O_APPEND
 *     fd 15  O_PATH
 *   fd 14  O_PATH of a regular file that still exists
 * A child inherits them all and sleeps.
 * After restart: every byte of data, the holes where they were (SEEK_HOLE,
 * SEEK_DATA) and few blocks allocated, sizes, modes, link counts 0, the
 * descriptions shared as they were (kcmp) and of one file (inode), offsets
 * and flags; a write through fd 13 appends; the names are still gone; the
 * child's descriptors are the same descriptions as the parent's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

#define PAGE 4096
#define BIG (1ULL << 30)

static const off_t offsets[] = { 0, BIG / 2, BIG - PAGE };

static void place(int fd, int target, bool cloexec)
{
	CHECK_SYS(fd);
	CHECK_SYS(dup3(fd, target, cloexec ? O_CLOEXEC : 0));
	close(fd);
}

static void pattern(unsigned char *buf, int which)
{
	for (int i = 0; i < PAGE; i++)
		buf[i] = (unsigned char)(i * 13 + which * 71 + 1);
}

int main(void)
{
	unsigned char buf[PAGE], want[PAGE];
	pid_t self = getpid(), kid;
	struct stat st, st2;
	int status;
	char text[32];

	scen_init();
	umask(0);
	place(open("big", O_RDWR | O_CREAT | O_EXCL, 0640), 10, true);
	CHECK_SYS(ftruncate(10, (off_t)BIG));
	for (int i = 0; i < 3; i++) {
		pattern(buf, i);
		CHECK_EQ(pwrite(10, buf, PAGE, offsets[i]), PAGE);
	}
	CHECK_SYS(lseek(10, 1234, SEEK_SET));
	CHECK_SYS(dup3(10, 12, 0));
	place(open("big", O_RDONLY), 11, false);
	CHECK_SYS(lseek(11, PAGE, SEEK_SET));
	place(open("small", O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0600), 13, false);
	CHECK_EQ(write(13, "hello", 5), 5);
	place(open("small", O_PATH), 15, false);
	place(open("kept", O_RDWR | O_CREAT | O_EXCL, 0644), 20, false);
	place(open("kept", O_PATH), 14, false);
	close(20);
	CHECK_SYS(unlink("big"));
	CHECK_SYS(unlink("small"));
	kid = fork();
	CHECK_SYS(kid);
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with a failed test */
		for (;;)
			pause();
	}

	scen_ready();
	scen_wait();

	for (int fd = 10; fd <= 15; fd++)
		CHECK_EQ(syscall(SYS_kcmp, self, kid, KCMP_FILE, fd, fd), 0);
	CHECK_SYS(kill(kid, SIGKILL));
	CHECK_EQ(waitpid(kid, &status, 0), kid);

	CHECK_EQ(access("big", F_OK), -1);
	CHECK_EQ(access("small", F_OK), -1);
	CHECK_SYS(fstat(10, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, BIG);
	CHECK((unsigned long long)st.st_blocks * 512 <= 1ULL << 20);
	for (int i = 0; i < 3; i++) {
		pattern(want, i);
		CHECK_EQ(pread(10, buf, PAGE, offsets[i]), PAGE);
		CHECK(!memcmp(buf, want, PAGE));
	}
	CHECK_EQ(lseek(11, 0, SEEK_HOLE), PAGE);
	CHECK_EQ(lseek(11, PAGE, SEEK_DATA), BIG / 2);
	CHECK_EQ(lseek(11, BIG / 2, SEEK_HOLE), BIG / 2 + PAGE);
	CHECK_EQ(lseek(11, BIG / 2 + PAGE, SEEK_DATA), BIG - PAGE);
	CHECK_EQ(pread(11, buf, 8, PAGE * 3), 8);
	CHECK(!memcmp(buf, "\0\0\0\0\0\0\0\0", 8));
	CHECK_EQ(lseek(10, 0, SEEK_CUR), 1234);
	CHECK_EQ(lseek(11, PAGE, SEEK_SET), PAGE); /* it was moved by the checks */
	CHECK_EQ(fcntl(10, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(12, F_GETFD), 0);
	CHECK_EQ(fcntl(10, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(fcntl(11, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(syscall(SYS_kcmp, self, self, KCMP_FILE, 10, 12), 0);
	CHECK(syscall(SYS_kcmp, self, self, KCMP_FILE, 10, 11) != 0);
	CHECK_SYS(fstat(11, &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_EQ(st.st_dev, st2.st_dev);

	CHECK_SYS(fstat(13, &st));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 5);
	CHECK_EQ(fcntl(13, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
	CHECK_EQ(fcntl(15, F_GETFL) & O_PATH, O_PATH);
	CHECK_SYS(fstat(15, &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_SYS(lseek(13, 0, SEEK_SET));
	CHECK_EQ(write(13, "!", 1), 1);
	{
		int r = open("/proc/self/fd/15", O_RDONLY | O_CLOEXEC);

		CHECK_SYS(r);
		memset(text, 0, sizeof(text));
		CHECK_EQ(read(r, text, sizeof(text)), 6);
		CHECK(!strcmp(text, "hello!"));
		close(r);
	}

	CHECK_EQ(fcntl(14, F_GETFL) & O_PATH, O_PATH);
	CHECK_SYS(fstat(14, &st));
	CHECK_SYS(stat("kept", &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	scen_pass();
}
