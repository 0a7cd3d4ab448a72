/*
 * test_locks.c: the parser of file lock lines, on fixed texts: the lock
 * lines of an fdinfo among its other fields, /proc/locks with waiters,
 * every kind the kernel prints (POSIX, OFDLCK, FLOCK, LEASE in its three
 * states, DELEG, UNKNOWN), mandatory locks of old kernels, locks without
 * an inode, and lines that must not parse. Then the LOCKS record as
 * restart reads it: every malformed field, a misplaced or repeated record,
 * a lock on an unknown file, on a directory, or on a file no descriptor of
 * the process reaches, is refused as damage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include "lib/unit.h"
#include "proc/proc.h"
#include "res/res.h"

static const char fdinfo_text[] = "pos:\t1000\n"
				  "flags:\t02100002\n"
				  "mnt_id:\t27\n"
				  "ino:\t10952800\n"
				  "lock:\t1: POSIX  ADVISORY  WRITE 27890 fe:00:10952800 0 99\n"
				  "lock:\t2: POSIX  ADVISORY  READ 27890 fe:00:10952800 500 EOF\n"
				  "lock:\t3: OFDLCK ADVISORY  WRITE -1 fe:00:10952800 10 29\n"
				  "lock:\t4: FLOCK  ADVISORY  READ 27890 fe:00:10952800 0 EOF\n";

TEST(fdinfo_lines)
{
	struct proc_lock *l;
	size_t n;

	T_EQ(proc_parse_locks(fdinfo_text, &l, &n), 0);
	T_EQ(n, 4);
	if (n != 4)
		return;
	T_EQ(l[0].kind, PROC_LOCK_POSIX);
	T_EQ(l[0].type, PROC_LOCK_WRITE);
	T_EQ(l[0].pid, 27890);
	T_EQX(l[0].dev_major, 0xfe);
	T_EQ(l[0].dev_minor, 0);
	T_EQ(l[0].ino, 10952800);
	T_EQ(l[0].start, 0);
	T_EQ(l[0].end, 99);
	T_OK(!l[0].to_eof && !l[0].mandatory && !l[0].waiting && !l[0].breaking);
	T_EQ(l[1].type, PROC_LOCK_READ);
	T_EQ(l[1].start, 500);
	T_OK(l[1].to_eof);
	T_EQX(l[1].end, INT64_MAX);
	T_EQ(l[2].kind, PROC_LOCK_OFD);
	T_EQ(l[2].pid, -1);
	T_EQ(l[2].start, 10);
	T_EQ(l[2].end, 29);
	T_EQ(l[3].kind, PROC_LOCK_FLOCK);
	T_EQ(l[3].type, PROC_LOCK_READ);
	T_OK(l[3].to_eof);
	free(l);
}

TEST(no_locks)
{
	struct proc_lock *l = (struct proc_lock *)1;
	size_t n = 9;

	T_EQ(proc_parse_locks("pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t5\n", &l, &n), 0);
	T_EQ(n, 0);
	T_OK(l == NULL);
	T_EQ(proc_parse_locks("", &l, &n), 0);
	T_EQ(n, 0);
}

/* /proc/locks, with a waiter, leases in every state, a delegation, a lock
 * the kernel cannot name, and a mandatory lock as old kernels print it */
static const char locks_text[] = "1: POSIX  ADVISORY  WRITE 4242 08:01:1234 100 199\n"
				 "1: -> POSIX  ADVISORY  WRITE 4243 08:01:1234 150 150\n"
				 "2: LEASE  ACTIVE    READ 77 00:1f:99 0 EOF\n"
				 "3: LEASE  BREAKING  UNLCK 78 00:1f:98 0 EOF\n"
				 "4: LEASE  BREAKER   READ 79 00:1f:97 0 EOF\n"
				 "5: DELEG  ACTIVE    READ 80 00:1f:96 0 EOF\n"
				 "6: UNKNOWN UNKNOWN  READ 81 00:1f:95 0 EOF\n"
				 "7: POSIX  MANDATORY WRITE 82 103:02:7 0 0\n"
				 "8: POSIX  *NOINODE* READ 0 <none>:0 5 9\n";

TEST(proc_locks)
{
	struct proc_lock *l;
	size_t n;

	T_EQ(proc_parse_locks(locks_text, &l, &n), 0);
	T_EQ(n, 9);
	if (n != 9)
		return;
	T_OK(!l[0].waiting);
	T_OK(l[1].waiting);
	T_EQ(l[1].pid, 4243);
	T_EQ(l[1].start, 150);
	T_EQ(l[1].end, 150);
	T_EQ(l[2].kind, PROC_LOCK_LEASE);
	T_OK(!l[2].breaking);
	T_EQ(l[2].type, PROC_LOCK_READ);
	T_EQ(l[2].dev_minor, 0x1f);
	T_EQ(l[3].kind, PROC_LOCK_LEASE);
	T_OK(l[3].breaking);
	T_EQ(l[3].type, PROC_LOCK_UNLCK);
	T_OK(l[4].breaking);
	T_EQ(l[5].kind, PROC_LOCK_OTHER);
	T_EQ(l[6].kind, PROC_LOCK_OTHER);
	T_EQ(l[7].kind, PROC_LOCK_POSIX);
	T_OK(l[7].mandatory);
	T_EQX(l[7].dev_major, 0x103);
	T_EQ(l[7].dev_minor, 2);
	T_EQ(l[7].ino, 7);
	T_EQ(l[7].end, 0);
	T_EQ(l[8].pid, 0);
	T_EQ(l[8].ino, 0);
	T_EQ(l[8].dev_major, 0);
	T_EQ(l[8].start, 5);
	free(l);
}

TEST(bad_lines)
{
	static const char *const bad[] = {
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 0\n", /* no end */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 9 5\n", /* end before start */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 -1 5\n", /* negative start */
		"lock:\t1: POSIX  ADVISORY  MAYBE 1 08:01:2 0 5\n", /* unknown type */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 0801 0 5\n", /* no inode */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 0 5 6\n", /* a field too many */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 0 5x\n", /* junk end */
		"lock:\t1 POSIX  ADVISORY  WRITE 1 08:01:2 0 5\n", /* no colon */
		"1: POSIX  ADVISORY  WRITE 1 08:01:2 0 -5\n", /* negative end */
	};
	struct proc_lock *l;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proc_parse_locks(bad[i], &l, &n) != -EINVAL)
			T_FAIL("accepted '%s'", bad[i]);
}

/* An image with one process (pid 10) whose fd 3 reaches file 1, a regular
 * file, and which also knows file 2, a directory, and file 3, a regular
 * file no descriptor reaches. */
static void setup_image(struct ck_image *img, struct ck_proc **ret_p)
{
	const struct res_ops *files = res_for_type(CKPT_REC_FILE);
	struct {
		struct ckpt_rec_file f;
		char path[8];
	} file = { .f = { .id = 1, .kind = CKPT_FILE_REG, .flags = O_RDWR, .path_len = 6 },
		   .path = "/a.dat" };
	struct ckpt_rec_fd fd = { .fd = 3, .file_id = 1 };
	struct ck_proc *p;

	*img = (struct ck_image){ 0 };
	objhash_init(&img->objs);
	p = model_add_proc(img, 10);
	T_OK(p != NULL);
	T_EQ(files->read(img, NULL, NULL, CKPT_REC_FILE, &file, sizeof(file.f) + 6), 0);
	file.f.id = 2;
	file.f.kind = CKPT_FILE_DIR;
	file.f.flags = O_RDONLY | O_DIRECTORY;
	T_EQ(files->read(img, NULL, NULL, CKPT_REC_FILE, &file, sizeof(file.f) + 6), 0);
	file.f.id = 3;
	file.f.kind = CKPT_FILE_REG;
	file.f.flags = O_RDONLY;
	T_EQ(files->read(img, NULL, NULL, CKPT_REC_FILE, &file, sizeof(file.f) + 6), 0);
	T_EQ(files->read(img, p, NULL, CKPT_REC_FD, &fd, sizeof(fd)), 0);
	*ret_p = p;
}

struct locks_rec {
	struct ckpt_rec_locks h;
	struct ckpt_lock l[2];
};

/* Reads rec (holding n locks, len bytes if not 0) into a fresh image and
 * validates it; returns the first error. */
static int read_locks(const struct locks_rec *rec, uint32_t n, uint32_t len, bool in_proc,
		      uint32_t *ret_nlocks)
{
	const struct res_ops *files = res_for_type(CKPT_REC_LOCKS);
	struct ck_image img;
	struct ck_proc *p;
	int err;

	setup_image(&img, &p);
	err = files->read(&img, in_proc ? p : NULL, NULL, CKPT_REC_LOCKS, rec,
			  len ? len : (uint32_t)(sizeof(rec->h) + n * sizeof(rec->l[0])));
	if (!err)
		err = files->validate(&img, p);
	if (ret_nlocks)
		*ret_nlocks = p->nlocks;
	model_release(&img);
	return err;
}

static const struct locks_rec good = {
	.h = { .count = 2 },
	.l = { { .file_id = 1,
		 .kind = CKPT_LOCK_POSIX,
		 .type = CKPT_LOCK_WRITE,
		 .start = 5,
		 .len = 10 },
	       { .file_id = 1, .kind = CKPT_LOCK_FLOCK, .type = CKPT_LOCK_READ } },
};

TEST(record_good)
{
	uint32_t n = 0;
	struct locks_rec r = good;

	T_EQ(read_locks(&good, 2, 0, true, &n), 0);
	T_EQ(n, 2);
	/* an OFD lock to the end of the file, starting at the last offset */
	r.l[1] = (struct ckpt_lock){
		.file_id = 1, .kind = CKPT_LOCK_OFD, .type = CKPT_LOCK_READ, .start = INT64_MAX
	};
	T_EQ(read_locks(&r, 2, 0, true, NULL), 0);
	r.l[1].start = 1;
	r.l[1].len = INT64_MAX;
	T_EQ(read_locks(&r, 2, 0, true, NULL), 0);
}

/* good, with damage number i done to it; false past the last */
static bool damage(struct locks_rec *r, int i)
{
	*r = good;
	switch (i) {
	case 0:
		r->l[0].kind = 0;
		break;
	case 1:
		r->l[0].kind = 4;
		break;
	case 2:
		r->l[0].type = 0;
		break;
	case 3:
		r->l[0].type = 3;
		break;
	case 4:
		r->l[0].pad = 1;
		break;
	case 5:
		r->h.pad = 1;
		break;
	case 6:
		r->l[1].start = 1; /* a flock has no range */
		break;
	case 7:
		r->l[1].len = 1;
		break;
	case 8:
		r->l[0].start = (uint64_t)INT64_MAX + 1;
		break;
	case 9:
		r->l[0].start = 0;
		r->l[0].len = (uint64_t)INT64_MAX + 1;
		break;
	case 10:
		r->l[0].start = INT64_MAX;
		r->l[0].len = 2; /* past the last offset */
		break;
	case 11:
		r->l[0].file_id = 9; /* no such file */
		break;
	case 12:
		r->l[0].file_id = 2; /* a directory */
		break;
	case 13:
		r->l[1].file_id = 3; /* no descriptor of the process reaches it */
		break;
	case 14:
		r->h.count = 0;
		break;
	default:
		return false;
	}
	return true;
}

TEST(record_damaged)
{
	struct locks_rec r;

	for (int i = 0; damage(&r, i); i++)
		if (read_locks(&r, r.h.count, 0, true, NULL) != -EBADMSG)
			T_FAIL("damage %d was not refused", i);
	/* a count the length does not match, a truncated header */
	r = good;
	T_EQ(read_locks(&r, 2, sizeof(r.h) + sizeof(r.l[0]), true, NULL), -EBADMSG);
	T_EQ(read_locks(&r, 2, 4, true, NULL), -EBADMSG);
	/* outside a process section */
	T_EQ(read_locks(&good, 2, 0, false, NULL), -EBADMSG);
}

TEST(record_repeated)
{
	const struct res_ops *files = res_for_type(CKPT_REC_LOCKS);
	uint32_t len = sizeof(good.h) + 2 * sizeof(good.l[0]);
	struct ck_image img;
	struct ck_proc *p;

	setup_image(&img, &p);
	T_EQ(files->read(&img, p, NULL, CKPT_REC_LOCKS, &good, len), 0);
	T_EQ(files->read(&img, p, NULL, CKPT_REC_LOCKS, &good, len), -EBADMSG);
	model_release(&img);
}

int main(void)
{
	unit_file = "unit/locks";
	RUN(fdinfo_lines);
	RUN(no_locks);
	RUN(proc_locks);
	RUN(bad_lines);
	RUN(record_good);
	RUN(record_damaged);
	RUN(record_repeated);
	return unit_done();
}
