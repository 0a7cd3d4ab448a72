/*
 * refuse_fd.c: a process holding at fd 3 a kind of descriptor ckpt refuses
 * by name; the argument says which. The runner checks that the checkpoint
 * fails with exit 3 and the kind in the message; after its SIGTERM the
 * process checks that the descriptor still works as before.
 *
 *   io_uring     an io_uring instance (io_uring_setup)
 *   userfaultfd  a userfaultfd (with its API handshake done)
 *   fanotify     a fanotify group
 *   perf         a perf event counting this process's task clock
 *   bpf          a BPF array map
 *   kmsg         /dev/kmsg, a character device ckpt does not handle
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/scen.h"

static void io_uring_setup_fd(void)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(syscall(SYS_io_uring_setup, 4, &p), 3);
}

static void io_uring_check(void)
{
	/* no submissions: entering the ring returns at once */
	CHECK_EQ(syscall(SYS_io_uring_enter, 3, 0, 0, 0, NULL, 0), 0);
}

static void userfaultfd_setup(void)
{
	struct uffdio_api api = { .api = UFFD_API };

	CHECK_EQ(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), 3);
	CHECK_SYS(ioctl(3, UFFDIO_API, &api));
}

static void userfaultfd_check(void)
{
	char c;

	/* no fault pending */
	CHECK_EQ(read(3, &c, 1), -1);
	CHECK(errno == EAGAIN || errno == EINVAL);
}

static void fanotify_setup(void)
{
	CHECK_EQ(fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY), 3);
}

static void fanotify_check(void)
{
	CHECK_SYS(fanotify_mark(3, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "."));
}

static void perf_setup(void)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	CHECK_EQ(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0), 3);
}

static void perf_check(void)
{
	uint64_t n;

	CHECK_EQ(read(3, &n, sizeof(n)), sizeof(n));
	CHECK(n > 0);
}

static union bpf_attr bpf_key_value(uint32_t key, uint64_t *value)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = 3;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)value;
	return a;
}

static void bpf_setup(void)
{
	union bpf_attr a;
	uint64_t v = 42;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	CHECK_EQ(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)), 3);
	a = bpf_key_value(0, &v);
	CHECK_SYS(syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a)));
}

static void bpf_check(void)
{
	uint64_t v = 0;
	union bpf_attr a = bpf_key_value(0, &v);

	CHECK_SYS(syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)));
	CHECK_EQ(v, 42);
}

static void kmsg_setup(void)
{
	CHECK_EQ(open("/dev/kmsg", O_RDONLY | O_NONBLOCK), 3);
}

static void kmsg_check(void)
{
	char buf[8192];

	/* the kernel log has records: reading one works */
	CHECK(read(3, buf, sizeof(buf)) > 0 || errno == EPIPE);
}

static const struct {
	const char *name;
	void (*setup)(void);
	void (*check)(void);
} cases[] = {
	{ "io_uring", io_uring_setup_fd, io_uring_check },
	{ "userfaultfd", userfaultfd_setup, userfaultfd_check },
	{ "fanotify", fanotify_setup, fanotify_check },
	{ "perf", perf_setup, perf_check },
	{ "bpf", bpf_setup, bpf_check },
	{ "kmsg", kmsg_setup, kmsg_check },
};

int main(int argc, char **argv)
{
	scen_init();
	if (argc != 2)
		scen_fail("usage: refuse_fd KIND");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		cases[i].setup();
		scen_ready();
		scen_wait();
		cases[i].check();
		scen_pass();
	}
	scen_fail("unknown kind '%s'", argv[1]);
}
