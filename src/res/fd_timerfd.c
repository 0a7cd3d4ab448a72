/*
 * fd_timerfd.c: timerfd descriptions: the clock (realtime, monotonic,
 * boottime and their alarm variants), the flags of the last
 * timerfd_settime(), the period, the time left and the expirations not
 * read yet ("ticks"), from fdinfo; O_NONBLOCK is one of the common flags.
 *
 * Checkpoint reads them through a copy of the description (pidfd_getfd)
 * after a timerfd_gettime() on it: a periodic timer that expired is set
 * going again only when it is read, and the kernel counts the periods it
 * missed meanwhile on the next read or gettime; gettime folds them into
 * the ticks fdinfo shows, changing nothing a reader can see. Time left is
 * kept relative (the time the process spent checkpointed does not count,
 * the time restart takes after it set the timer does), except for
 * TFD_TIMER_ABSTIME timers, whose expiry stays the same point on their
 * clock. A cancel-on-set timer with expirations not read is
 * refused: one of them may be a clock change, which fdinfo does not tell
 * apart.
 *
 * At restart ckpt creates it with timerfd_create(), sets it going with
 * timerfd_settime() and gives back the expirations not read with the
 * TFD_IOC_SET_TICKS ioctl (CONFIG_CHECKPOINT_RESTORE). The ioctl replaces
 * the count, so an expiry that fell between the two calls would be lost:
 * expiries due in the next moment are counted at once instead, and the
 * two calls are made again if the first expiry came before the ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "res/files.h"
#include "util/compat.h"
#include "util/io.h"
#include "util/log.h"

#define NSEC 1000000000LL
/* times beyond it (2^62 ns, some 146 years) are refused, so sums cannot overflow */
#define TIME_MAX (INT64_MAX / 2)
#define TICKS_MAX (UINT64_MAX / 2)
/* expiries due within this of setting the timer are counted at once */
#define MARGIN_NS (1000000LL)
#define SET_TRIES 4
#define READ_TRIES 3
#define SETTIME_FLAGS (CKPT_TIMERFD_ABSTIME | CKPT_TIMERFD_CANCEL_ON_SET)

_Static_assert(CKPT_TIMERFD_ABSTIME == TFD_TIMER_ABSTIME, "abstime flag");
_Static_assert(CKPT_TIMERFD_CANCEL_ON_SET == TFD_TIMER_CANCEL_ON_SET, "cancel-on-set flag");

static const struct {
	int clock;
	int base; /* the clock its time is read on */
	const char *name;
} clocks[] = {
	{ CLOCK_REALTIME, CLOCK_REALTIME, "realtime" },
	{ CLOCK_MONOTONIC, CLOCK_MONOTONIC, "monotonic" },
	{ CLOCK_BOOTTIME, CLOCK_BOOTTIME, "boottime" },
	/* with no RTC clock_gettime() refuses the alarm clocks; same time */
	{ CLOCK_REALTIME_ALARM, CLOCK_REALTIME, "realtime-alarm" },
	{ CLOCK_BOOTTIME_ALARM, CLOCK_BOOTTIME, "boottime-alarm" },
};

static int clock_index(int clock)
{
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++)
		if (clocks[i].clock == clock)
			return (int)i;
	return -1;
}

static int64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clocks[clock_index(clock)].base, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / NSEC, .tv_nsec = ns % NSEC };
}

static bool is_timerfd(const struct fd_probe *pr)
{
	return !strcmp(pr->target, "anon_inode:[timerfd]");
}

static bool flags_ok(uint32_t flags)
{
	return (flags & O_ACCMODE) == O_RDWR && !(flags & ~(O_ACCMODE | O_NONBLOCK));
}

/* A periodic timer that expired and is not going again yet: the periods it
 * missed since are not counted, nor its next expiry known. */
static bool is_stalled(const struct proc_timerfd *t)
{
	return t->interval_ns && !t->value_ns && t->ticks;
}

struct timerfd {
	struct ckpt_rec_timerfd rec; /* its file part unused: ck_file.rec is */
	int dup; /* checkpoint: the copy it was read through, until written; else -1 */
};

/* The timer's state from dup, a copy of descriptor fd of process pid, with
 * the time left in value_ns (not yet made absolute). */
static int read_state(pid_t pid, int fd, int dup, struct proc_timerfd *ret)
{
	struct itimerspec its;
	char path[64], *text;
	int err = 0;

	for (int i = 0; i < READ_TRIES && !err; i++) {
		if (timerfd_gettime(dup, &its)) {
			err = -errno;
			log_err("pid %d fd %d: timerfd: cannot read its time: %s", pid, fd,
				strerror(errno));
			break;
		}
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", dup);
		err = io_slurp(path, &text, NULL);
		if (!err) {
			err = proc_parse_timerfd(text, ret) ? -EINVAL : 0;
			free(text);
		}
		if (err)
			log_err("pid %d fd %d: timerfd: cannot read its fdinfo: %s", pid, fd,
				strerror(-err));
		else if (!is_stalled(ret))
			break;
	}
	/* a period shorter than a gettime: it goes again a period from now */
	if (!err && is_stalled(ret))
		ret->value_ns = ret->interval_ns;
	if (!err && ret->value_ns && ret->settime_flags & CKPT_TIMERFD_ABSTIME)
		ret->value_ns += now_ns(ret->clockid);
	return err;
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct timerfd *tf;
	struct proc_timerfd t;
	char why[64];
	int pidfd, dup, err;

	(void)ctx;
	if (proc_parse_timerfd(pr->fdinfo, &t))
		return fd_refuse(pr, "timerfd", "cannot parse its fdinfo");
	if (clock_index(t.clockid) < 0) {
		snprintf(why, sizeof(why), "clock %d is not supported", t.clockid);
		return fd_refuse(pr, "timerfd", why);
	}
	if (t.settime_flags & ~SETTIME_FLAGS)
		return fd_refuse(pr, "timerfd", "unknown timerfd_settime() flags are set");
	if (!flags_ok(f->rec.flags))
		return fd_refuse(pr, "timerfd", "status flags other than O_NONBLOCK are set");

	/* the copy is close-on-exec */
	pidfd = (int)syscall(SYS_pidfd_open, pr->p->rec.pid, 0);
	dup = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, pr->fd, 0);
	if (dup < 0) {
		err = -errno;
		log_err("pid %d fd %d: timerfd: cannot get a copy of it: %s", pr->p->rec.pid,
			pr->fd, strerror(errno));
		if (pidfd >= 0)
			close(pidfd);
		return err;
	}
	close(pidfd);
	err = read_state(pr->p->rec.pid, pr->fd, dup, &t);
	if (!err && t.settime_flags & CKPT_TIMERFD_CANCEL_ON_SET && t.ticks)
		err = fd_refuse(pr, "timerfd",
				"a cancel-on-set timer with expirations not read is not supported");
	if (!err && (t.ticks > TICKS_MAX || t.value_ns > TIME_MAX || t.interval_ns > TIME_MAX))
		err = fd_refuse(pr, "timerfd", "its time or expiration count is out of range");
	tf = err ? NULL : calloc(1, sizeof(*tf));
	if (!tf) {
		close(dup);
		return err ? err : -ENOMEM;
	}
	tf->rec.clockid = t.clockid;
	tf->rec.settime_flags = t.settime_flags;
	tf->rec.ticks = t.ticks;
	tf->rec.interval_ns = t.interval_ns;
	tf->rec.value_ns = t.value_ns;
	tf->dup = dup;
	f->rec.kind = CKPT_FILE_TIMERFD;
	f->rec.pos = 0;
	f->priv = tf;
	return 0;
}

/* A timer that read as disarmed with nothing counted may have been one
 * caught between its expiry and the interrupt that counts it (the time
 * left never reads below 0): by now, with the whole tree collected, the
 * expiry is counted, and it is read again. */
static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct timerfd *tf = f->priv;
	struct iovec iov = { .iov_base = &tf->rec.clockid,
			     .iov_len = sizeof(tf->rec) - sizeof(tf->rec.file) };
	struct proc_timerfd t;
	int err = 0;

	if (tf->dup >= 0 && !tf->rec.value_ns && !tf->rec.ticks) {
		const char *why = NULL;

		err = read_state(f->dump_pid, f->dump_fd, tf->dup, &t);
		if (!err && t.ticks && t.settime_flags & CKPT_TIMERFD_CANCEL_ON_SET)
			why = "a cancel-on-set timer with expirations not read is not supported";
		else if (!err && (t.ticks > TICKS_MAX || t.value_ns > TIME_MAX))
			why = "its time or expiration count is out of range";
		if (why) {
			log_err("pid %d fd %d: timerfd: %s", f->dump_pid, f->dump_fd, why);
			err = -EOPNOTSUPP;
		} else if (!err) {
			tf->rec.settime_flags = t.settime_flags;
			tf->rec.ticks = t.ticks;
			tf->rec.value_ns = t.value_ns;
			tf->rec.interval_ns = t.interval_ns;
		}
	}
	if (tf->dup >= 0)
		close(tf->dup);
	tf->dup = -1;
	return err ? err : fd_write_rec(w, CKPT_REC_TIMERFD, f, &iov, 1);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_timerfd *r;
	struct timerfd *tf;
	int err;

	(void)img;
	err = res_check_len(CKPT_REC_TIMERFD, len, sizeof(*r), 0);
	if (err)
		return err;
	tf = malloc(sizeof(*tf));
	if (!tf)
		return -ENOMEM;
	memcpy(&tf->rec, data, sizeof(tf->rec));
	tf->dup = -1;
	f->priv = tf;
	r = &tf->rec;
	if (clock_index(r->clockid) < 0 || r->settime_flags & ~SETTIME_FLAGS ||
	    r->ticks > TICKS_MAX || r->value_ns < 0 || r->value_ns > TIME_MAX ||
	    r->interval_ns < 0 || r->interval_ns > TIME_MAX || !flags_ok(f->rec.flags) ||
	    f->rec.pos || f->rec.obj_id)
		return res_bad(CKPT_REC_TIMERFD, "is malformed");
	return 0;
}

/* One attempt: arms the timer, expiries due within margin counted at once,
 * and gives back the expirations; 1 if the first expiry may have come
 * before the count was set (and would be lost). */
static int set_timer(int tfd, const struct ckpt_rec_timerfd *r, int64_t margin)
{
	bool abs = r->settime_flags & CKPT_TIMERFD_ABSTIME;
	int64_t value = r->value_ns, start = now_ns(r->clockid), due;
	uint64_t ticks = r->ticks;
	struct itimerspec its;

	due = abs ? value - start : value;
	if (ticks && value && due < margin) {
		if (r->interval_ns) {
			int64_t k = (margin - due) / r->interval_ns + 1;

			value += k * r->interval_ns;
			ticks += (uint64_t)k;
		} else {
			value = 0;
			ticks++;
		}
	}
	its.it_value = ns_ts(value);
	its.it_interval = ns_ts(r->interval_ns);
	if ((value || r->interval_ns || r->settime_flags) &&
	    timerfd_settime(tfd, (int)r->settime_flags, &its, NULL))
		return -errno;
	if (ticks && ioctl(tfd, TFD_IOC_SET_TICKS, &ticks))
		return -errno;
	if (!ticks || !value)
		return 0;
	return (abs ? value : start + value) <= now_ns(r->clockid);
}

static int open_timerfd(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	const struct ckpt_rec_timerfd *r = &((const struct timerfd *)f->priv)->rec;
	int flags = TFD_CLOEXEC | (f->rec.flags & O_NONBLOCK ? TFD_NONBLOCK : 0), tfd, err;
	int64_t margin = MARGIN_NS;

	(void)ctx;
	tfd = timerfd_create(r->clockid, flags);
	if (tfd < 0) {
		err = -errno;
		log_err("pid %d fd %d: timerfd: cannot create a %s timer: %s", p->rec.pid, fd,
			clocks[clock_index(r->clockid)].name, strerror(errno));
		return err;
	}
	for (int i = 0; (err = set_timer(tfd, r, margin)) > 0 && i < SET_TRIES; i++)
		margin *= 8;
	if (err) {
		if (err > 0)
			err = -ETIME;
		log_err("pid %d fd %d: timerfd: cannot set it going again: %s", p->rec.pid, fd,
			err == -ETIME ? "it expired each time before its expirations were restored"
				      : strerror(-err));
		close(tfd);
		return err;
	}
	f->obj.fd = tfd;
	return 0;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct ckpt_rec_timerfd *r = &((const struct timerfd *)f->priv)->rec;

	show_str(s, "clock", clocks[clock_index(r->clockid)].name);
	if (r->settime_flags & CKPT_TIMERFD_ABSTIME)
		show_i64(s, "expiry_ns", r->value_ns);
	else
		show_i64(s, "left_ns", r->value_ns);
	show_i64(s, "interval_ns", r->interval_ns);
	show_u64(s, "ticks", r->ticks);
	if (r->settime_flags & CKPT_TIMERFD_CANCEL_ON_SET)
		show_bool(s, "cancel_on_set", true);
}

static void release(struct ck_file *f)
{
	struct timerfd *tf = f->priv;

	if (tf && tf->dup >= 0)
		close(tf->dup);
	free(tf);
	f->priv = NULL;
}

static const uint32_t kinds[] = { CKPT_FILE_TIMERFD, 0 };

const struct fd_ops fd_timerfd_ops = {
	.name = "timerfd",
	.kinds = kinds,
	.rec_type = CKPT_REC_TIMERFD,
	.is = is_timerfd,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_timerfd,
	.show = show,
	.release = release,
};
