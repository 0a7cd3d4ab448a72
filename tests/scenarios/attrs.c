/*
 * attrs.c: the attributes a process carries besides its memory and files
 * come back as they were: its name (PR_SET_NAME, /proc/self/comm), working
 * directory (a subdirectory with a space in its name), umask, all 16
 * resource limits (several soft limits lowered, the core hard limit too),
 * the action of every signal (handlers with SA_SIGINFO, SA_RESTART,
 * SA_NODEFER, SA_RESETHAND, SA_ONSTACK and masks; ignored; default), the
 * blocked mask, blocked signals pending per thread and process-wide with
 * their siginfo and queue order, an alternate signal stack (SS_AUTODISARM)
 * that an SA_ONSTACK handler really runs on, and the parent-death signal.
 *
 * Every check compares with the state recorded before the file "ready"
 * is created; then handled signals are raised to prove the handlers run
 * with their flags and masks, and the pending signals are taken with
 * rt_sigtimedwait. "attrs sigsuspend" also checks the mask that sigsuspend
 * restores when it returns (see wait_in_sigsuspend).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/scen.h"

#define NAME "attrs-name-1234" /* 15 characters, the most a name holds */
#define SUBDIR "sub dir"
#define UMASK 0027
#define ALTSTACK_SIZE (256 << 10)
#define SS_AUTODISARM_ ((int)(1U << 31)) /* linux/signal.h's SS_AUTODISARM */

/* The kernel's struct sigaction on x86_64. */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

static struct ksigaction act_before[65];
static struct rlimit rlim_before[RLIM_NLIMITS];
static uint64_t blocked_before;
static char cwd_before[PATH_MAX];
static struct stat cwd_st;
static void *altstack;

static volatile sig_atomic_t usr1_hits, hup_hits, int_hits, alrm_hits, alrm_on_altstack;
static siginfo_t usr1_info;
static sigset_t usr1_mask, hup_mask;

static void get_action(int sig, struct ksigaction *a)
{
	memset(a, 0, sizeof(*a));
	if (syscall(SYS_rt_sigaction, sig, NULL, a, 8))
		scen_fail("rt_sigaction(%d): %m", sig);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr1_info = *si;
	sigprocmask(SIG_BLOCK, NULL, &usr1_mask);
	usr1_hits++;
}

static void on_hup(int sig)
{
	(void)sig;
	sigprocmask(SIG_BLOCK, NULL, &hup_mask);
	hup_hits++;
}

static void on_int(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	int_hits++;
}

static void on_alrm(int sig, siginfo_t *si, void *uc)
{
	char here;

	(void)sig;
	(void)si;
	(void)uc;
	alrm_on_altstack = &here >= (char *)altstack && &here < (char *)altstack + ALTSTACK_SIZE;
	alrm_hits++;
}

static void set_action(int sig, void *handler, int flags, const int *mask_sigs)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (; mask_sigs && *mask_sigs; mask_sigs++)
		sigaddset(&sa.sa_mask, *mask_sigs);
	sa.sa_flags = flags;
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = handler;
	else
		sa.sa_handler = handler;
	CHECK_SYS(sigaction(sig, &sa, NULL));
}

static void lower_soft(int res, rlim_t want)
{
	struct rlimit r;

	CHECK_SYS(getrlimit(res, &r));
	r.rlim_cur = r.rlim_max != RLIM_INFINITY && r.rlim_max < want ? r.rlim_max : want;
	CHECK_SYS(setrlimit(res, &r));
}

/* scen_ready() creates "ready" in the working directory, which is no
 * longer the runner's directory: the same, by absolute path. */
static void ready_in(const char *dir)
{
	char path[PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/ready", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		scen_fail("cannot create '%s': %m", path);
	close(fd);
}

static void build(char *top, size_t toplen)
{
	const int usr1_mask_sigs[] = { SIGINT, SIGQUIT, 0 };
	const int hup_mask_sigs[] = { SIGCHLD, SIGTTIN, SIGRTMIN + 6, 0 };
	const int int_mask_sigs[] = { SIGQUIT, SIGUSR1, 0 };
	const int ign_sigs[] = { SIGPIPE, SIGTTOU, SIGXFSZ, SIGRTMIN + 3, 0 };
	const int dfl_sigs[] = { SIGQUIT, SIGCHLD, SIGTSTP, SIGRTMIN + 5, 0 };
	stack_t ss = { .ss_size = ALTSTACK_SIZE, .ss_flags = SS_AUTODISARM_ };
	union sigval v;
	sigset_t set;
	struct rlimit core;

	/* name */
	CHECK_SYS(prctl(PR_SET_NAME, NAME));
	/* directory and umask */
	CHECK(getcwd(top, toplen));
	if (mkdir(SUBDIR, 0755) && errno != EEXIST)
		scen_fail("mkdir: %m");
	CHECK_SYS(chdir(SUBDIR));
	CHECK(getcwd(cwd_before, sizeof(cwd_before)));
	CHECK_SYS(stat(".", &cwd_st));
	umask(UMASK);
	/* limits: soft ones lowered, and the core hard limit */
	lower_soft(RLIMIT_NOFILE, 200);
	lower_soft(RLIMIT_STACK, 6 << 20);
	lower_soft(RLIMIT_CPU, 100000);
	lower_soft(RLIMIT_MSGQUEUE, 400000);
	lower_soft(RLIMIT_SIGPENDING, 1000);
	lower_soft(RLIMIT_MEMLOCK, 1 << 20);
	CHECK_SYS(getrlimit(RLIMIT_CORE, &core));
	CHECK(core.rlim_max > 1);
	if (core.rlim_max == RLIM_INFINITY || core.rlim_max > (4 << 20))
		core.rlim_max = 4 << 20;
	else
		core.rlim_max--;
	core.rlim_cur = core.rlim_max / 4;
	CHECK_SYS(setrlimit(RLIMIT_CORE, &core));
	for (int i = 0; i < RLIM_NLIMITS; i++)
		CHECK_SYS(getrlimit(i, &rlim_before[i]));
	/* signal actions: handlers with various flags and masks, ignored, default */
	set_action(SIGUSR1, on_usr1, SA_SIGINFO | SA_RESTART, usr1_mask_sigs);
	set_action(SIGHUP, on_hup, SA_RESTART | SA_NODEFER, hup_mask_sigs);
	set_action(SIGINT, on_int, SA_SIGINFO | SA_RESETHAND, int_mask_sigs);
	set_action(SIGALRM, on_alrm, SA_SIGINFO | SA_ONSTACK, NULL);
	for (const int *s = ign_sigs; *s; s++)
		CHECK(signal(*s, SIG_IGN) != SIG_ERR);
	/* default, whatever was inherited (a shell's background job ignores
	 * SIGQUIT) */
	for (const int *s = dfl_sigs; *s; s++)
		CHECK(signal(*s, SIG_DFL) != SIG_ERR);
	for (int sig = 1; sig <= 64; sig++)
		get_action(sig, &act_before[sig]);
	/* alternate signal stack */
	altstack = malloc(ALTSTACK_SIZE);
	CHECK(altstack);
	ss.ss_sp = altstack;
	CHECK_SYS(sigaltstack(&ss, NULL));
	/* blocked mask: SIGTERM stays deliverable */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGPROF);
	sigaddset(&set, SIGURG);
	sigaddset(&set, SIGRTMIN + 2);
	sigaddset(&set, SIGRTMIN + 4);
	sigaddset(&set, SIGRTMAX);
	CHECK_SYS(sigprocmask(SIG_SETMASK, &set, NULL));
	CHECK_SYS(sigprocmask(SIG_BLOCK, NULL, &set));
	blocked_before = scen_sigset_word(&set);
	CHECK(!(blocked_before & scen_sigbit(SIGTERM)));
	/* pending: per thread SIGUSR2 and SIGRTMIN+4, process-wide
	 * SIGRTMIN+2 twice and SIGRTMIN+4 once */
	CHECK_SYS(raise(SIGUSR2));
	v.sival_int = 3333;
	CHECK_SYS(sigqueue(getpid(), SIGRTMIN + 4, v));
	v.sival_int = 1111;
	CHECK_SYS(sigqueue(getpid(), SIGRTMIN + 2, v));
	v.sival_int = 2222;
	CHECK_SYS(sigqueue(getpid(), SIGRTMIN + 2, v));
	v.sival_int = 4444;
	CHECK(pthread_sigqueue(pthread_self(), SIGRTMIN + 4, v) == 0);
	/* parent-death signal */
	CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGUSR1));
}

static void check_name(void)
{
	char name[17] = "", comm[64] = "";
	int fd;
	ssize_t n;

	CHECK_SYS(prctl(PR_GET_NAME, name));
	if (strcmp(name, NAME))
		scen_fail("PR_GET_NAME gives '%s', not '%s'", name, NAME);
	fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	CHECK_SYS(fd);
	n = read(fd, comm, sizeof(comm) - 1);
	CHECK_SYS(n);
	close(fd);
	if (strcmp(comm, NAME "\n"))
		scen_fail("/proc/self/comm holds '%s'", comm);
}

static void check_fs(void)
{
	char cwd[PATH_MAX];
	struct stat st;
	mode_t m;

	CHECK(getcwd(cwd, sizeof(cwd)));
	if (strcmp(cwd, cwd_before))
		scen_fail("working directory '%s', was '%s'", cwd, cwd_before);
	CHECK_SYS(stat(".", &st));
	CHECK_EQ(st.st_dev, cwd_st.st_dev);
	CHECK_EQ(st.st_ino, cwd_st.st_ino);
	m = umask(0);
	umask(m);
	if (m != UMASK)
		scen_fail("umask %04o, was %04o", (unsigned int)m, UMASK);
}

static void check_rlimits(void)
{
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		struct rlimit r;

		CHECK_SYS(getrlimit(i, &r));
		if (r.rlim_cur != rlim_before[i].rlim_cur || r.rlim_max != rlim_before[i].rlim_max)
			scen_fail("limit %d is %llu/%llu, was %llu/%llu", i,
				  (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max,
				  (unsigned long long)rlim_before[i].rlim_cur,
				  (unsigned long long)rlim_before[i].rlim_max);
	}
}

static void check_actions(void)
{
	for (int sig = 1; sig <= 64; sig++) {
		struct ksigaction a, *b = &act_before[sig];

		get_action(sig, &a);
		if (memcmp(&a, b, sizeof(a)))
			scen_fail("signal %d: action %#llx flags %#llx restorer %#llx mask %#llx, "
				  "was %#llx %#llx %#llx %#llx",
				  sig, (unsigned long long)a.handler, (unsigned long long)a.flags,
				  (unsigned long long)a.restorer, (unsigned long long)a.mask,
				  (unsigned long long)b->handler, (unsigned long long)b->flags,
				  (unsigned long long)b->restorer, (unsigned long long)b->mask);
	}
	/* and they are what was set */
	CHECK_EQ(act_before[SIGUSR1].handler, (uintptr_t)on_usr1);
	CHECK(act_before[SIGUSR1].flags & SA_SIGINFO);
	CHECK(act_before[SIGUSR1].flags & SA_RESTART);
	CHECK_EQ(act_before[SIGUSR1].mask, scen_sigbit(SIGINT) | scen_sigbit(SIGQUIT));
	CHECK_EQ(act_before[SIGHUP].handler, (uintptr_t)on_hup);
	CHECK(act_before[SIGHUP].flags & SA_NODEFER);
	CHECK_EQ(act_before[SIGHUP].mask,
		 scen_sigbit(SIGCHLD) | scen_sigbit(SIGTTIN) | scen_sigbit(SIGRTMIN + 6));
	CHECK(act_before[SIGINT].flags & SA_RESETHAND);
	CHECK(act_before[SIGALRM].flags & SA_ONSTACK);
	CHECK_EQ(act_before[SIGPIPE].handler, (uintptr_t)SIG_IGN);
	CHECK_EQ(act_before[SIGRTMIN + 3].handler, (uintptr_t)SIG_IGN);
	CHECK_EQ(act_before[SIGQUIT].handler, (uintptr_t)SIG_DFL);
	CHECK_EQ(act_before[SIGCHLD].handler, (uintptr_t)SIG_DFL);
}

static void check_altstack(void)
{
	stack_t ss;

	CHECK_SYS(sigaltstack(NULL, &ss));
	CHECK(ss.ss_sp == altstack);
	CHECK_EQ(ss.ss_size, ALTSTACK_SIZE);
	CHECK_EQ(ss.ss_flags, SS_AUTODISARM_);
}

/* The handlers run, with their flags and masks. */
static void check_handlers(void)
{
	struct ksigaction a;

	CHECK_SYS(raise(SIGUSR1));
	CHECK_EQ(usr1_hits, 1);
	CHECK_EQ(usr1_info.si_signo, SIGUSR1);
	CHECK_EQ(usr1_info.si_code, SI_TKILL);
	CHECK_EQ(usr1_info.si_pid, getpid());
	CHECK_EQ(scen_sigset_word(&usr1_mask), blocked_before | scen_sigbit(SIGUSR1) |
						       scen_sigbit(SIGINT) | scen_sigbit(SIGQUIT));
	CHECK_SYS(raise(SIGHUP));
	CHECK_EQ(hup_hits, 1);
	CHECK_EQ(scen_sigset_word(&hup_mask), blocked_before | scen_sigbit(SIGCHLD) |
						      scen_sigbit(SIGTTIN) |
						      scen_sigbit(SIGRTMIN + 6));
	CHECK_SYS(raise(SIGINT));
	CHECK_EQ(int_hits, 1);
	get_action(SIGINT, &a);
	CHECK_EQ(a.handler, (uintptr_t)SIG_DFL); /* SA_RESETHAND */
	CHECK_SYS(raise(SIGALRM));
	CHECK_EQ(alrm_hits, 1);
	if (!alrm_on_altstack)
		scen_fail("the SA_ONSTACK handler did not run on the alternate stack");
	check_altstack(); /* rearmed after the handler */
	CHECK_SYS(raise(SIGPIPE)); /* ignored */
}

/* The raw syscall: glibc's sigwaitinfo reports SI_TKILL as SI_USER. */
static void expect_signal(const sigset_t *set, int sig, int code, int value)
{
	siginfo_t si;
	int got = (int)syscall(SYS_rt_sigtimedwait, set, &si, NULL, 8);

	if (got != sig)
		scen_fail("rt_sigtimedwait gave signal %d, expected %d", got, sig);
	CHECK_EQ(si.si_code, code);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_EQ(si.si_uid, getuid());
	if (code == SI_QUEUE && si.si_value.sival_int != value)
		scen_fail("signal %d came with value %d, expected %d", sig, si.si_value.sival_int,
			  value);
}

static void check_pending(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t pend, want;
	uint64_t expect =
		scen_sigbit(SIGUSR2) | scen_sigbit(SIGRTMIN + 2) | scen_sigbit(SIGRTMIN + 4);

	CHECK_SYS(sigpending(&pend));
	if (scen_sigset_word(&pend) != expect)
		scen_fail("pending signals %#llx, expected %#llx",
			  (unsigned long long)scen_sigset_word(&pend), (unsigned long long)expect);
	sigemptyset(&want);
	sigaddset(&want, SIGUSR2);
	sigaddset(&want, SIGRTMIN + 2);
	sigaddset(&want, SIGRTMIN + 4);
	/* the thread's own queue first, each queue by signal number, then
	 * queue order */
	expect_signal(&want, SIGUSR2, SI_TKILL, 0);
	expect_signal(&want, SIGRTMIN + 4, SI_QUEUE, 4444);
	expect_signal(&want, SIGRTMIN + 2, SI_QUEUE, 1111);
	expect_signal(&want, SIGRTMIN + 2, SI_QUEUE, 2222);
	expect_signal(&want, SIGRTMIN + 4, SI_QUEUE, 3333);
	CHECK_EQ(sigtimedwait(&want, NULL, &zero), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_SYS(sigpending(&pend));
	CHECK_EQ(scen_sigset_word(&pend), 0);
}

/*
 * "attrs sigsuspend": waits for SIGTERM with its own sigsuspend, SIGTERM
 * blocked outside it, as programs do. When sigsuspend returns, the mask it
 * replaced must be back (scen_wait() sets the mask itself afterwards, so
 * it would not notice a wrong one).
 */
static void wait_in_sigsuspend(void)
{
	sigset_t term, wait_mask, cur;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	CHECK_SYS(sigprocmask(SIG_BLOCK, &term, &wait_mask));
	CHECK(!sigismember(&wait_mask, SIGTERM));
	while (!scen_told())
		sigsuspend(&wait_mask);
	CHECK_SYS(sigprocmask(SIG_BLOCK, NULL, &cur));
	if (scen_sigset_word(&cur) != (blocked_before | scen_sigbit(SIGTERM)))
		scen_fail("blocked signals %#llx when sigsuspend returned, expected %#llx",
			  (unsigned long long)scen_sigset_word(&cur),
			  (unsigned long long)(blocked_before | scen_sigbit(SIGTERM)));
	CHECK_SYS(sigprocmask(SIG_UNBLOCK, &term, NULL));
}

int main(int argc, char **argv)
{
	char top[PATH_MAX];
	sigset_t cur;
	int pdeath = -1;

	scen_init();
	build(top, sizeof(top));
	ready_in(top);
	if (argc == 2 && !strcmp(argv[1], "sigsuspend"))
		wait_in_sigsuspend();
	else
		scen_wait();

	check_name();
	check_fs();
	check_rlimits();
	check_actions();
	CHECK_SYS(sigprocmask(SIG_BLOCK, NULL, &cur));
	if (scen_sigset_word(&cur) != blocked_before)
		scen_fail("blocked signals %#llx, were %#llx",
			  (unsigned long long)scen_sigset_word(&cur),
			  (unsigned long long)blocked_before);
	check_altstack();
	check_pending();
	check_handlers();
	CHECK_SYS(prctl(PR_GET_PDEATHSIG, &pdeath));
	if (pdeath != SIGUSR1)
		scen_fail("parent-death signal %d, was %d", pdeath, SIGUSR1);
	scen_pass();
}
