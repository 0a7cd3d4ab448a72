/*
 * test_fdinfo_poll.c: the parsers of epoll and inotify fdinfo and of
 * mountinfo on fixed texts as this kernel prints them: entries with every
 * flag bit, watches with and without a file handle, escaped mount paths,
 * and malformed lines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/unit.h"
#include "proc/proc.h"

TEST(epoll_entries)
{
	static const char text[] =
		"pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1039\n"
		"tfd:        3 events: 80000019 data: 1122334455667788  pos:0 ino:40f sdev:10\n"
		"tfd:       12 events: 40000000 data:                0  pos:0 ino:6 sdev:6\n"
		"tfd:        4 events:       19 data: ffffffffffffffff\n";
	struct proc_epoll_entry *e;
	size_t n;

	T_EQ(proc_parse_epoll(text, &e, &n), 0);
	T_EQ(n, 3);
	T_EQ(e[0].tfd, 3);
	T_EQX(e[0].events, 0x80000019);
	T_EQX(e[0].data, 0x1122334455667788ULL);
	T_EQX(e[0].ino, 0x40f);
	T_EQX(e[0].sdev, 0x10);
	T_EQ(e[1].tfd, 12);
	T_EQX(e[1].events, 0x40000000);
	T_EQX(e[1].data, 0);
	T_EQ(e[2].tfd, 4);
	T_EQX(e[2].data, 0xffffffffffffffffULL);
	T_EQ(e[2].ino, 0);
	free(e);
	T_EQ(proc_parse_epoll("pos:\t0\nflags:\t02\n", &e, &n), 0);
	T_EQ(n, 0);
	free(e);
	T_EQ(proc_parse_epoll("tfd: 3 events: zz data: 1\n", &e, &n), -EINVAL);
	T_EQ(proc_parse_epoll("tfd: -1 events: 1 data: 1\n", &e, &n), -EINVAL);
}

TEST(inotify_watches)
{
	static const char text[] = "pos:\t0\nflags:\t04000\nmnt_id:\t17\nino:\t1039\n"
				   "inotify wd:1f ino:a720f3 sdev:fe00000 mask:84000100 "
				   "ignored_mask:0 fhandle-bytes:8 fhandle-type:1 "
				   "f_handle:f320a700a269aefd\n"
				   "inotify wd:1 ino:3c51a sdev:fe00001 mask:2 ignored_mask:0\n";
	struct proc_inotify_watch *w;
	size_t n;

	T_EQ(proc_parse_inotify(text, &w, &n), 0);
	T_EQ(n, 2);
	T_EQ(w[0].wd, 0x1f);
	T_EQX(w[0].ino, 0xa720f3);
	T_EQX(w[0].sdev, 0xfe00000);
	T_EQ(proc_kdev_major(w[0].sdev), 254);
	T_EQ(proc_kdev_minor(w[0].sdev), 0);
	T_EQX(w[0].mask, 0x84000100);
	T_EQ(w[0].handle_bytes, 8);
	T_EQ(w[0].handle_type, 1);
	T_EQX(w[0].handle[0], 0xf3);
	T_EQX(w[0].handle[7], 0xfd);
	T_EQ(w[1].wd, 1);
	T_EQ(w[1].handle_bytes, 0); /* no handle on its line, not the first line's */
	T_EQ(proc_kdev_minor(w[1].sdev), 1);
	free(w);
	/* a handle shorter than it claims, a bad wd, a line cut short */
	T_EQ(proc_parse_inotify("inotify wd:1 ino:1 sdev:1 mask:2 ignored_mask:0 "
				"fhandle-bytes:8 fhandle-type:1 f_handle:f320\n",
				&w, &n),
	     -EINVAL);
	T_EQ(proc_parse_inotify("inotify wd:0 ino:1 sdev:1 mask:2 ignored_mask:0\n", &w, &n),
	     -EINVAL);
	T_EQ(proc_parse_inotify("inotify wd:1 ino:1 sdev:1\n", &w, &n), -EINVAL);
	T_EQ(proc_parse_inotify("inotify wd:1 ino:1 sdev:1 mask:2 ignored_mask:0 "
				"fhandle-bytes:ff fhandle-type:1 f_handle:00\n",
				&w, &n),
	     -EINVAL);
}

TEST(mountinfo)
{
	static const char text[] =
		"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
		"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
		"40 27 254:0 /srv/a\\040b /mnt/x\\134y rw shared:1 - ext4 /dev/vda rw\n";
	struct proc_mount *m;
	size_t n;

	T_EQ(proc_parse_mountinfo(text, &m, &n), 0);
	T_EQ(n, 3);
	T_EQ(m[0].id, 22);
	T_EQ(m[0].parent, 27);
	T_EQ(m[0].major, 0);
	T_EQ(m[0].minor, 21);
	T_STR(m[0].point, "/proc");
	T_EQ(m[1].major, 254);
	T_STR(m[1].root, "/");
	T_STR(m[1].point, "/");
	T_STR(m[2].root, "/srv/a b");
	T_STR(m[2].point, "/mnt/x\\y");
	proc_mounts_release(m, n);
	T_EQ(proc_parse_mountinfo("22 27 0:21 /\n", &m, &n), -EINVAL);
	T_EQ(proc_parse_mountinfo("x y\n", &m, &n), -EINVAL);
	T_EQ(proc_parse_mountinfo("1 2 3:4 relative /p rw - x y rw\n", &m, &n), -EINVAL);
}

TEST(mountinfo_self)
{
	struct proc_mount *m;
	size_t n;
	bool root = false;

	T_EQ(proc_read_mountinfo(0, &m, &n), 0);
	for (size_t i = 0; i < n; i++)
		root |= !strcmp(m[i].point, "/");
	T_OK(root);
	proc_mounts_release(m, n);
}

int main(void)
{
	unit_file = "unit/fdinfo_poll";
	RUN(epoll_entries);
	RUN(inotify_watches);
	RUN(mountinfo);
	RUN(mountinfo_self);
	return unit_done();
}
