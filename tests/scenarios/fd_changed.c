/*
 * fd_changed.c: a regular file that changed between checkpoint and
 * restart. The process holds "held.log" (1000 bytes) read-write at fd 10,
 * offset 600. Once told to check, it verifies the file and its offset,
 * then changes the file as its argument says:
 *   grow     appends 10 bytes: a restart of the image still goes through
 *            (the runner's leave and pidns modes restart after the
 *            original, or the copy, grew it: the check takes any number
 *            of such appends)
 *   shrink   truncates it to 300 bytes, below the offset
 *   replace  renames another file over its name
 *   chmod    makes it mode 0600
 *   dirgone  (fd 11 holds sub/x, deleted) removes the directory sub
 * All but grow are run in the runner's changed mode: the restart after
 * the original changed the file must be refused, naming the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

#define SIZE 1000
#define POS 600
#define MORE "appended!\n"

static unsigned char byte_at(int i)
{
	return (unsigned char)('a' + i % 26);
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "grow";
	unsigned char buf[SIZE];
	struct stat st;
	int fd;

	scen_init();
	umask(0);
	for (int i = 0; i < SIZE; i++)
		buf[i] = byte_at(i);
	fd = open("held.log", O_RDWR | O_CREAT | O_EXCL, 0644);
	CHECK_SYS(fd);
	CHECK_EQ(write(fd, buf, SIZE), SIZE);
	scen_move_fd(fd, 10);
	CHECK_SYS(lseek(10, POS, SEEK_SET));
	if (!strcmp(how, "dirgone")) {
		CHECK_SYS(mkdir("sub", 0755));
		fd = open("sub/x", O_RDWR | O_CREAT | O_EXCL, 0644);
		CHECK_SYS(fd);
		CHECK_EQ(write(fd, "x", 1), 1);
		scen_move_fd(fd, 11);
		CHECK_SYS(unlink("sub/x"));
	}

	scen_ready();
	scen_wait();

	CHECK_EQ(lseek(10, 0, SEEK_CUR), POS);
	CHECK_SYS(fstat(10, &st));
	CHECK_EQ(st.st_mode & 07777, 0644);
	CHECK(st.st_size >= SIZE && (st.st_size - SIZE) % (sizeof(MORE) - 1) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(pread(10, buf, SIZE, 0), SIZE);
	for (int i = 0; i < SIZE; i++)
		CHECK_EQ(buf[i], byte_at(i));
	for (off_t at = SIZE; at < st.st_size; at += sizeof(MORE) - 1) {
		CHECK_EQ(pread(10, buf, sizeof(MORE) - 1, at), sizeof(MORE) - 1);
		CHECK(!memcmp(buf, MORE, sizeof(MORE) - 1));
	}
	if (!strcmp(how, "grow")) {
		CHECK_EQ(pwrite(10, MORE, sizeof(MORE) - 1, st.st_size), sizeof(MORE) - 1);
	} else if (!strcmp(how, "shrink")) {
		CHECK_SYS(ftruncate(10, 300));
	} else if (!strcmp(how, "replace")) {
		fd = open("held.new", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		CHECK_SYS(fd);
		CHECK_EQ(write(fd, buf, SIZE), SIZE);
		close(fd);
		CHECK_SYS(rename("held.new", "held.log"));
	} else if (!strcmp(how, "chmod")) {
		CHECK_SYS(fchmod(10, 0600));
	} else if (!strcmp(how, "dirgone")) {
		CHECK_EQ(pread(11, buf, 1, 0), 1);
		CHECK_EQ(buf[0], 'x');
		CHECK_SYS(rmdir("sub"));
	} else {
		scen_fail("unknown change '%s'", how);
	}
	scen_pass();
}
