/*
 * test_fd_event.c: EVENTFD, SIGNALFD and TIMERFD records read into the
 * model: well-formed ones become descriptions of their kind, damaged ones
 * (short, wrong kind, a path, bad flags, counts, masks, clocks or times)
 * are refused with -EBADMSG before anything could use them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include "lib/unit.h"
#include "res/files.h"

static uint32_t next_id = 1;

static int read_rec(struct ck_image *img, uint32_t type, void *rec, uint32_t len)
{
	return res_for_type(type)->read(img, NULL, NULL, type, rec, len);
}

static struct ckpt_rec_file file(uint32_t kind)
{
	return (struct ckpt_rec_file){ .id = next_id++, .kind = kind, .flags = O_RDWR };
}

static const char *kind_of(struct ck_image *img, uint32_t id)
{
	struct ck_obj *o = objhash_by_id(&img->objs, id);

	return o && o->kind == OBJ_FILE ? ((struct ck_file *)o)->ops->name : NULL;
}

TEST(eventfd)
{
	struct ck_image img = { 0 };
	struct ckpt_rec_eventfd good = { .file = file(CKPT_FILE_EVENTFD),
					 .count = UINT64_MAX - 1,
					 .flags = CKPT_EVENTFD_SEMAPHORE },
				r;

	objhash_init(&img.objs);
	good.file.flags |= O_NONBLOCK;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &good, sizeof(good)), 0);
	T_STR(kind_of(&img, good.file.id), "eventfd");
	/* the same id twice */
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &good, sizeof(good)), -EBADMSG);

	r = good;
	r.file.id = next_id++;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r) - 8), -EBADMSG);
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r.file)), -EBADMSG);
	r.count = UINT64_MAX;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r = good;
	r.file.id = next_id++;
	r.flags = 2;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r.flags = 0;
	r.pad = 1;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r.pad = 0;
	r.file.flags = O_WRONLY;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r.file.flags = O_RDWR | O_APPEND;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r.file.flags = O_RDWR;
	r.file.path_len = 1;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r.file.path_len = 0;
	r.file.kind = CKPT_FILE_TIMERFD;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), -EBADMSG);
	r.file.kind = CKPT_FILE_EVENTFD;
	T_EQ(read_rec(&img, CKPT_REC_EVENTFD, &r, sizeof(r)), 0);
	model_release(&img);
}

TEST(signalfd)
{
	struct ck_image img = { 0 };
	struct ckpt_rec_signalfd good = { .file = file(CKPT_FILE_SIGNALFD),
					  .sigmask = (1ULL << (SIGUSR1 - 1)) | (1ULL << 40) },
				 r;

	objhash_init(&img.objs);
	T_EQ(read_rec(&img, CKPT_REC_SIGNALFD, &good, sizeof(good)), 0);
	T_STR(kind_of(&img, good.file.id), "signalfd");
	r = good;
	r.file.id = next_id++;
	r.sigmask |= 1ULL << (SIGKILL - 1);
	T_EQ(read_rec(&img, CKPT_REC_SIGNALFD, &r, sizeof(r)), -EBADMSG);
	r.sigmask = 1ULL << (SIGSTOP - 1);
	T_EQ(read_rec(&img, CKPT_REC_SIGNALFD, &r, sizeof(r)), -EBADMSG);
	r.sigmask = 0;
	r.file.pos = 1;
	T_EQ(read_rec(&img, CKPT_REC_SIGNALFD, &r, sizeof(r)), -EBADMSG);
	r.file.pos = 0;
	T_EQ(read_rec(&img, CKPT_REC_SIGNALFD, &r, sizeof(r) + 8), -EBADMSG);
	T_EQ(read_rec(&img, CKPT_REC_SIGNALFD, &r, sizeof(r)), 0);
	model_release(&img);
}

TEST(timerfd)
{
	struct ck_image img = { 0 };
	struct ckpt_rec_timerfd good = { .file = file(CKPT_FILE_TIMERFD),
					 .clockid = CLOCK_BOOTTIME_ALARM,
					 .settime_flags = CKPT_TIMERFD_ABSTIME,
					 .ticks = 3,
					 .value_ns = 1000,
					 .interval_ns = 10 },
				r;

	objhash_init(&img.objs);
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &good, sizeof(good)), 0);
	T_STR(kind_of(&img, good.file.id), "timerfd");

	r = good;
	r.file.id = next_id++;
	r.clockid = CLOCK_THREAD_CPUTIME_ID;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.clockid = -1;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.clockid = CLOCK_REALTIME;
	r.settime_flags = 4;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.settime_flags = CKPT_TIMERFD_ABSTIME | CKPT_TIMERFD_CANCEL_ON_SET;
	r.value_ns = -1;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.value_ns = INT64_MAX;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.value_ns = 0;
	r.interval_ns = -5;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.interval_ns = INT64_MAX / 2 + 1;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.interval_ns = 0;
	r.ticks = UINT64_MAX;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.ticks = 0;
	r.file.obj_id = 1;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), -EBADMSG);
	r.file.obj_id = 0;
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r) - 1), -EBADMSG);
	T_EQ(read_rec(&img, CKPT_REC_TIMERFD, &r, sizeof(r)), 0);
	model_release(&img);
}

int main(void)
{
	unit_file = "unit/fd_event";
	RUN(eventfd);
	RUN(signalfd);
	RUN(timerfd);
	return unit_done();
}
