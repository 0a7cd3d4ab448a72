/*
 * mem_special.c: the special mappings work after restart. The [vdso],
 * [vvar] and [vvar_vclock] areas of /proc/self/maps have the same
 * addresses and sizes as before and AT_SYSINFO_EHDR still points at the
 * vdso. The vdso's functions, called both through glibc and directly at
 * the addresses its symbol table gives (so the vdso code itself runs,
 * reading the time data in [vvar]), agree with the system calls:
 * clock_gettime for CLOCK_MONOTONIC and CLOCK_REALTIME, gettimeofday and
 * time within a few milliseconds, monotonic time never going back from
 * before the checkpoint; getcpu, with the thread pinned to one CPU,
 * returns that CPU.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define SLACK_NS (50 * 1000000LL)

static const char *const names[] = {"[vdso]", "[vvar]", "[vvar_vclock]"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

struct area {
	unsigned long start, end;
	char perms[5];
};

static char text[1 << 18];

static void slurp(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		scen_fail("open %s: %m", path);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			scen_fail("read %s: %m", path);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1)
			scen_fail("%s is too big", path);
	}
	buf[len] = '\0';
	close(fd);
}

/* The areas named names[] (zero when absent). */
static void specials(struct area out[NNAMES])
{
	memset(out, 0, NNAMES * sizeof(*out));
	slurp("/proc/self/maps", text, sizeof(text));
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		char *sp;

		if (nl)
			*nl = '\0';
		sp = strrchr(line, ' ');
		for (size_t i = 0; sp && i < NNAMES; i++)
			if (!strcmp(sp + 1, names[i])) {
				CHECK(!out[i].start);
				CHECK_EQ(sscanf(line, "%lx-%lx %4s", &out[i].start, &out[i].end,
						out[i].perms),
					 3);
			}
		if (!nl)
			break;
		line = nl + 1;
	}
}

/* ---- the vdso's own symbols ---- */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned int *, unsigned int *, void *);

static void *vdso_sym(const char *name)
{
	const char *base = (const char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Shdr *sh;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	unsigned long bias = 0;

	CHECK(base && !memcmp(eh->e_ident, ELFMAG, SELFMAG));
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			bias = (unsigned long)base + ph[i].p_offset - ph[i].p_vaddr;
			break;
		}
	sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		str = base + sh[sh[i].sh_link].sh_offset;
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
			if (sym[k].st_name && !strcmp(str + sym[k].st_name, name) &&
			    ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC && sym[k].st_shndx)
				return (void *)(bias + sym[k].st_value);
	}
	scen_fail("the vdso has no %s", name);
}

static long long ts_ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static long long sys_clock(clockid_t clk)
{
	struct timespec ts;

	CHECK_SYS(syscall(SYS_clock_gettime, clk, &ts));
	return ts_ns(&ts);
}

/* The vdso's clock reading is between two system call readings. */
static long long check_clock(clockid_t clk, const char *what)
{
	clock_gettime_fn vdso_cg = (clock_gettime_fn)vdso_sym("__vdso_clock_gettime");
	struct timespec v, g;
	long long a, b;

	a = sys_clock(clk);
	CHECK_EQ(vdso_cg(clk, &v), 0);
	CHECK_EQ(clock_gettime(clk, &g), 0);
	b = sys_clock(clk);
	if (ts_ns(&v) < a - SLACK_NS || ts_ns(&v) > b + SLACK_NS)
		scen_fail("%s: vdso says %lld, the system call %lld..%lld", what, ts_ns(&v), a, b);
	if (ts_ns(&g) < a - SLACK_NS || ts_ns(&g) > b + SLACK_NS)
		scen_fail("%s: glibc says %lld, the system call %lld..%lld", what, ts_ns(&g), a, b);
	return ts_ns(&v);
}

static void check_vdso(void)
{
	gettimeofday_fn vdso_gtod = (gettimeofday_fn)vdso_sym("__vdso_gettimeofday");
	time_fn vdso_time = (time_fn)vdso_sym("__vdso_time");
	getcpu_fn vdso_getcpu = (getcpu_fn)vdso_sym("__vdso_getcpu");
	long long a, b, us;
	struct timeval tv;
	time_t t;
	unsigned int cpu, node, scpu, snode;
	cpu_set_t old, one;

	check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	check_clock(CLOCK_REALTIME, "CLOCK_REALTIME");

	a = sys_clock(CLOCK_REALTIME) / 1000;
	CHECK_EQ(vdso_gtod(&tv, NULL), 0);
	us = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	b = sys_clock(CLOCK_REALTIME) / 1000;
	if (us < a - SLACK_NS / 1000 || us > b + SLACK_NS / 1000)
		scen_fail("gettimeofday (vdso) says %lld us, the system call %lld..%lld", us, a, b);
	CHECK_EQ(gettimeofday(&tv, NULL), 0);
	us = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	if (us < a - SLACK_NS / 1000 || us > sys_clock(CLOCK_REALTIME) / 1000 + SLACK_NS / 1000)
		scen_fail("gettimeofday (glibc) says %lld us", us);

	/* time() reads the coarse clock, which lags up to a tick behind the
	 * precise one: across a second boundary it may say one second less */
	a = sys_clock(CLOCK_REALTIME) / 1000000000 - 1;
	t = vdso_time(NULL);
	b = sys_clock(CLOCK_REALTIME) / 1000000000;
	if (t < a || t > b)
		scen_fail("time (vdso) says %lld, the system call %lld..%lld", (long long)t, a, b);
	t = time(NULL);
	if (t < a || t > sys_clock(CLOCK_REALTIME) / 1000000000)
		scen_fail("time (glibc) says %lld", (long long)t);

	/* getcpu, pinned to the CPU we are on */
	CHECK_SYS(sched_getaffinity(0, sizeof(old), &old));
	CHECK_SYS(syscall(SYS_getcpu, &scpu, &snode, NULL));
	CPU_ZERO(&one);
	CPU_SET(scpu, &one);
	CHECK_SYS(sched_setaffinity(0, sizeof(one), &one));
	CHECK_SYS(syscall(SYS_getcpu, &scpu, &snode, NULL));
	CHECK_EQ(vdso_getcpu(&cpu, &node, NULL), 0);
	CHECK_EQ(cpu, scpu);
	CHECK_EQ(node, snode);
	CHECK_EQ(sched_getcpu(), (int)scpu);
	CHECK_SYS(sched_setaffinity(0, sizeof(old), &old));
}

int main(void)
{
	struct area before[NNAMES], after[NNAMES];
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	long long mono_before;

	scen_init();
	specials(before);
	if (!before[0].start || !before[1].start)
		scen_fail("no [vdso] or [vvar] in /proc/self/maps");
	CHECK_EQ(ehdr, before[0].start);
	check_vdso();
	mono_before = check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	scen_ready();
	scen_wait();

	specials(after);
	for (size_t i = 0; i < NNAMES; i++) {
		if (after[i].start != before[i].start || after[i].end != before[i].end)
			scen_fail("%s was at %lx-%lx, is at %lx-%lx", names[i], before[i].start,
				  before[i].end, after[i].start, after[i].end);
		if (strcmp(after[i].perms, before[i].perms))
			scen_fail("%s was %s, is %s", names[i], before[i].perms, after[i].perms);
	}
	CHECK_EQ(getauxval(AT_SYSINFO_EHDR), ehdr);
	if (check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC") < mono_before)
		scen_fail("CLOCK_MONOTONIC went back across the restart");
	check_vdso();
	scen_pass();
}
