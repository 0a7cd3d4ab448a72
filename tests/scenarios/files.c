/*
 * files.c: open files survive checkpoint and restart. Regular files sit at
 * descriptors 3, 7, 100 and 1000 with different access modes (read-only,
 * write-only append, read-write) and offsets, some close-on-exec; fd 101 is
 * a dup of fd 100 (one shared open file description: seeking one moves the
 * other, close-on-exec stays per descriptor); fds 3 and 1000 open the same
 * file independently (their offsets stay apart); null, zero, full, random
 * and urandom are open and behave as themselves; a directory read halfway
 * with getdents64 goes on where it stopped (together the two halves are a
 * full listing, nothing twice); an O_PATH descriptor stays O_PATH. After
 * restart the descriptor table holds exactly these descriptors, nothing
 * that ckpt used on the way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

#define DATA_SIZE 8192
#define NENTRIES 300
#define MAX_NAMES (NENTRIES + 2)

enum {
	FD_RO = 3, /* a.txt, O_RDONLY, offset 100 */
	FD_APPEND = 7, /* b.txt, O_WRONLY | O_APPEND, offset 0, cloexec */
	FD_DEVNULL = 20,
	FD_ZERO = 21,
	FD_FULL = 22,
	FD_RANDOM = 23,
	FD_URANDOM = 24,
	FD_DIR = 30, /* d/, read partially */
	FD_OPATH = 40, /* a.txt, O_PATH, cloexec */
	FD_RW = 100, /* c.txt, O_RDWR, offset 5000, cloexec */
	FD_RW_DUP = 101, /* dup of FD_RW, no cloexec */
	FD_RO2 = 1000, /* a.txt again, O_RDONLY, offset 2000, cloexec */
};

static const int expected_fds[] = { 0, 1, 2, 3, 7, 20, 21, 22, 23, 24, 30, 40, 100, 101, 1000 };

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static char names[MAX_NAMES][16];
static int nnames, nbefore;

static unsigned char data_byte(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

/* Moves fd to the descriptor number target. */
static void place(int fd, int target, bool cloexec)
{
	if (fd != target) {
		CHECK_SYS(dup3(fd, target, cloexec ? O_CLOEXEC : 0));
		CHECK_SYS(close(fd));
	} else {
		CHECK_SYS(fcntl(fd, F_SETFD, cloexec ? FD_CLOEXEC : 0));
	}
}

static void open_at(const char *path, int flags, int target, bool cloexec)
{
	int fd = open(path, flags, 0644);

	if (fd < 0)
		scen_fail("open %s: %m", path);
	place(fd, target, cloexec);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK_SYS(fd);
	CHECK_EQ(write(fd, buf, len), len);
	CHECK_SYS(close(fd));
}

static off_t pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

static void check_data(int fd, off_t at, size_t len)
{
	unsigned char buf[64];

	CHECK(len <= sizeof(buf));
	CHECK_EQ(pos(fd), at);
	CHECK_EQ(read(fd, buf, len), len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != data_byte((size_t)at + i))
			scen_fail("fd %d: byte at %lld is %u, expected %u", fd,
				  (long long)at + (long long)i, buf[i], data_byte((size_t)at + i));
	CHECK_EQ(pos(fd), at + (off_t)len);
}

static void check_mode(int fd, int want)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		scen_fail("fd %d: F_GETFL: %m", fd);
	fl &= O_ACCMODE | O_APPEND | O_PATH | O_DIRECTORY | O_NONBLOCK;
	if (fl != want)
		scen_fail("fd %d: flags 0%o, expected 0%o", fd, fl, want);
}

static void check_cloexec(int fd, bool want)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		scen_fail("fd %d: F_GETFD: %m", fd);
	if (!!(fl & FD_CLOEXEC) != want)
		scen_fail("fd %d: close-on-exec is %s, expected %s", fd,
			  fl & FD_CLOEXEC ? "set" : "clear", want ? "set" : "clear");
}

static void check_rdev(int fd, unsigned int minor_nr)
{
	struct stat st;

	CHECK_SYS(fstat(fd, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), minor_nr);
}

static long same_description(int fd1, int fd2)
{
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd1, fd2);
}

static bool known_name(const char *name)
{
	for (int i = 0; i < nnames; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* One getdents64 call on FD_DIR into a buffer of len bytes; returns the
 * number of entries, adding their names. */
static int read_dir_once(size_t len)
{
	char buf[4096] __attribute__((aligned(8)));
	long n;
	int count = 0;

	CHECK(len <= sizeof(buf));
	n = syscall(SYS_getdents64, FD_DIR, buf, len);
	if (n < 0)
		scen_fail("getdents64: %m");
	for (long off = 0; off < n;) {
		struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);

		if (known_name(d->d_name))
			scen_fail("directory entry '%s' listed twice", d->d_name);
		CHECK(nnames < MAX_NAMES);
		CHECK(strlen(d->d_name) < sizeof(names[0]));
		strcpy(names[nnames++], d->d_name);
		count++;
		off += d->d_reclen;
	}
	return count;
}

static void check_dir(void)
{
	DIR *dir;
	struct dirent *e;
	int fresh = 0, n;

	CHECK_EQ(nbefore, nnames);
	while ((n = read_dir_once(4096)) > 0)
		;
	if (nnames == nbefore)
		scen_fail("the directory listing did not go on after restart");
	dir = opendir("d");
	CHECK(dir);
	while ((e = readdir(dir))) {
		if (!known_name(e->d_name))
			scen_fail("directory entry '%s' was skipped", e->d_name);
		fresh++;
	}
	closedir(dir);
	CHECK_EQ(fresh, NENTRIES + 2);
	CHECK_EQ(nnames, fresh);
}

/* The descriptor table holds exactly expected_fds. */
static void check_fd_table(void)
{
	size_t nexp = sizeof(expected_fds) / sizeof(expected_fds[0]), seen = 0;
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	CHECK(dir);
	while ((e = readdir(dir))) {
		int fd;
		bool ok = false;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(dir))
			continue;
		for (size_t i = 0; i < nexp; i++)
			ok |= expected_fds[i] == fd;
		if (!ok) {
			char link[64], target[256] = "?";

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			if (readlink(link, target, sizeof(target) - 1) < 0)
				strcpy(target, "?");
			scen_fail("unexpected fd %d open (%s)", fd, target);
		}
		seen++;
	}
	closedir(dir);
	CHECK_EQ(seen, nexp);
}

static void build(void)
{
	unsigned char data[DATA_SIZE];
	char path[32];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = data_byte(i);
	write_file("a.txt", data, sizeof(data));
	write_file("b.txt", "hello", 5);
	write_file("c.txt", data, sizeof(data));
	CHECK_SYS(mkdir("d", 0755));
	for (int i = 0; i < NENTRIES; i++) {
		snprintf(path, sizeof(path), "d/f%03d", i);
		write_file(path, "", 0);
	}

	open_at("a.txt", O_RDONLY, FD_RO, false);
	CHECK_EQ(lseek(FD_RO, 100, SEEK_SET), 100);
	open_at("b.txt", O_WRONLY | O_APPEND, FD_APPEND, true);
	/* an append descriptor has an offset of its own, writes go to the end */
	CHECK_EQ(lseek(FD_APPEND, 0, SEEK_SET), 0);
	open_at("c.txt", O_RDWR, FD_RW, true);
	CHECK_EQ(lseek(FD_RW, 5000, SEEK_SET), 5000);
	CHECK_SYS(dup2(FD_RW, FD_RW_DUP));
	open_at("a.txt", O_RDONLY, FD_RO2, true);
	CHECK_EQ(lseek(FD_RO2, 2000, SEEK_SET), 2000);
	open_at("/dev/null", O_RDWR, FD_DEVNULL, false);
	open_at("/dev/zero", O_RDONLY, FD_ZERO, true);
	open_at("/dev/full", O_WRONLY, FD_FULL, false);
	open_at("/dev/random", O_RDONLY, FD_RANDOM, false);
	open_at("/dev/urandom", O_RDONLY, FD_URANDOM, true);
	open_at("d", O_RDONLY | O_DIRECTORY, FD_DIR, false);
	open_at("a.txt", O_PATH, FD_OPATH, true);

	/* read the directory partially: a small buffer holds a few entries */
	nbefore = read_dir_once(512);
	CHECK(nbefore > 2 && nbefore < NENTRIES / 2);
	nbefore = nnames;
}

static void check_regular(void)
{
	unsigned char buf[16];
	struct stat st, st_a;
	off_t size;

	/* access modes */
	check_mode(FD_RO, O_RDONLY);
	check_mode(FD_RO2, O_RDONLY);
	check_mode(FD_APPEND, O_WRONLY | O_APPEND);
	check_mode(FD_RW, O_RDWR);
	check_mode(FD_RW_DUP, O_RDWR);
	check_mode(FD_DIR, O_RDONLY | O_DIRECTORY);
	check_mode(FD_OPATH, O_PATH);
	check_mode(FD_DEVNULL, O_RDWR);
	check_mode(FD_ZERO, O_RDONLY);
	check_mode(FD_FULL, O_WRONLY);
	check_mode(FD_RANDOM, O_RDONLY);
	check_mode(FD_URANDOM, O_RDONLY);

	/* close-on-exec is per descriptor */
	check_cloexec(FD_RO, false);
	check_cloexec(FD_APPEND, true);
	check_cloexec(FD_RW, true);
	check_cloexec(FD_RW_DUP, false);
	check_cloexec(FD_RO2, true);
	check_cloexec(FD_DEVNULL, false);
	check_cloexec(FD_ZERO, true);
	check_cloexec(FD_FULL, false);
	check_cloexec(FD_RANDOM, false);
	check_cloexec(FD_URANDOM, true);
	check_cloexec(FD_DIR, false);
	check_cloexec(FD_OPATH, true);

	/* sharing of open file descriptions */
	CHECK_EQ(same_description(FD_RW, FD_RW_DUP), 0);
	CHECK(same_description(FD_RO, FD_RO2) != 0);
	CHECK(same_description(FD_RO, FD_OPATH) != 0);

	/* offsets and contents; the same file twice: independent offsets */
	check_data(FD_RO, 100, 10);
	check_data(FD_RO2, 2000, 16);
	CHECK_EQ(pos(FD_RO), 110);
	CHECK_EQ(lseek(FD_RO, 3000, SEEK_SET), 3000);
	CHECK_EQ(pos(FD_RO2), 2016);
	check_data(FD_RO, 3000, 8);
	CHECK_EQ(write(FD_RO, "x", 1), -1);
	CHECK_EQ(errno, EBADF);

	/* a dup shares the offset both ways */
	CHECK_EQ(pos(FD_RW_DUP), 5000);
	check_data(FD_RW, 5000, 12);
	CHECK_EQ(pos(FD_RW_DUP), 5012);
	CHECK_EQ(lseek(FD_RW_DUP, 1234, SEEK_SET), 1234);
	check_data(FD_RW, 1234, 4);
	/* and it writes (a region never read back as data) */
	CHECK_EQ(pwrite(FD_RW, "XXXX", 4, 7000), 4);
	CHECK_EQ(pread(FD_RW_DUP, buf, 4, 7000), 4);
	CHECK(!memcmp(buf, "XXXX", 4));

	/* append: offset 0 kept, the write still goes to the end */
	CHECK_EQ(pos(FD_APPEND), 0);
	CHECK_SYS(fstat(FD_APPEND, &st));
	size = st.st_size;
	CHECK(size >= 5);
	CHECK_EQ(write(FD_APPEND, "world", 5), 5);
	CHECK_EQ(pos(FD_APPEND), size + 5);
	CHECK_EQ(read(FD_APPEND, buf, 1), -1);
	CHECK_EQ(errno, EBADF);
	{
		int fd = open("b.txt", O_RDONLY | O_CLOEXEC);

		CHECK_SYS(fd);
		CHECK_EQ(pread(fd, buf, 5, 0), 5);
		CHECK(!memcmp(buf, "hello", 5));
		CHECK_EQ(pread(fd, buf, 5, size), 5);
		CHECK(!memcmp(buf, "world", 5));
		close(fd);
	}

	/* O_PATH: the same file, no I/O through it */
	CHECK_SYS(fstat(FD_OPATH, &st));
	CHECK_SYS(fstat(FD_RO, &st_a));
	CHECK_EQ(st.st_ino, st_a.st_ino);
	CHECK_EQ(st.st_dev, st_a.st_dev);
	CHECK_EQ(read(FD_OPATH, buf, 1), -1);
	CHECK_EQ(errno, EBADF);
}

static void check_devices(void)
{
	unsigned char buf[64];
	bool nonzero = false;

	check_rdev(FD_DEVNULL, 3);
	check_rdev(FD_ZERO, 5);
	check_rdev(FD_FULL, 7);
	check_rdev(FD_RANDOM, 8);
	check_rdev(FD_URANDOM, 9);

	CHECK_EQ(write(FD_DEVNULL, "abc", 3), 3);
	CHECK_EQ(read(FD_DEVNULL, buf, sizeof(buf)), 0);

	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(read(FD_ZERO, buf, sizeof(buf)), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0);
	CHECK_EQ(write(FD_ZERO, "x", 1), -1);
	CHECK_EQ(errno, EBADF);

	CHECK_EQ(write(FD_FULL, "abc", 3), -1);
	CHECK_EQ(errno, ENOSPC);

	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read(FD_URANDOM, buf, sizeof(buf)), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		nonzero |= buf[i] != 0;
	CHECK(nonzero);

	memset(buf, 0, sizeof(buf));
	nonzero = false;
	CHECK_EQ(read(FD_RANDOM, buf, 16), 16);
	for (size_t i = 0; i < 16; i++)
		nonzero |= buf[i] != 0;
	CHECK(nonzero);
}

int main(void)
{
	pid_t pid = getpid();

	scen_init();
	build();
	check_fd_table();
	scen_ready();
	scen_wait();
	CHECK_EQ(getpid(), pid);
	check_fd_table();
	check_regular();
	check_devices();
	check_dir();
	scen_pass();
}
