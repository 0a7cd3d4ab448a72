/*
 * threads.c: multithreaded processes through checkpoint and restart. Each
 * mode builds threads with state of their own and, before the file "ready",
 * makes sure every thread is where it should be (a blocked thread is seen
 * sleeping in its syscall, on its own object, in /proc/self/task/TID/syscall).
 * After the restart each thread checks what it finds against what it left.
 * SIGTERM is blocked in every thread but the one in scen_wait().
 *
 *   attrs    six threads, each with its own TID, name, signal mask, TLS
 *            values and fs base, alternate signal stack (none, plain or
 *            SS_AUTODISARM), MXCSR and x87 control word, parent-death
 *            signal, scheduling (normal, batch or idle policy, nice value,
 *            CPU affinity, timer slack), rseq registration (rseq() says
 *            EBUSY, sched_getcpu follows the thread from CPU to CPU), and
 *            pending signals of its own (pthread_kill, then two
 *            pthread_sigqueue values, taken in order with their siginfo);
 *            a POSIX timer aimed at one thread (SIGEV_THREAD_ID); a signal
 *            pending process-wide; two threads checkpointed inside a signal
 *            handler on their alternate stack, which return from it after
 *            restart to their own mask and stack.
 *   block    threads blocked in pthread_cond_wait, pthread_cond_timedwait
 *            (CLOCK_MONOTONIC and CLOCK_REALTIME, deadline in a minute),
 *            pthread_mutex_lock on a normal and on a priority-inheritance
 *            mutex held by another thread, sem_wait, nanosleep (glibc's and
 *            the raw syscall), an absolute clock_nanosleep, FUTEX_WAIT with
 *            and without a timeout, pthread_join of a thread that ends after
 *            restart, and a pthread_cond_wait that is cancelled after
 *            restart (pthread_cancel); "block fifo" adds a read of stdin (a
 *            FIFO). The main thread is in pthread_join of the coordinator
 *            thread, which takes SIGTERM, checks every waiter is still in
 *            its call, wakes them and returns a value: the join must return
 *            it (the kernel clears the tid word at the clear-child-tid
 *            address). Each call must return once, with success, after its
 *            wake (a sleep after its full time).
 *   sigwait  threads in sigwaitinfo, sigtimedwait (a minute) and sigwait:
 *            each must still wait after restart, and return the signal sent
 *            to it then.
 *   stopped  the waits with a timeout of "block" after a stop and continue
 *            (as Ctrl-Z and fg), which the kernel goes on with through
 *            restart_syscall: checkpointed so, each must end as it would
 *            have; "stopped raw" adds nanosleep through syscall(2).
 *   robust   a thread holds three robust mutexes (one also PI) and exits
 *            after restart without unlocking: the threads blocked in their
 *            locks since before the checkpoint, and the main thread locking
 *            the third, must get EOWNERDEAD (the kernel walked the robust
 *            list that restart registered); so must a lock of one whose
 *            owner died before the checkpoint; each list head is where it
 *            was.
 *   many     100 threads, each with its own name, TLS, thread-specific
 *            value (pthread_setspecific), mask and two queued signals, wait
 *            at a barrier and check themselves after restart.
 *   pool     a thread pool summing squares from a bounded queue fed by a
 *            producer, and two threads spinning in user code, all running
 *            during the checkpoint: they go on after restart, and the
 *            totals are exact.
 *   churn    threads created and joined, and detached threads created, in a
 *            loop during the checkpoint: it goes on after restart, every
 *            join returns its thread's value.
 *   regs     threads holding per-thread values in ymm0-15 (zmm16-31 with
 *            AVX-512) and MXCSR, two spinning, two in FUTEX_WAIT.
 *   tree     a process whose thread waits for its child (wait4), the child
 *            with threads of its own (one waits on a process-shared
 *            condition variable the root signals), whose thread forked a
 *            grandchild with threads: every thread of every process checks
 *            itself, and every process its parent.
 *   pdeath   as tree, but the grandchild has PR_SET_PDEATHSIG: when the
 *            thread that forked it exits after restart, it must get its
 *            signal, as it would have (the parent of a process is a thread).
 *   clone-vm a process sharing our memory (clone CLONE_VM, not a thread)
 *            counts in it, for the refusal test (and, left running, its
 *            counting must show).
 *   creds, main-exit, child-main-exit
 *            for refusal tests: a thread with credentials of its own; the
 *            main thread of the root, or of a child, has exited
 *            (pthread_exit) while another thread runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "lib/scen.h"

#define SS_AUTODISARM_ ((int)(1U << 31)) /* linux/signal.h's SS_AUTODISARM */
#define NSEC 1000000000ULL
#define COORD_RET ((void *)0xc00dUL)
#define LATE_RET ((void *)0x1a7eUL)

/* ---- helpers ---- */

static uint64_t cur_mask(void)
{
	sigset_t s;

	CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &s), 0);
	return scen_sigset_word(&s);
}

static void set_mask(uint64_t w)
{
	sigset_t s;

	sigemptyset(&s);
	for (int sig = 1; sig <= 64; sig++)
		if (w & scen_sigbit(sig))
			CHECK_SYS(sigaddset(&s, sig));
	CHECK_EQ(pthread_sigmask(SIG_SETMASK, &s, NULL), 0);
}

static uint64_t pending_word(void)
{
	sigset_t s;

	CHECK_SYS(sigpending(&s));
	return scen_sigset_word(&s);
}

static long futex(atomic_int *w, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static void wake_word(atomic_int *w, int op)
{
	atomic_store(w, 1);
	CHECK_SYS(futex(w, op, INT_MAX, NULL));
}

static uint64_t fs_base(void)
{
	unsigned long b = 0;

	CHECK_SYS(syscall(SYS_arch_prctl, ARCH_GET_FS, &b));
	return b;
}

static uint64_t now_clock(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / NSEC), (long)(ns % NSEC) };
}

static void read_comm(pid_t tid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		scen_fail("open %s: %m", path);
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		scen_fail("read %s: %m", path);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

/* Whether thread tid sleeps in syscall nr (or in restart_syscall) with its
 * first argument in [lo, lo + len) (any first argument when len is 0). */
static bool blocked_in(pid_t tid, long nr, uintptr_t lo, size_t len)
{
	char path[64], buf[256];
	unsigned long a0;
	long n;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return false;
	buf[got] = '\0';
	if (sscanf(buf, "%ld %lx", &n, &a0) != 2)
		return false;
	/* a wait with a timeout goes on as restart_syscall after a stop (the
	 * checkpoint that leaves the process running is one), its arguments
	 * unchanged */
	return (n == nr || n == SYS_restart_syscall) && (!len || (a0 >= lo && a0 < lo + len));
}

/* Waits until thread tid sleeps in syscall nr on [lo, lo + len): false if
 * *done becomes true first (the call returned), or after 5 s. */
static bool wait_blocked(pid_t tid, long nr, const void *lo, size_t len, const atomic_int *done)
{
	for (int i = 0; i < 5000; i++) {
		if (blocked_in(tid, nr, (uintptr_t)lo, len))
			return true;
		if (done && atomic_load(done))
			return false;
		usleep(1000);
	}
	return false;
}

static void must_block(const char *who, pid_t tid, long nr, const void *lo, size_t len)
{
	if (!wait_blocked(tid, nr, lo, len, NULL))
		scen_fail("%s (tid %d) never blocked in syscall %ld on %p", who, tid, nr, lo);
}

/* A gate threads wait at (pthread_cond_wait) until it opens. */
struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	int open;
};
#define GATE_INIT                                                                                  \
	{                                                                                          \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0                             \
	}

static void gate_wait(struct gate *g)
{
	CHECK_EQ(pthread_mutex_lock(&g->m), 0);
	while (!g->open)
		CHECK_EQ(pthread_cond_wait(&g->c, &g->m), 0);
	CHECK_EQ(pthread_mutex_unlock(&g->m), 0);
}

static void gate_open(struct gate *g)
{
	CHECK_EQ(pthread_mutex_lock(&g->m), 0);
	g->open = 1;
	CHECK_EQ(pthread_cond_broadcast(&g->c), 0);
	CHECK_EQ(pthread_mutex_unlock(&g->m), 0);
}

static void gate_must_block(const char *who, pid_t tid, struct gate *g)
{
	must_block(who, tid, SYS_futex, &g->c, sizeof(g->c));
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, fn, arg);

	if (err)
		scen_fail("pthread_create: %s", strerror(err));
	return t;
}

/* pthread_join, failing after 5 s: a join that never returns would
 * otherwise only show as a timeout of the whole scenario. *ended, when
 * given, is set by the thread as it returns. */
static void *join_within(pthread_t t, const char *what, const atomic_int *ended)
{
	struct timespec ts = ts_of(now_clock(CLOCK_REALTIME) + 5 * NSEC);
	void *ret;
	int err = pthread_timedjoin_np(t, &ret, &ts);

	if (err && ended && atomic_load(ended))
		scen_fail("%s: returned from its function, but pthread_join waits for it 5 s "
			  "later (%s): the kernel did not clear its tid word at its end "
			  "(clear-child-tid address)",
			  what, strerror(err));
	if (err)
		scen_fail("%s: not ended 5 s after it was woken: %s", what, strerror(err));
	return ret;
}

static void *join(pthread_t t)
{
	void *ret;
	int err = pthread_join(t, &ret);

	if (err)
		scen_fail("pthread_join: %s", strerror(err));
	return ret;
}

/* What every thread checks of itself: TID, name, fs base (which is also
 * pthread_self() on x86_64), blocked mask. */
struct tstate {
	pid_t tid;
	char name[16];
	uint64_t fs;
	uint64_t mask;
};

static void ts_record(struct tstate *s, const char *name)
{
	s->tid = gettid();
	snprintf(s->name, sizeof(s->name), "%s", name);
	CHECK_EQ(pthread_setname_np(pthread_self(), s->name), 0);
	s->fs = fs_base();
	CHECK_EQ(s->fs, (uintptr_t)pthread_self());
	s->mask = cur_mask();
}

static void ts_check(const struct tstate *s)
{
	char name[17] = "", comm[64];
	pid_t tid = gettid();

	if (tid != s->tid)
		scen_fail("thread '%s': tid %d, was %d", s->name, tid, s->tid);
	CHECK_SYS(prctl(PR_GET_NAME, name));
	if (strcmp(name, s->name))
		scen_fail("thread %d: PR_GET_NAME gives '%s', was '%s'", tid, name, s->name);
	read_comm(tid, comm, sizeof(comm));
	if (strcmp(comm, s->name))
		scen_fail("thread %d: /proc/self/task/%d/comm holds '%s', was '%s'", tid, tid, comm,
			  s->name);
	if (fs_base() != s->fs || (uintptr_t)pthread_self() != s->fs)
		scen_fail("thread '%s': fs base 0x%llx, pthread_self %p, were 0x%llx", s->name,
			  (unsigned long long)fs_base(), (void *)pthread_self(),
			  (unsigned long long)s->fs);
	if (cur_mask() != s->mask)
		scen_fail("thread '%s': blocked signals %#llx, were %#llx", s->name,
			  (unsigned long long)cur_mask(), (unsigned long long)s->mask);
}

/* The raw syscall: glibc's sigtimedwait reports SI_TKILL as SI_USER. */
static int take_signal(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
	return (int)syscall(SYS_rt_sigtimedwait, set, si, ts, 8);
}

static void expect_signal(const char *who, const sigset_t *set, int sig, int code, int value)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int got = take_signal(set, &si, &zero);

	if (got != sig)
		scen_fail("%s: took signal %d (%m), expected %d", who, got, sig);
	if (si.si_code != code)
		scen_fail("%s: signal %d with code %d, expected %d", who, sig, si.si_code, code);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_EQ(si.si_uid, getuid());
	if (code == SI_QUEUE && si.si_value.sival_int != value)
		scen_fail("%s: signal %d came with value %d, expected %d", who, sig,
			  si.si_value.sival_int, value);
}

static void expect_none(const char *who, const sigset_t *set)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int got = take_signal(set, &si, &zero);

	if (got != -1 || errno != EAGAIN)
		scen_fail("%s: one signal too many: %d", who, got);
}

static void queue_to(pthread_t t, int sig, int value)
{
	union sigval v = { .sival_int = value };

	CHECK_EQ(pthread_sigqueue(t, sig, v), 0);
}

/*
 * rseq: glibc registered the thread's area; registering the same area again
 * must say EBUSY. Then sched_getcpu (which reads the area's cpu_id) must
 * follow the thread when it is moved from CPU to CPU: an area the kernel
 * no longer updates keeps a stale CPU number.
 */
static void check_rseq(const char *who, bool migrate)
{
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	cpu_set_t orig, one;
	int ncpus = 0;
	long r;

	if (!__rseq_size)
		scen_fail("%s: glibc did not register rseq: cannot test it", who);
	/* glibc registers at least 32 bytes; __rseq_size may say less (the
	 * size of the features in use) */
	r = syscall(SYS_rseq, rs, __rseq_size < 32 ? 32 : __rseq_size, 0, RSEQ_SIG);
	if (r != -1 || errno != EBUSY)
		scen_fail("%s: its rseq area is not registered (registering it again gave %ld, %s)",
			  who, r, r ? strerror(errno) : "success");
	if (!migrate)
		return;
	CHECK_SYS(sched_getaffinity(0, sizeof(orig), &orig));
	for (int cpu = 0; cpu < CPU_SETSIZE && ncpus < 4; cpu++) {
		int got;

		if (!CPU_ISSET(cpu, &orig))
			continue;
		ncpus++;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		CHECK_SYS(sched_setaffinity(0, sizeof(one), &one));
		got = sched_getcpu();
		if (got != cpu || (int)rs->cpu_id != cpu)
			scen_fail("%s: pinned to CPU %d, sched_getcpu says %d, rseq cpu_id %d", who,
				  cpu, got, (int)rs->cpu_id);
	}
	CHECK_SYS(sched_setaffinity(0, sizeof(orig), &orig));
}

static void set_fpu(uint32_t mxcsr, uint16_t fcw)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("fldcw %0" : : "m"(fcw));
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;

	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static uint16_t get_fcw(void)
{
	uint16_t v;

	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

static void check_altstack(const char *who, void *sp, size_t size, int flags)
{
	stack_t ss;

	CHECK_SYS(sigaltstack(NULL, &ss));
	if (flags == SS_DISABLE) {
		if (ss.ss_flags != SS_DISABLE)
			scen_fail("%s: has an alternate stack %p flags %#x, had none", who,
				  ss.ss_sp, ss.ss_flags);
		return;
	}
	if (ss.ss_sp != sp || ss.ss_size != size || ss.ss_flags != flags)
		scen_fail("%s: alternate stack %p+%zu flags %#x, was %p+%zu flags %#x", who,
			  ss.ss_sp, ss.ss_size, ss.ss_flags, sp, size, flags);
}

/* ---- attrs ---- */

#define NATTR 6
#define NHAND 2
#define TIMER_VALUE 0x7e57
#define SHARED_VALUE 77

static __thread uint64_t tls_val;
static __thread char tls_text[40];

struct aworker {
	int idx;
	pthread_t th;
	struct tstate st;
	void *alt;
	size_t altsize;
	int altflags; /* SS_DISABLE: none */
	uint32_t mxcsr;
	uint16_t fcw;
	int pdeath;
	uint64_t mask;
	timer_t timer;
	int policy, nice;
	cpu_set_t cpus;
	long slack;
};

struct hworker {
	int idx;
	pthread_t th;
	struct tstate st;
	void *alt;
	size_t altsize;
	int altflags;
	uint64_t mask;
	atomic_int in_handler, handler_done;
	int on_alt;
	uint64_t mask_in, mask_in_after;
	stack_t ss_in, ss_in_after;
};

static struct aworker aw[NATTR];
static struct hworker hw[NHAND];
static struct gate attrs_go = GATE_INIT;
static sem_t setup_sem;
static atomic_int hand_go;
static __thread struct hworker *my_hworker;

static uint64_t attrs_base(void)
{
	return scen_sigbit(SIGTERM) | scen_sigbit(SIGUSR1) | scen_sigbit(SIGUSR2) |
	       scen_sigbit(SIGRTMIN + 1) | scen_sigbit(SIGRTMIN + 2) | scen_sigbit(SIGRTMIN + 4);
}

static uint64_t tls_expect(int idx)
{
	return 0x7157000000000000ULL + (uint64_t)idx * 0x1010101ULL;
}

static void attrs_timer(struct aworker *w)
{
	struct sigevent sev;
	struct itimerspec its = { { 0, 20000000 }, { 0, 20000000 } };

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN + 4;
	sev.sigev_value.sival_int = TIMER_VALUE;
	sev._sigev_un._tid = gettid();
	CHECK_SYS(timer_create(CLOCK_MONOTONIC, &sev, &w->timer));
	CHECK_SYS(timer_settime(w->timer, 0, &its, NULL));
}

/* The timer aimed at this thread goes on firing at it. */
static void attrs_check_timer(struct aworker *w)
{
	struct timespec two = { 2, 0 }, zero = { 0, 0 };
	sigset_t set;
	siginfo_t si;
	int n = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 4);
	for (int got = take_signal(&set, &si, &two); got > 0; got = take_signal(&set, &si, &zero)) {
		CHECK_EQ(got, SIGRTMIN + 4);
		CHECK_EQ(si.si_code, SI_TIMER);
		CHECK_EQ(si.si_value.sival_int, TIMER_VALUE);
		CHECK_EQ(si.si_timerid, (int)(intptr_t)w->timer);
		n++;
	}
	if (!n)
		scen_fail("attr-0: its timer (SIGEV_THREAD_ID) did not fire at it in 2 s");
	CHECK_SYS(timer_delete(w->timer));
	while (take_signal(&set, &si, &zero) > 0)
		;
}

/* Scheduling of its own: policy (normal, batch, idle), nice value, CPUs
 * (one for odd threads), timer slack. */
static void attrs_sched(struct aworker *w)
{
	struct sched_param sp = { 0 };
	cpu_set_t all;
	int n = 0, want;

	w->policy = w->idx == 4 ? SCHED_BATCH : w->idx == 5 ? SCHED_IDLE : SCHED_OTHER;
	CHECK_SYS(sched_setscheduler(0, w->policy, &sp));
	w->nice = 2 + w->idx;
	CHECK_SYS(setpriority(PRIO_PROCESS, (id_t)gettid(), w->nice));
	CHECK_SYS(sched_getaffinity(0, sizeof(all), &all));
	w->cpus = all;
	want = w->idx / 2 % CPU_COUNT(&all);
	if (w->idx % 2) {
		CPU_ZERO(&w->cpus);
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &all) && n++ == want)
				CPU_SET(cpu, &w->cpus);
	}
	CHECK_SYS(sched_setaffinity(0, sizeof(w->cpus), &w->cpus));
	w->slack = 70000 + w->idx * 1000;
	CHECK_SYS(prctl(PR_SET_TIMERSLACK, w->slack));
}

static void attrs_check_sched(const char *name, struct aworker *w)
{
	cpu_set_t cur;
	int policy = sched_getscheduler(0), nice;
	long slack = prctl(PR_GET_TIMERSLACK);

	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	CHECK_EQ(errno, 0);
	CHECK_SYS(sched_getaffinity(0, sizeof(cur), &cur));
	if (policy != w->policy || nice != w->nice || slack != w->slack)
		scen_fail("%s: policy %d nice %d timer slack %ld, were %d %d %ld", name, policy,
			  nice, slack, w->policy, w->nice, w->slack);
	if (!CPU_EQUAL(&cur, &w->cpus))
		scen_fail("%s: runs on %d CPUs, not the %d it ran on", name, CPU_COUNT(&cur),
			  CPU_COUNT(&w->cpus));
}

static void *attrs_worker(void *arg)
{
	struct aworker *w = arg;
	char name[16], text[40];
	sigset_t set;
	uint64_t pend;
	int pdeath = -1;

	snprintf(name, sizeof(name), "attr-%d", w->idx);
	set_mask(w->mask);
	tls_val = tls_expect(w->idx);
	snprintf(tls_text, sizeof(tls_text), "the text of thread %d", w->idx);
	if (w->altflags != SS_DISABLE) {
		stack_t ss = { .ss_sp = w->alt, .ss_size = w->altsize, .ss_flags = w->altflags };

		CHECK_SYS(sigaltstack(&ss, NULL));
	}
	set_fpu(w->mxcsr, w->fcw);
	CHECK_SYS(prctl(PR_SET_PDEATHSIG, w->pdeath));
	check_rseq(name, false);
	attrs_sched(w);
	if (w->idx == 0)
		attrs_timer(w);
	ts_record(&w->st, name);
	CHECK_SYS(sem_post(&setup_sem));

	gate_wait(&attrs_go);

	ts_check(&w->st);
	if (tls_val != tls_expect(w->idx))
		scen_fail("%s: TLS value %#llx, was %#llx", name, (unsigned long long)tls_val,
			  (unsigned long long)tls_expect(w->idx));
	snprintf(text, sizeof(text), "the text of thread %d", w->idx);
	if (strcmp(tls_text, text))
		scen_fail("%s: TLS text '%s'", name, tls_text);
	check_altstack(name, w->alt, w->altsize, w->altflags);
	if ((get_mxcsr() & ~0x3fU) != w->mxcsr || get_fcw() != w->fcw)
		scen_fail("%s: MXCSR %#x x87 control %#x, were %#x %#x", name, get_mxcsr(),
			  get_fcw(), w->mxcsr, w->fcw);
	CHECK_SYS(prctl(PR_GET_PDEATHSIG, &pdeath));
	if (pdeath != w->pdeath)
		scen_fail("%s: parent-death signal %d, was %d", name, pdeath, w->pdeath);
	attrs_check_sched(name, w);
	check_rseq(name, true);
	/* its own pending signals, and nothing else (the main thread took the
	 * process-wide one; the timer's is looked at below) */
	pend = pending_word();
	if (w->idx == 0)
		pend &= ~scen_sigbit(SIGRTMIN + 4);
	if (pend != (scen_sigbit(SIGUSR1) | scen_sigbit(SIGRTMIN + 1)))
		scen_fail("%s: pending signals %#llx, expected %#llx", name,
			  (unsigned long long)pend,
			  (unsigned long long)(scen_sigbit(SIGUSR1) | scen_sigbit(SIGRTMIN + 1)));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 1);
	expect_signal(name, &set, SIGUSR1, SI_TKILL, 0);
	expect_signal(name, &set, SIGRTMIN + 1, SI_QUEUE, 1000 + w->idx);
	expect_signal(name, &set, SIGRTMIN + 1, SI_QUEUE, 2000 + w->idx);
	expect_none(name, &set);
	if (w->idx == 0)
		attrs_check_timer(w);
	return NULL;
}

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	struct hworker *h = my_hworker;
	char here;

	(void)sig;
	(void)si;
	(void)uc;
	h->on_alt = &here >= (char *)h->alt && &here < (char *)h->alt + h->altsize;
	h->mask_in = cur_mask();
	sigaltstack(NULL, &h->ss_in);
	atomic_store(&h->in_handler, 1);
	/* checkpointed here, on the alternate stack, inside the handler */
	while (!atomic_load(&hand_go))
		futex(&hand_go, FUTEX_WAIT_PRIVATE, 0, NULL);
	h->mask_in_after = cur_mask();
	sigaltstack(NULL, &h->ss_in_after);
	atomic_store(&h->handler_done, 1);
}

static void *attrs_handler_thread(void *arg)
{
	struct hworker *h = arg;
	stack_t ss = { .ss_sp = h->alt, .ss_size = h->altsize, .ss_flags = h->altflags };
	uint64_t in_mask = h->mask | scen_sigbit(SIGUSR2) | scen_sigbit(SIGWINCH);
	char name[16];

	snprintf(name, sizeof(name), "hand-%d", h->idx);
	my_hworker = h;
	set_mask(h->mask);
	CHECK_SYS(sigaltstack(&ss, NULL));
	ts_record(&h->st, name);
	CHECK_SYS(sem_post(&setup_sem));
	while (!atomic_load(&h->handler_done))
		futex(&h->handler_done, FUTEX_WAIT_PRIVATE, 0, NULL);

	ts_check(&h->st);
	if (!h->on_alt)
		scen_fail("%s: the handler did not run on its alternate stack", name);
	if (h->mask_in != in_mask || h->mask_in_after != in_mask)
		scen_fail("%s: blocked signals in the handler %#llx, then %#llx after restart, "
			  "expected %#llx",
			  name, (unsigned long long)h->mask_in,
			  (unsigned long long)h->mask_in_after, (unsigned long long)in_mask);
	if (h->ss_in.ss_sp != h->ss_in_after.ss_sp || h->ss_in.ss_size != h->ss_in_after.ss_size ||
	    h->ss_in.ss_flags != h->ss_in_after.ss_flags)
		scen_fail("%s: in the handler, alternate stack %p+%zu flags %#x, then %p+%zu "
			  "flags %#x after restart",
			  name, h->ss_in.ss_sp, h->ss_in.ss_size, h->ss_in.ss_flags,
			  h->ss_in_after.ss_sp, h->ss_in_after.ss_size, h->ss_in_after.ss_flags);
	if (h->altflags == SS_AUTODISARM_)
		CHECK_EQ(h->ss_in.ss_flags, SS_DISABLE); /* disarmed in the handler */
	else
		CHECK_EQ(h->ss_in.ss_flags, SS_ONSTACK);
	/* sigreturn put back the mask and the stack as they were */
	check_altstack(name, h->alt, h->altsize, h->altflags);
	return NULL;
}

static int mode_attrs(void)
{
	const int rounding[4] = { 0, 1, 2, 3 };
	const int pdeath[NATTR] = { 0, SIGURG, SIGWINCH, SIGCHLD, 0, SIGURG };
	struct sigaction sa;
	struct tstate main_st;
	sigset_t set;

	CHECK_SYS(sem_init(&setup_sem, 0, 0));
	set_mask(attrs_base() | scen_sigbit(SIGRTMIN + 20));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGWINCH);
	CHECK_SYS(sigaction(SIGUSR2, &sa, NULL));

	for (int i = 0; i < NATTR; i++) {
		struct aworker *w = &aw[i];

		w->idx = i;
		w->mask = attrs_base() | scen_sigbit(SIGRTMIN + 8 + i) |
			  (i % 2 ? scen_sigbit(SIGWINCH) : 0) | (i % 3 ? 0 : scen_sigbit(SIGPROF));
		w->altsize = (64 << 10) + (size_t)i * 4096;
		w->alt = malloc(w->altsize);
		CHECK(w->alt);
		w->altflags = i == 4 ? SS_DISABLE : i % 2 ? SS_AUTODISARM_ : 0;
		w->mxcsr = 0x1f80U | (uint32_t)rounding[i % 4] << 13 | (i % 2 ? 0x8000U : 0) |
			   (i % 3 ? 0 : 0x40U);
		w->fcw = (uint16_t)(0x007fU | (uint16_t)(3 - rounding[i % 4]) << 10 |
				    (i % 2 ? 0x200U : 0x300U));
		w->pdeath = pdeath[i];
		w->th = spawn(attrs_worker, w);
	}
	for (int i = 0; i < NHAND; i++) {
		struct hworker *h = &hw[i];

		h->idx = i;
		h->mask = attrs_base() & ~scen_sigbit(SIGUSR2);
		h->altsize = 96 << 10;
		h->alt = malloc(h->altsize);
		CHECK(h->alt);
		h->altflags = i ? 0 : SS_AUTODISARM_;
		h->th = spawn(attrs_handler_thread, h);
	}
	for (int i = 0; i < NATTR + NHAND; i++)
		CHECK_SYS(sem_wait(&setup_sem));
	/* pending: per thread, and one process-wide */
	for (int i = 0; i < NATTR; i++) {
		CHECK_EQ(pthread_kill(aw[i].th, SIGUSR1), 0);
		queue_to(aw[i].th, SIGRTMIN + 1, 1000 + i);
		queue_to(aw[i].th, SIGRTMIN + 1, 2000 + i);
	}
	{
		union sigval v = { .sival_int = SHARED_VALUE };

		CHECK_SYS(sigqueue(getpid(), SIGRTMIN + 2, v));
	}
	for (int i = 0; i < NHAND; i++) {
		CHECK_EQ(pthread_kill(hw[i].th, SIGUSR2), 0);
		must_block("handler", hw[i].st.tid, SYS_futex, &hand_go, sizeof(hand_go));
		CHECK(atomic_load(&hw[i].in_handler));
	}
	for (int i = 0; i < NATTR; i++)
		gate_must_block("attrs worker", aw[i].st.tid, &attrs_go);
	ts_record(&main_st, "thr-main");
	scen_ready();
	scen_wait();

	ts_check(&main_st);
	/* the main thread has no signal of its own: it sees the process-wide
	 * one only (not the timer's, which is aimed at attr-0) */
	if (pending_word() != scen_sigbit(SIGRTMIN + 2))
		scen_fail("main: pending signals %#llx, expected only %#llx",
			  (unsigned long long)pending_word(),
			  (unsigned long long)scen_sigbit(SIGRTMIN + 2));
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	expect_signal("main", &set, SIGRTMIN + 2, SI_QUEUE, SHARED_VALUE);
	expect_none("main", &set);
	check_rseq("main", true);
	gate_open(&attrs_go);
	wake_word(&hand_go, FUTEX_WAKE_PRIVATE);
	for (int i = 0; i < NATTR; i++)
		join(aw[i].th);
	for (int i = 0; i < NHAND; i++)
		join(hw[i].th);
	scen_pass();
}

/* ---- block ---- */

enum bkind {
	B_COND,
	B_COND_MONO,
	B_COND_REAL,
	B_MUTEX,
	B_PI,
	B_SEM,
	B_SLEEP,
	B_SLEEP_SYS,
	B_ABS,
	B_FUTEX,
	B_FUTEX_TO,
	B_JOIN,
	B_CANCEL,
	B_READ,
	NBLOCK
};

static const char *const bnames[NBLOCK] = {
	"cond_wait", "cond_mono", "cond_real",	   "mutex_lock", "pi_lock",
	"sem_wait",  "nanosleep", "nanosleep_sys", "abs_sleep",	 "futex_wait",
	"futex_to",  "join",	  "cancel",	   "read",
};

#define SLEEP_NS (1000 * 1000000ULL)
#define ABS_NS (1200 * 1000000ULL)

struct bwaiter {
	enum bkind kind;
	pthread_t th;
	atomic_int tid;
	atomic_int done;
	int rc; /* 0 or an error number */
	int spurious; /* condition waits that returned before the wake */
	int after_go; /* whether it returned after the wake */
	uint64_t t0, t1, deadline;
	uintptr_t value;
	int cleaned_up; /* the cancellation cleanup handler ran */
	char data[32];
};

static struct bwaiter bw[NBLOCK];
static pthread_mutex_t bm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bcv = PTHREAD_COND_INITIALIZER, bcv_real = PTHREAD_COND_INITIALIZER, bcv_mono,
		      bgate = PTHREAD_COND_INITIALIZER, bcv_cancel = PTHREAD_COND_INITIALIZER;
static int bgo;
static atomic_int bgo_flag, released;
static pthread_mutex_t held_mutex = PTHREAD_MUTEX_INITIALIZER, pi_mutex;
static sem_t bsem, coord_done, main_joined;
static atomic_int fword, fword_to;
static pthread_t holder_th, late_th;
static pid_t holder_tid, late_tid;
static atomic_int holder_done;
static bool with_fifo;

static void bgate_wait(void)
{
	CHECK_EQ(pthread_mutex_lock(&bm), 0);
	while (!bgo)
		CHECK_EQ(pthread_cond_wait(&bgate, &bm), 0);
	CHECK_EQ(pthread_mutex_unlock(&bm), 0);
}

/* Holds both mutexes until the wake. */
static void *holder(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "holder"), 0);
	CHECK_EQ(pthread_mutex_lock(&held_mutex), 0);
	CHECK_EQ(pthread_mutex_lock(&pi_mutex), 0);
	holder_tid = gettid();
	bgate_wait();
	atomic_store(&released, 1);
	CHECK_EQ(pthread_mutex_unlock(&held_mutex), 0);
	CHECK_EQ(pthread_mutex_unlock(&pi_mutex), 0);
	atomic_store(&holder_done, 1);
	return NULL;
}

/* Ends after the wake: the join waiter waits for it. */
static void *late(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "late"), 0);
	late_tid = gettid();
	bgate_wait();
	return LATE_RET;
}

/* Waits on cv until *flag (under m): 0, or the error of the wait. */
static int cond_loop_until(pthread_cond_t *cv, pthread_mutex_t *m, int *flag,
			   const struct timespec *deadline, int *spurious)
{
	int rc = 0;

	CHECK_EQ(pthread_mutex_lock(m), 0);
	while (!*flag && !rc) {
		rc = deadline ? pthread_cond_timedwait(cv, m, deadline) : pthread_cond_wait(cv, m);
		if (!rc && !*flag)
			(*spurious)++;
	}
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	return rc;
}

static int cond_loop(pthread_cond_t *cv, const struct timespec *deadline, int *spurious)
{
	return cond_loop_until(cv, &bm, &bgo, deadline, spurious);
}

static void cancel_cleanup(void *arg)
{
	struct bwaiter *b = arg;

	b->cleaned_up = 1;
	CHECK_EQ(pthread_mutex_unlock(&bm), 0);
}

/* Waits in pthread_cond_wait, a cancellation point, for a wake that never
 * comes: it is cancelled. */
static int cancel_wait(struct bwaiter *b)
{
	volatile int rc = 0;

	CHECK_EQ(pthread_mutex_lock(&bm), 0);
	pthread_cleanup_push(cancel_cleanup, b);
	while (!rc)
		rc = pthread_cond_wait(&bcv_cancel, &bm);
	pthread_cleanup_pop(1);
	return rc;
}

static void *bwait(void *arg)
{
	struct bwaiter *b = arg;
	struct timespec ts, rem;
	void *ret = NULL;
	ssize_t n;

	CHECK_EQ(pthread_setname_np(pthread_self(), bnames[b->kind]), 0);
	atomic_store(&b->tid, gettid());
	b->t0 = now_clock(CLOCK_MONOTONIC);
	switch (b->kind) {
	case B_COND:
		b->rc = cond_loop(&bcv, NULL, &b->spurious);
		break;
	case B_COND_MONO:
		ts = ts_of(now_clock(CLOCK_MONOTONIC) + 60 * NSEC);
		b->rc = cond_loop(&bcv_mono, &ts, &b->spurious);
		break;
	case B_COND_REAL:
		ts = ts_of(now_clock(CLOCK_REALTIME) + 60 * NSEC);
		b->rc = cond_loop(&bcv_real, &ts, &b->spurious);
		break;
	case B_MUTEX:
		b->rc = pthread_mutex_lock(&held_mutex);
		b->after_go = atomic_load(&released);
		if (!b->rc)
			CHECK_EQ(pthread_mutex_unlock(&held_mutex), 0);
		break;
	case B_PI:
		b->rc = pthread_mutex_lock(&pi_mutex);
		b->after_go = atomic_load(&released);
		if (!b->rc)
			CHECK_EQ(pthread_mutex_unlock(&pi_mutex), 0);
		break;
	case B_SEM:
		b->rc = sem_wait(&bsem) ? errno : 0;
		break;
	case B_SLEEP:
		ts = ts_of(SLEEP_NS);
		b->rc = nanosleep(&ts, &rem) ? errno : 0;
		break;
	case B_SLEEP_SYS:
		ts = ts_of(SLEEP_NS);
		b->rc = syscall(SYS_nanosleep, &ts, &rem) ? errno : 0;
		break;
	case B_ABS:
		b->deadline = b->t0 + ABS_NS;
		ts = ts_of(b->deadline);
		b->rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		break;
	case B_FUTEX:
		b->rc = futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL) ? errno : 0;
		break;
	case B_FUTEX_TO:
		ts = ts_of(60 * NSEC);
		b->rc = futex(&fword_to, FUTEX_WAIT, 0, &ts) ? errno : 0; /* shared */
		break;
	case B_JOIN:
		b->rc = pthread_join(late_th, &ret);
		b->value = (uintptr_t)ret;
		break;
	case B_CANCEL:
		b->rc = cancel_wait(b);
		break;
	case B_READ:
		n = read(0, b->data, sizeof(b->data) - 1);
		b->rc = n < 0 ? errno : 0;
		if (n >= 0)
			b->data[n] = '\0';
		break;
	case NBLOCK:
		break;
	}
	b->t1 = now_clock(CLOCK_MONOTONIC);
	if (b->kind != B_MUTEX && b->kind != B_PI)
		b->after_go = atomic_load(&bgo_flag);
	atomic_store(&b->done, 1);
	return NULL;
}

/* Where each waiter sleeps: syscall, and the object its first argument
 * points into. */
static bool bwhere(const struct bwaiter *b, long *nr, const void **lo, size_t *len)
{
	*len = 0;
	*lo = NULL;
	*nr = SYS_futex;
	switch (b->kind) {
	case B_COND:
		*lo = &bcv, *len = sizeof(bcv);
		return true;
	case B_COND_MONO:
		*lo = &bcv_mono, *len = sizeof(bcv_mono);
		return true;
	case B_COND_REAL:
		*lo = &bcv_real, *len = sizeof(bcv_real);
		return true;
	case B_MUTEX:
		*lo = &held_mutex, *len = sizeof(int);
		return true;
	case B_PI:
		*lo = &pi_mutex, *len = sizeof(int);
		return true;
	case B_SEM:
		*lo = &bsem, *len = sizeof(bsem);
		return true;
	case B_FUTEX:
		*lo = &fword, *len = sizeof(fword);
		return true;
	case B_FUTEX_TO:
		*lo = &fword_to, *len = sizeof(fword_to);
		return true;
	case B_JOIN: /* the tid field of the late thread's descriptor */
		*lo = (const void *)late_th, *len = 4096;
		return true;
	case B_SLEEP:
		*nr = SYS_clock_nanosleep; /* glibc's nanosleep */
		return true;
	case B_SLEEP_SYS:
		*nr = SYS_nanosleep;
		return true;
	case B_ABS:
		*nr = SYS_clock_nanosleep;
		return true;
	case B_CANCEL:
		*lo = &bcv_cancel, *len = sizeof(bcv_cancel);
		return true;
	case B_READ:
		*nr = SYS_read, *lo = (const void *)0, *len = 1;
		return true;
	case NBLOCK:
		break;
	}
	return false;
}

static bool bactive(enum bkind k)
{
	return k != B_READ || with_fifo;
}

/* Takes SIGTERM, wakes every waiter, checks what each call returned. */
static void *coordinator(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "coordinator"), 0);
	scen_wait();
	/* each is still in its call: none came back by itself */
	for (int k = 0; k < NBLOCK; k++) {
		struct bwaiter *b = &bw[k];
		const void *lo;
		size_t len;
		long nr;

		if (!bactive(b->kind) || k == B_SLEEP || k == B_SLEEP_SYS || k == B_ABS ||
		    k == B_READ)
			continue;
		bwhere(b, &nr, &lo, &len);
		if (!wait_blocked(b->tid, nr, lo, len, &b->done)) {
			if (atomic_load(&b->done))
				scen_fail("%s: returned %d (%s) before it was woken", bnames[k],
					  b->rc, strerror(b->rc));
			scen_fail("%s: not in its call after restart", bnames[k]);
		}
	}
	if (!wait_blocked(holder_tid, SYS_futex, &bgate, sizeof(bgate), NULL) ||
	    !wait_blocked(late_tid, SYS_futex, &bgate, sizeof(bgate), NULL))
		scen_fail("the holder or the late thread left its condition wait");

	CHECK_EQ(pthread_mutex_lock(&bm), 0);
	bgo = 1;
	atomic_store(&bgo_flag, 1);
	CHECK_EQ(pthread_cond_broadcast(&bcv), 0);
	CHECK_EQ(pthread_cond_broadcast(&bcv_mono), 0);
	CHECK_EQ(pthread_cond_broadcast(&bcv_real), 0);
	CHECK_EQ(pthread_cond_broadcast(&bgate), 0);
	CHECK_EQ(pthread_mutex_unlock(&bm), 0);
	CHECK_SYS(sem_post(&bsem));
	wake_word(&fword, FUTEX_WAKE_PRIVATE);
	wake_word(&fword_to, FUTEX_WAKE);

	join_within(holder_th, "holder", &holder_done);
	CHECK_EQ(pthread_cancel(bw[B_CANCEL].th), 0);
	for (int k = 0; k < NBLOCK; k++) {
		struct bwaiter *b = &bw[k];
		void *ret;

		if (!bactive(b->kind))
			continue;
		ret = join_within(b->th, bnames[k], b->kind == B_CANCEL ? NULL : &b->done);
		if (b->kind == B_CANCEL) {
			if (ret != PTHREAD_CANCELED || !b->cleaned_up)
				scen_fail(
					"cancel: pthread_cancel of a thread in pthread_cond_wait: "
					"join gave %p, cleanup %s",
					ret, b->cleaned_up ? "ran" : "did not run");
			continue;
		}
		if (b->rc)
			scen_fail("%s: returned %d (%s)", bnames[k], b->rc, strerror(b->rc));
		switch (b->kind) {
		case B_SLEEP:
		case B_SLEEP_SYS:
			if (b->t1 - b->t0 < SLEEP_NS)
				scen_fail("%s: slept %llu ns of %llu", bnames[k],
					  (unsigned long long)(b->t1 - b->t0),
					  (unsigned long long)SLEEP_NS);
			break;
		case B_ABS:
			if (b->t1 < b->deadline)
				scen_fail("%s: woke %llu ns before its deadline", bnames[k],
					  (unsigned long long)(b->deadline - b->t1));
			break;
		case B_READ:
			if (strcmp(b->data, "hello\n"))
				scen_fail("read: got '%s'", b->data);
			break;
		default:
			if (!b->after_go)
				scen_fail("%s: returned before it was woken", bnames[k]);
			if (b->spurious)
				scen_fail("%s: %d spurious wakeups", bnames[k], b->spurious);
			break;
		}
		if (b->kind == B_JOIN && b->value != (uintptr_t)LATE_RET)
			scen_fail("join: the thread's return value is %#lx",
				  (unsigned long)b->value);
	}
	CHECK_SYS(sem_post(&coord_done));
	return COORD_RET;
}

/* Fails if the main thread's pthread_join does not return soon after the
 * coordinator ended. */
static void *watchdog(void *arg)
{
	struct timespec ts;

	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "watchdog"), 0);
	while (sem_wait(&coord_done))
		CHECK_EQ(errno, EINTR);
	ts = ts_of(now_clock(CLOCK_REALTIME) + 5 * NSEC);
	if (sem_timedwait(&main_joined, &ts))
		scen_fail("pthread_join of the coordinator did not return within 5 s of its end "
			  "(%m): the kernel did not clear and wake its tid word");
	return NULL;
}

static void *cancel_me(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int mode_block(bool fifo)
{
	pthread_condattr_t ca;
	pthread_mutexattr_t ma;
	pthread_t coord, dog;
	void *ret;
	int err;

	with_fifo = fifo;
	set_mask(scen_sigbit(SIGTERM));
	CHECK_EQ(pthread_condattr_init(&ca), 0);
	CHECK_EQ(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	CHECK_EQ(pthread_cond_init(&bcv_mono, &ca), 0);
	CHECK_EQ(pthread_mutexattr_init(&ma), 0);
	CHECK_EQ(pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT), 0);
	CHECK_EQ(pthread_mutex_init(&pi_mutex, &ma), 0);
	CHECK_SYS(sem_init(&bsem, 0, 0));
	CHECK_SYS(sem_init(&coord_done, 0, 0));
	CHECK_SYS(sem_init(&main_joined, 0, 0));

	/* a first cancellation before the checkpoint: glibc installs its
	 * SIGCANCEL handler and loads libgcc_s to unwind */
	{
		pthread_t t = spawn(cancel_me, NULL);

		CHECK_EQ(pthread_cancel(t), 0);
		if (join(t) != PTHREAD_CANCELED)
			scen_fail("the first pthread_cancel did not cancel");
	}
	holder_th = spawn(holder, NULL);
	late_th = spawn(late, NULL);
	while (!holder_tid || !late_tid)
		usleep(1000);
	must_block("holder", holder_tid, SYS_futex, &bgate, sizeof(bgate));
	must_block("late", late_tid, SYS_futex, &bgate, sizeof(bgate));
	for (int k = 0; k < NBLOCK; k++) {
		bw[k].kind = (enum bkind)k;
		if (bactive(bw[k].kind))
			bw[k].th = spawn(bwait, &bw[k]);
	}
	for (int k = 0; k < NBLOCK; k++) {
		const void *lo;
		size_t len;
		long nr;

		if (!bactive(bw[k].kind))
			continue;
		while (!atomic_load(&bw[k].tid))
			usleep(1000);
		bwhere(&bw[k], &nr, &lo, &len);
		if (!wait_blocked(bw[k].tid, nr, lo, len, &bw[k].done))
			scen_fail("%s: never blocked in syscall %ld (rc %d)", bnames[k], nr,
				  bw[k].rc);
	}
	dog = spawn(watchdog, NULL);
	coord = spawn(coordinator, NULL);
	CHECK_EQ(pthread_setname_np(pthread_self(), "joiner"), 0);
	scen_ready();

	err = pthread_join(coord, &ret);
	if (err)
		scen_fail("pthread_join of the coordinator: %s", strerror(err));
	CHECK_SYS(sem_post(&main_joined));
	if (ret != COORD_RET)
		scen_fail("pthread_join gave %p, the coordinator returned %p", ret, COORD_RET);
	join(dog);
	scen_pass();
}

/* ---- sigwait ---- */

enum {
	W_INFO,
	W_TIMED,
	W_SIGWAIT,
	NWAIT
};

static const char *const wnames[NWAIT] = { "sigwaitinfo", "sigtimedwait", "sigwait" };
static const int wsig[NWAIT] = { SIGUSR1, SIGUSR2, SIGWINCH };

struct swaiter {
	int kind;
	pthread_t th;
	atomic_int tid, done;
	int got, err;
	siginfo_t si;
};

static struct swaiter sw[NWAIT];

static void *swait(void *arg)
{
	struct swaiter *w = arg;
	struct timespec minute = { 60, 0 };
	sigset_t set;

	CHECK_EQ(pthread_setname_np(pthread_self(), wnames[w->kind]), 0);
	sigemptyset(&set);
	sigaddset(&set, wsig[w->kind]);
	atomic_store(&w->tid, gettid());
	switch (w->kind) {
	case W_INFO:
		w->got = sigwaitinfo(&set, &w->si);
		break;
	case W_TIMED:
		w->got = sigtimedwait(&set, &w->si, &minute);
		break;
	default:
		w->err = sigwait(&set, &w->got);
		break;
	}
	if (w->got < 0)
		w->err = errno;
	atomic_store(&w->done, 1);
	return NULL;
}

static int mode_sigwait(void)
{
	set_mask(scen_sigbit(SIGTERM) | scen_sigbit(SIGUSR1) | scen_sigbit(SIGUSR2) |
		 scen_sigbit(SIGWINCH));
	for (int k = 0; k < NWAIT; k++) {
		sw[k].kind = k;
		sw[k].th = spawn(swait, &sw[k]);
	}
	for (int k = 0; k < NWAIT; k++) {
		while (!atomic_load(&sw[k].tid))
			usleep(1000);
		if (!wait_blocked(sw[k].tid, SYS_rt_sigtimedwait, NULL, 0, &sw[k].done))
			scen_fail("%s: never blocked (returned %d, %s)", wnames[k], sw[k].got,
				  strerror(sw[k].err));
	}
	scen_ready();
	scen_wait();

	{
		char why[512] = "";
		size_t len = 0;

		/* say which of them came back, all at once */
		for (int k = 0; k < NWAIT; k++) {
			if (wait_blocked(sw[k].tid, SYS_rt_sigtimedwait, NULL, 0, &sw[k].done))
				continue;
			if (atomic_load(&sw[k].done))
				len += (size_t)snprintf(why + len, sizeof(why) - len,
							"%s%s returned %d (%s) before any signal "
							"was sent",
							len ? "; " : "", wnames[k], sw[k].got,
							strerror(sw[k].err));
			else
				len += (size_t)snprintf(why + len, sizeof(why) - len,
							"%s%s is not in its call after restart",
							len ? "; " : "", wnames[k]);
			if (len >= sizeof(why))
				len = sizeof(why) - 1;
		}
		if (len)
			scen_fail("%s", why);
	}
	queue_to(sw[W_INFO].th, SIGUSR1, 101);
	queue_to(sw[W_TIMED].th, SIGUSR2, 202);
	CHECK_EQ(pthread_kill(sw[W_SIGWAIT].th, SIGWINCH), 0);
	for (int k = 0; k < NWAIT; k++) {
		join(sw[k].th);
		if (sw[k].got != wsig[k])
			scen_fail("%s: returned %d (%s), expected signal %d", wnames[k], sw[k].got,
				  strerror(sw[k].err), wsig[k]);
	}
	CHECK_EQ(sw[W_INFO].si.si_value.sival_int, 101);
	CHECK_EQ(sw[W_TIMED].si.si_value.sival_int, 202);
	scen_pass();
}

/* ---- robust ---- */

static pthread_mutex_t rob[4]; /* 0, 1 robust; 2 robust and PI; 3 held by a thread gone before */
static struct gate rob_go = GATE_INIT;
static atomic_int rob_locked;
static pid_t owner_tid, lock_tids[2];
static int lock_rc[2];
static atomic_int lock_done[2];
static void *owner_head, *main_head;

static void *robust_head(void)
{
	void *head;
	size_t len;

	CHECK_SYS(syscall(SYS_get_robust_list, 0, &head, &len));
	return head;
}

static void *robust_owner(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "owner"), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_mutex_lock(&rob[i]), 0);
	owner_head = robust_head();
	CHECK(owner_head);
	owner_tid = gettid();
	atomic_store(&rob_locked, 1);
	gate_wait(&rob_go);
	if (robust_head() != owner_head)
		scen_fail("owner: robust list head %p, was %p", robust_head(), owner_head);
	/* ends holding all three */
	return NULL;
}

static void *robust_early(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_mutex_lock(&rob[3]), 0);
	return NULL;
}

static void *robust_locker(void *arg)
{
	int i = (int)(intptr_t)arg;
	int m = i ? 2 : 0;

	CHECK_EQ(pthread_setname_np(pthread_self(), i ? "pi-locker" : "locker"), 0);
	lock_tids[i] = gettid();
	lock_rc[i] = pthread_mutex_lock(&rob[m]);
	atomic_store(&lock_done[i], 1);
	if (lock_rc[i] == EOWNERDEAD) {
		CHECK_EQ(pthread_mutex_consistent(&rob[m]), 0);
		CHECK_EQ(pthread_mutex_unlock(&rob[m]), 0);
	}
	return NULL;
}

static void expect_owner_dead(const char *what, pthread_mutex_t *m)
{
	struct timespec ts = ts_of(now_clock(CLOCK_REALTIME) + 5 * NSEC);
	int rc = pthread_mutex_timedlock(m, &ts);

	if (rc != EOWNERDEAD)
		scen_fail("%s: locking the mutex of the dead owner gave %d (%s), not EOWNERDEAD",
			  what, rc, strerror(rc));
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	CHECK_EQ(pthread_mutex_lock(m), 0); /* consistent again */
	CHECK_EQ(pthread_mutex_unlock(m), 0);
}

static int mode_robust(void)
{
	pthread_mutexattr_t ma;
	pthread_t owner, lockers[2];
	struct timespec ts;

	set_mask(scen_sigbit(SIGTERM));
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(pthread_mutexattr_init(&ma), 0);
		CHECK_EQ(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST), 0);
		if (i == 2)
			CHECK_EQ(pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT), 0);
		CHECK_EQ(pthread_mutex_init(&rob[i], &ma), 0);
		CHECK_EQ(pthread_mutexattr_destroy(&ma), 0);
	}
	join(spawn(robust_early, NULL));
	owner = spawn(robust_owner, NULL);
	while (!atomic_load(&rob_locked))
		usleep(1000);
	gate_must_block("owner", owner_tid, &rob_go);
	for (int i = 0; i < 2; i++) {
		lockers[i] = spawn(robust_locker, (void *)(intptr_t)i);
		while (!lock_tids[i])
			usleep(1000);
		if (!wait_blocked(lock_tids[i], SYS_futex, &rob[i ? 2 : 0], sizeof(int),
				  &lock_done[i]))
			scen_fail("locker %d: never blocked (rc %d)", i, lock_rc[i]);
	}
	main_head = robust_head();
	scen_ready();
	scen_wait();

	if (robust_head() != main_head)
		scen_fail("main: robust list head %p, was %p", robust_head(), main_head);
	for (int i = 0; i < 2; i++)
		if (atomic_load(&lock_done[i]))
			scen_fail("locker %d: its lock returned %d before the owner died", i,
				  lock_rc[i]);
	expect_owner_dead("a mutex whose owner died before the checkpoint", &rob[3]);
	gate_open(&rob_go);
	join(owner);
	expect_owner_dead("robust mutex", &rob[1]);
	for (int i = 0; i < 2; i++) {
		int err;

		ts = ts_of(now_clock(CLOCK_REALTIME) + 5 * NSEC);
		err = pthread_timedjoin_np(lockers[i], NULL, &ts);
		if (err)
			scen_fail("%s blocked since before the checkpoint: still blocked 5 s after "
				  "the owner died (%s): its robust list was not walked",
				  i ? "pi-locker" : "locker", strerror(err));
		if (lock_rc[i] != EOWNERDEAD)
			scen_fail("%s: got %d (%s), not EOWNERDEAD", i ? "pi-locker" : "locker",
				  lock_rc[i], strerror(lock_rc[i]));
	}
	scen_pass();
}

/* ---- many ---- */

#define NMANY 100

struct mworker {
	int idx;
	pthread_t th;
	struct tstate st;
};

static struct mworker mw[NMANY];
static pthread_barrier_t many_bar;
static pthread_key_t many_key;

static void *many_worker(void *arg)
{
	struct mworker *w = arg;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "many-%03d", w->idx);
	set_mask(scen_sigbit(SIGTERM) | scen_sigbit(SIGRTMIN + 3) |
		 scen_sigbit(SIGRTMIN + 4 + w->idx % 24));
	tls_val = tls_expect(w->idx);
	CHECK_EQ(pthread_setspecific(many_key, w), 0);
	ts_record(&w->st, name);
	CHECK_SYS(sem_post(&setup_sem));
	pthread_barrier_wait(&many_bar);

	ts_check(&w->st);
	if (tls_val != tls_expect(w->idx))
		scen_fail("%s: TLS value %#llx", name, (unsigned long long)tls_val);
	if (pthread_getspecific(many_key) != w)
		scen_fail("%s: thread-specific value %p, was %p", name,
			  pthread_getspecific(many_key), (void *)w);
	check_rseq(name, false);
	if (pending_word() != scen_sigbit(SIGRTMIN + 3))
		scen_fail("%s: pending signals %#llx", name, (unsigned long long)pending_word());
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	expect_signal(name, &set, SIGRTMIN + 3, SI_QUEUE, w->idx);
	expect_signal(name, &set, SIGRTMIN + 3, SI_QUEUE, 100000 + w->idx);
	expect_none(name, &set);
	return NULL;
}

static int mode_many(void)
{
	pthread_attr_t attr;
	struct tstate main_st;

	set_mask(scen_sigbit(SIGTERM) | scen_sigbit(SIGRTMIN + 3));
	CHECK_SYS(sem_init(&setup_sem, 0, 0));
	CHECK_EQ(pthread_barrier_init(&many_bar, NULL, NMANY + 1), 0);
	CHECK_EQ(pthread_key_create(&many_key, NULL), 0);
	CHECK_EQ(pthread_attr_init(&attr), 0);
	CHECK_EQ(pthread_attr_setstacksize(&attr, 128 << 10), 0);
	for (int i = 0; i < NMANY; i++) {
		int err;

		mw[i].idx = i;
		err = pthread_create(&mw[i].th, &attr, many_worker, &mw[i]);
		if (err)
			scen_fail("pthread_create %d: %s", i, strerror(err));
	}
	for (int i = 0; i < NMANY; i++)
		CHECK_SYS(sem_wait(&setup_sem));
	for (int i = 0; i < NMANY; i++) {
		queue_to(mw[i].th, SIGRTMIN + 3, i);
		queue_to(mw[i].th, SIGRTMIN + 3, 100000 + i);
	}
	for (int i = 0; i < NMANY; i++)
		must_block("many", mw[i].st.tid, SYS_futex, &many_bar, sizeof(many_bar));
	ts_record(&main_st, "many-main");
	scen_ready();
	scen_wait();

	ts_check(&main_st);
	if (pending_word())
		scen_fail("main: pending signals %#llx", (unsigned long long)pending_word());
	pthread_barrier_wait(&many_bar);
	for (int i = 0; i < NMANY; i++)
		join(mw[i].th);
	scen_pass();
}

/* ---- pool ---- */

#define NPOOL 4
#define QCAP 16
#define TASK_SPAN 1000

static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_nonempty = PTHREAD_COND_INITIALIZER, q_nonfull = PTHREAD_COND_INITIALIZER;
static uint64_t queue_buf[QCAP];
static size_t q_head, q_len;
static bool q_stop;
static uint64_t produced, done_tasks, total, per_worker[NPOOL];
static atomic_ullong done_atomic, spin_progress[2];
static atomic_int spin_stop;

/* sum of i*i for i in [0, n) modulo 2^64 */
static uint64_t squares_below(uint64_t n)
{
	unsigned __int128 m = n ? n - 1 : 0;

	if (!n)
		return 0;
	return (uint64_t)(m * (m + 1) / 2 * (2 * m + 1) / 3);
}

static void *producer(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "producer"), 0);
	CHECK_EQ(pthread_mutex_lock(&qm), 0);
	while (!q_stop) {
		while (q_len == QCAP && !q_stop)
			CHECK_EQ(pthread_cond_wait(&q_nonfull, &qm), 0);
		if (q_stop)
			break;
		queue_buf[(q_head + q_len++) % QCAP] = produced++;
		CHECK_EQ(pthread_cond_signal(&q_nonempty), 0);
	}
	CHECK_EQ(pthread_mutex_unlock(&qm), 0);
	return NULL;
}

static void *pool_worker(void *arg)
{
	int idx = (int)(intptr_t)arg;
	char name[16];

	snprintf(name, sizeof(name), "pool-%d", idx);
	CHECK_EQ(pthread_setname_np(pthread_self(), name), 0);
	CHECK_EQ(pthread_mutex_lock(&qm), 0);
	for (;;) {
		uint64_t k, sum = 0;

		while (!q_len && !q_stop)
			CHECK_EQ(pthread_cond_wait(&q_nonempty, &qm), 0);
		if (!q_len)
			break;
		k = queue_buf[q_head];
		q_head = (q_head + 1) % QCAP;
		q_len--;
		CHECK_EQ(pthread_cond_signal(&q_nonfull), 0);
		CHECK_EQ(pthread_mutex_unlock(&qm), 0);
		for (uint64_t i = k * TASK_SPAN; i < (k + 1) * TASK_SPAN; i++)
			sum += i * i;
		CHECK_EQ(pthread_mutex_lock(&qm), 0);
		total += sum;
		done_tasks++;
		per_worker[idx]++;
		atomic_fetch_add(&done_atomic, 1);
	}
	CHECK_EQ(pthread_mutex_unlock(&qm), 0);
	return NULL;
}

struct spin_result {
	uint64_t n, x;
};

/* Adds i*i for i = 1, 2, ... in user code until told to stop. */
static void *spinner(void *arg)
{
	int idx = (int)(intptr_t)arg;
	struct spin_result *r = malloc(sizeof(*r));
	uint64_t n = 0, x = 0;

	CHECK(r);
	CHECK_EQ(pthread_setname_np(pthread_self(), idx ? "spin-1" : "spin-0"), 0);
	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed)) {
		n++;
		x += n * n;
		if (!(n & 0xfff))
			atomic_store_explicit(&spin_progress[idx], n, memory_order_relaxed);
	}
	r->n = n;
	r->x = x;
	return r;
}

static int mode_pool(void)
{
	pthread_t workers[NPOOL], prod, spin[2];
	uint64_t at_ready, at_term, spin_at_term[2];

	set_mask(scen_sigbit(SIGTERM));
	for (int i = 0; i < NPOOL; i++)
		workers[i] = spawn(pool_worker, (void *)(intptr_t)i);
	prod = spawn(producer, NULL);
	for (int i = 0; i < 2; i++)
		spin[i] = spawn(spinner, (void *)(intptr_t)i);
	while (atomic_load(&done_atomic) < 1000 || !atomic_load(&spin_progress[0]) ||
	       !atomic_load(&spin_progress[1]))
		usleep(1000);
	at_ready = atomic_load(&done_atomic);
	scen_ready();
	scen_wait();

	/* it worked through the checkpoint, and works on */
	at_term = atomic_load(&done_atomic);
	for (int i = 0; i < 2; i++)
		spin_at_term[i] = atomic_load(&spin_progress[i]);
	if (at_term <= at_ready)
		scen_fail("the pool did no work: %llu tasks at ready, %llu now",
			  (unsigned long long)at_ready, (unsigned long long)at_term);
	usleep(100000);
	if (atomic_load(&done_atomic) <= at_term)
		scen_fail("the pool stopped working after restart: %llu tasks",
			  (unsigned long long)at_term);
	for (int i = 0; i < 2; i++)
		if (atomic_load(&spin_progress[i]) <= spin_at_term[i])
			scen_fail("spinner %d stopped after restart at %llu", i,
				  (unsigned long long)spin_at_term[i]);

	CHECK_EQ(pthread_mutex_lock(&qm), 0);
	q_stop = true;
	CHECK_EQ(pthread_cond_broadcast(&q_nonempty), 0);
	CHECK_EQ(pthread_cond_broadcast(&q_nonfull), 0);
	CHECK_EQ(pthread_mutex_unlock(&qm), 0);
	join(prod);
	for (int i = 0; i < NPOOL; i++)
		join(workers[i]);
	atomic_store(&spin_stop, 1);
	for (int i = 0; i < 2; i++) {
		struct spin_result *r = join(spin[i]);

		if (r->x != squares_below(r->n + 1))
			scen_fail("spinner %d: sum %#llx after %llu steps, expected %#llx", i,
				  (unsigned long long)r->x, (unsigned long long)r->n,
				  (unsigned long long)squares_below(r->n + 1));
		free(r);
	}
	if (done_tasks != produced || q_len)
		scen_fail("%llu tasks produced, %llu done, %zu queued",
			  (unsigned long long)produced, (unsigned long long)done_tasks, q_len);
	{
		uint64_t sum = 0;

		for (int i = 0; i < NPOOL; i++) {
			if (!per_worker[i])
				scen_fail("pool-%d did no task", i);
			sum += per_worker[i];
		}
		CHECK_EQ(sum, done_tasks);
	}
	if (total != squares_below(produced * TASK_SPAN))
		scen_fail("total %#llx over %llu tasks, expected %#llx", (unsigned long long)total,
			  (unsigned long long)produced,
			  (unsigned long long)squares_below(produced * TASK_SPAN));
	scen_pass();
}

/* ---- churn ---- */

static atomic_ullong joined_n, det_created, det_done;
static atomic_int churn_stop, churn_bad;

static void *tiny(void *arg)
{
	return (void *)((uintptr_t)arg * 3 + 1);
}

static void *tiny_detached(void *arg)
{
	(void)arg;
	atomic_fetch_add(&det_done, 1);
	return NULL;
}

static void *joiner_loop(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "churn-join"), 0);
	for (uintptr_t k = 1; !atomic_load(&churn_stop); k++) {
		pthread_t t = spawn(tiny, (void *)k);

		if ((uintptr_t)join(t) != k * 3 + 1)
			atomic_fetch_add(&churn_bad, 1);
		atomic_fetch_add(&joined_n, 1);
	}
	return NULL;
}

static void *detach_loop(void *arg)
{
	pthread_attr_t attr;

	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "churn-detach"), 0);
	CHECK_EQ(pthread_attr_init(&attr), 0);
	CHECK_EQ(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
	CHECK_EQ(pthread_attr_setstacksize(&attr, 64 << 10), 0);
	while (!atomic_load(&churn_stop)) {
		pthread_t t;
		int err;

		if (atomic_load(&det_created) - atomic_load(&det_done) > 8) {
			usleep(100);
			continue;
		}
		err = pthread_create(&t, &attr, tiny_detached, NULL);
		if (err)
			scen_fail("pthread_create (detached): %s", strerror(err));
		atomic_fetch_add(&det_created, 1);
	}
	return NULL;
}

static int mode_churn(void)
{
	pthread_t a, b;
	uint64_t j0, d0;

	set_mask(scen_sigbit(SIGTERM));
	a = spawn(joiner_loop, NULL);
	b = spawn(detach_loop, NULL);
	while (atomic_load(&joined_n) < 100 || atomic_load(&det_done) < 100)
		usleep(1000);
	scen_ready();
	scen_wait();

	j0 = atomic_load(&joined_n);
	d0 = atomic_load(&det_done);
	usleep(100000);
	if (atomic_load(&joined_n) <= j0 || atomic_load(&det_done) <= d0)
		scen_fail("threads are no longer created after restart: %llu joined, %llu "
			  "detached ended",
			  (unsigned long long)j0, (unsigned long long)d0);
	atomic_store(&churn_stop, 1);
	join(a);
	join(b);
	for (int i = 0; i < 2000 && atomic_load(&det_done) != atomic_load(&det_created); i++)
		usleep(1000);
	if (atomic_load(&det_done) != atomic_load(&det_created))
		scen_fail("%llu detached threads created, %llu ended",
			  (unsigned long long)atomic_load(&det_created),
			  (unsigned long long)atomic_load(&det_done));
	if (atomic_load(&churn_bad))
		scen_fail("%d joins returned a wrong value", atomic_load(&churn_bad));
	scen_pass();
}

/* ---- regs ---- */

#define NREGS 4

struct vregs {
	uint8_t ymm[16][32];
	uint8_t zmm[16][64]; /* zmm16-31 */
	uint32_t mxcsr;
};

struct rworker {
	int idx;
	pthread_t th;
	atomic_int tid, loaded, go;
	struct vregs in, out;
};

static struct rworker rw[NREGS];
static bool have_avx512;

/* Loads the registers, says so, waits for go (spinning, or in FUTEX_WAIT
 * when block), stores them. */
static void hold_ymm(struct rworker *w, bool block)
{
	uint32_t saved = get_mxcsr();

#define LOADY(n) "vmovdqu " #n "*32(%[in]), %%ymm" #n "\n\t"
#define STOREY(n) "vmovdqu %%ymm" #n ", " #n "*32(%[out])\n\t"
#define ALLY(M)                                                                                    \
	M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
	if (block)
		__asm__ volatile("ldmxcsr %[mx]\n\t" ALLY(
					 LOADY) "movl $1, (%[loaded])\n\t"
						"1: mov $202, %%eax\n\t"
						"mov %[go], %%rdi\n\t"
						"mov $128, %%esi\n\t"
						"xor %%edx, %%edx\n\t"
						"xor %%r10d, %%r10d\n\t"
						"syscall\n\t"
						"cmpl $0, (%[go])\n\t"
						"je 1b\n\t" ALLY(STOREY) "stmxcsr %[mxo]\n\t"
				 : [mxo] "=m"(w->out.mxcsr)
				 : [in] "r"(w->in.ymm), [out] "r"(w->out.ymm),
				   [mx] "m"(w->in.mxcsr), [loaded] "r"(&w->loaded), [go] "r"(&w->go)
				 : "rax", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "memory",
				   "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
				   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
				   "xmm15");
	else
		__asm__ volatile("ldmxcsr %[mx]\n\t" ALLY(
					 LOADY) "movl $1, (%[loaded])\n\t"
						"1: pause\n\t"
						"cmpl $0, (%[go])\n\t"
						"je 1b\n\t" ALLY(STOREY) "stmxcsr %[mxo]\n\t"
				 : [mxo] "=m"(w->out.mxcsr)
				 : [in] "r"(w->in.ymm), [out] "r"(w->out.ymm),
				   [mx] "m"(w->in.mxcsr), [loaded] "r"(&w->loaded), [go] "r"(&w->go)
				 : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
				   "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
				   "xmm14", "xmm15");
	set_fpu(saved, get_fcw());
}

__attribute__((target("avx512f"))) static void hold_zmm(struct rworker *w, bool block)
{
	uint32_t saved = get_mxcsr();

#define LOADZ(n, k) "vmovdqu64 " #k "*64(%[in]), %%zmm" #n "\n\t"
#define STOREZ(n, k) "vmovdqu64 %%zmm" #n ", " #k "*64(%[out])\n\t"
#define ALLZ(M)                                                                                    \
	M(16, 0)                                                                                   \
	M(17, 1)                                                                                   \
	M(18, 2)                                                                                   \
	M(19, 3)                                                                                   \
	M(20, 4)                                                                                   \
	M(21, 5)                                                                                   \
	M(22, 6)                                                                                   \
	M(23, 7) M(24, 8) M(25, 9) M(26, 10) M(27, 11) M(28, 12) M(29, 13) M(30, 14) M(31, 15)
	if (block)
		__asm__ volatile("ldmxcsr %[mx]\n\t" ALLZ(
					 LOADZ) "movl $1, (%[loaded])\n\t"
						"1: mov $202, %%eax\n\t"
						"mov %[go], %%rdi\n\t"
						"mov $128, %%esi\n\t"
						"xor %%edx, %%edx\n\t"
						"xor %%r10d, %%r10d\n\t"
						"syscall\n\t"
						"cmpl $0, (%[go])\n\t"
						"je 1b\n\t" ALLZ(STOREZ) "stmxcsr %[mxo]\n\t"
				 : [mxo] "=m"(w->out.mxcsr)
				 : [in] "r"(w->in.zmm), [out] "r"(w->out.zmm),
				   [mx] "m"(w->in.mxcsr), [loaded] "r"(&w->loaded), [go] "r"(&w->go)
				 : "rax", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "memory",
				   "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
				   "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",
				   "xmm30", "xmm31");
	else
		__asm__ volatile("ldmxcsr %[mx]\n\t" ALLZ(
					 LOADZ) "movl $1, (%[loaded])\n\t"
						"1: pause\n\t"
						"cmpl $0, (%[go])\n\t"
						"je 1b\n\t" ALLZ(STOREZ) "stmxcsr %[mxo]\n\t"
				 : [mxo] "=m"(w->out.mxcsr)
				 : [in] "r"(w->in.zmm), [out] "r"(w->out.zmm),
				   [mx] "m"(w->in.mxcsr), [loaded] "r"(&w->loaded), [go] "r"(&w->go)
				 : "memory", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
				   "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28",
				   "xmm29", "xmm30", "xmm31");
	set_fpu(saved, get_fcw());
}

static void *regs_worker(void *arg)
{
	struct rworker *w = arg;
	char name[16];

	snprintf(name, sizeof(name), "regs-%d", w->idx);
	CHECK_EQ(pthread_setname_np(pthread_self(), name), 0);
	atomic_store(&w->tid, gettid());
	if (have_avx512)
		hold_zmm(w, w->idx % 2);
	else
		hold_ymm(w, w->idx % 2);
	return NULL;
}

static int mode_regs(void)
{
	set_mask(scen_sigbit(SIGTERM));
	if (!__builtin_cpu_supports("avx"))
		scen_fail("no AVX: cannot test");
	have_avx512 = __builtin_cpu_supports("avx512f");
	for (int i = 0; i < NREGS; i++) {
		struct rworker *w = &rw[i];

		w->idx = i;
		for (size_t j = 0; j < sizeof(w->in.ymm); j++)
			((uint8_t *)w->in.ymm)[j] = (uint8_t)(j * 7 + (size_t)i * 59 + 1);
		for (size_t j = 0; j < sizeof(w->in.zmm); j++)
			((uint8_t *)w->in.zmm)[j] = (uint8_t)(j * 13 + (size_t)i * 101 + 3);
		w->in.mxcsr = 0x1f80U | (uint32_t)(i % 4) << 13 | (i % 2 ? 0x8040U : 0);
		w->th = spawn(regs_worker, w);
	}
	for (int i = 0; i < NREGS; i++) {
		while (!atomic_load(&rw[i].loaded))
			usleep(1000);
		if (i % 2)
			must_block("regs", rw[i].tid, SYS_futex, &rw[i].go, sizeof(rw[i].go));
	}
	scen_ready();
	scen_wait();

	for (int i = 0; i < NREGS; i++)
		wake_word(&rw[i].go, FUTEX_WAKE_PRIVATE);
	for (int i = 0; i < NREGS; i++) {
		struct rworker *w = &rw[i];

		join(w->th);
		if (have_avx512 ? memcmp(w->in.zmm, w->out.zmm, sizeof(w->in.zmm))
				: memcmp(w->in.ymm, w->out.ymm, sizeof(w->in.ymm)))
			scen_fail("regs-%d: its vector registers changed", i);
		if (w->out.mxcsr != w->in.mxcsr)
			scen_fail("regs-%d: MXCSR %#x, was %#x", i, w->out.mxcsr, w->in.mxcsr);
	}
	scen_pass();
}

/* ---- tree and pdeath ---- */

/* Shared between the processes (MAP_SHARED): who is ready. */
struct shared {
	atomic_int child_ready, grand_ready;
	atomic_int grand_usr1;
	pid_t child, grand;
	/* process-shared: a thread of the child waits for the root */
	pthread_mutex_t pm;
	pthread_cond_t pcv;
	int pgo;
	atomic_int pdone;
	int prc, pspurious;
};

static struct shared *sh;
static struct gate tree_go = GATE_INIT;

struct tworker {
	pthread_t th;
	struct tstate st;
	char name[16];
	int tlsv;
};

static void *tree_worker(void *arg)
{
	struct tworker *w = arg;

	set_mask(scen_sigbit(SIGTERM) | scen_sigbit(SIGUSR1));
	tls_val = (uint64_t)w->tlsv;
	ts_record(&w->st, w->name);
	gate_wait(&tree_go);
	ts_check(&w->st);
	if (tls_val != (uint64_t)w->tlsv)
		scen_fail("%s: TLS value %llu", w->name, (unsigned long long)tls_val);
	return NULL;
}

static void start_workers(struct tworker *w, int n, const char *prefix)
{
	for (int i = 0; i < n; i++) {
		snprintf(w[i].name, sizeof(w[i].name), "%s-%d", prefix, i);
		w[i].tlsv = (int)getpid() * 10 + i;
		w[i].th = spawn(tree_worker, &w[i]);
	}
	for (int i = 0; i < n; i++) {
		while (!w[i].st.tid)
			usleep(1000);
		gate_must_block(w[i].name, w[i].st.tid, &tree_go);
	}
}

static void finish_workers(struct tworker *w, int n)
{
	gate_open(&tree_go);
	for (int i = 0; i < n; i++)
		join(w[i].th);
}

static void wait_child(const char *who, pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		scen_fail("%s: waitpid(%d): %m", who, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		scen_fail("%s: child %d ended with status 0x%x", who, pid, status);
}

static void check_ppid(const char *who, pid_t ppid)
{
	if (getppid() != ppid)
		scen_fail("%s: parent %d, expected %d", who, getppid(), ppid);
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&sh->grand_usr1, 1);
}

/* The grandchild: threads of its own; in pdeath mode a parent-death signal. */
static void grandchild(bool pdeath, pid_t parent)
{
	struct tworker w[2];
	struct tstate st;

	memset(w, 0, sizeof(w));
	if (pdeath) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		sigemptyset(&sa.sa_mask);
		CHECK_SYS(sigaction(SIGUSR1, &sa, NULL));
		CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGUSR1));
		check_ppid("grandchild", parent); /* its forking thread still runs */
	} else {
		CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL)); /* no orphan if the child fails */
	}
	start_workers(w, 2, "grand");
	ts_record(&st, "grand-main");
	atomic_store(&sh->grand_ready, 1);
	/* scen_wait, but ending should the child process die */
	while (!scen_told()) {
		if (getppid() != parent)
			scen_fail("grandchild: its parent %d died", parent);
		usleep(5000);
	}
	ts_check(&st);
	finish_workers(w, 2);
	if (pdeath) {
		/* the signal comes when the forking thread has exited, which
		 * the parent waited for before it sent SIGTERM */
		for (int i = 0; i < 2000 && !atomic_load(&sh->grand_usr1); i++)
			usleep(1000);
		if (!atomic_load(&sh->grand_usr1))
			scen_fail("grandchild: no parent-death signal (SIGUSR1) when the thread "
				  "of %d that forked it exited",
				  parent);
	}
	check_ppid("grandchild", parent);
	scen_pass();
}

static bool pdeath_mode;
static struct gate forker_go = GATE_INIT;
static atomic_int forker_tid;

/* Forks the grandchild from a thread; waits for it (tree) or exits when told
 * (pdeath). */
static void *forker(void *arg)
{
	pid_t parent = getpid(), g;

	(void)arg;
	set_mask(scen_sigbit(SIGTERM) | scen_sigbit(SIGUSR1));
	CHECK_EQ(pthread_setname_np(pthread_self(), "forker"), 0);
	g = fork();
	CHECK_SYS(g);
	if (!g) {
		set_mask(0);
		grandchild(pdeath_mode, parent);
	}
	sh->grand = g;
	atomic_store(&forker_tid, gettid());
	if (pdeath_mode) {
		gate_wait(&forker_go);
		return NULL;
	}
	wait_child("child's forker thread", g);
	return NULL;
}

static atomic_int pshared_tid;

/* In the child: waits on the process-shared condition variable. */
static void *pshared_waiter(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "pshared"), 0);
	atomic_store(&pshared_tid, gettid());
	sh->prc = cond_loop_until(&sh->pcv, &sh->pm, &sh->pgo, NULL, &sh->pspurious);
	atomic_store(&sh->pdone, 1);
	return NULL;
}

static void child(pid_t parent)
{
	struct tworker w[3];
	struct tstate st;
	pthread_t f, ps;

	memset(w, 0, sizeof(w));
	CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL)); /* no orphan if the root fails */
	set_mask(scen_sigbit(SIGTERM));
	f = spawn(forker, NULL);
	while (!atomic_load(&sh->grand_ready) || !atomic_load(&forker_tid))
		usleep(1000);
	if (pdeath_mode)
		gate_must_block("forker", forker_tid, &forker_go);
	else
		must_block("forker", forker_tid, SYS_wait4, (void *)(uintptr_t)sh->grand, 1);
	start_workers(w, 3, "child");
	ps = spawn(pshared_waiter, NULL);
	while (!atomic_load(&pshared_tid))
		usleep(1000);
	must_block("pshared", pshared_tid, SYS_futex, &sh->pcv, sizeof(sh->pcv));
	ts_record(&st, "child-main");
	atomic_store(&sh->child_ready, 1);
	scen_wait();

	ts_check(&st);
	check_ppid("child", parent);
	finish_workers(w, 3);
	/* the root woke it, through the shared memory, before our SIGTERM */
	join_within(ps, "pshared", &sh->pdone);
	if (sh->prc || sh->pspurious)
		scen_fail("pshared: pthread_cond_wait gave %d, %d spurious wakeups", sh->prc,
			  sh->pspurious);
	if (pdeath_mode) {
		gate_open(&forker_go);
		join(f);
		CHECK(sh->grand > 0);
		CHECK_SYS(kill(sh->grand, SIGTERM));
		wait_child("child", sh->grand);
	} else {
		CHECK(sh->grand > 0);
		CHECK_SYS(kill(sh->grand, SIGTERM));
		join(f);
	}
	scen_pass();
}

struct reaper {
	pid_t pid;
	atomic_int tid;
	int status;
	pid_t got;
};

static void *reaper_thread(void *arg)
{
	struct reaper *r = arg;

	CHECK_EQ(pthread_setname_np(pthread_self(), "reaper"), 0);
	atomic_store(&r->tid, gettid());
	r->got = waitpid(r->pid, &r->status, 0);
	return NULL;
}

static int mode_tree(bool pdeath)
{
	struct reaper r = { 0 };
	struct tworker w[2];
	struct tstate st;
	pthread_t rt;

	pdeath_mode = pdeath;
	memset(w, 0, sizeof(w));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	{
		pthread_mutexattr_t ma;
		pthread_condattr_t ca;

		CHECK_EQ(pthread_mutexattr_init(&ma), 0);
		CHECK_EQ(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), 0);
		CHECK_EQ(pthread_mutex_init(&sh->pm, &ma), 0);
		CHECK_EQ(pthread_condattr_init(&ca), 0);
		CHECK_EQ(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), 0);
		CHECK_EQ(pthread_cond_init(&sh->pcv, &ca), 0);
	}
	set_mask(scen_sigbit(SIGTERM));
	r.pid = fork(); /* not straight into shared memory, where the child writes 0 */
	CHECK_SYS(r.pid);
	if (!r.pid) {
		set_mask(0);
		child(getppid());
	}
	sh->child = r.pid;
	rt = spawn(reaper_thread, &r);
	while (!atomic_load(&r.tid) || !atomic_load(&sh->child_ready))
		usleep(1000);
	must_block("reaper", r.tid, SYS_wait4, (void *)(uintptr_t)r.pid, 1);
	start_workers(w, 2, "root");
	ts_record(&st, "root-main");
	scen_ready();
	scen_wait();

	ts_check(&st);
	finish_workers(w, 2);
	/* wake the child's thread through the shared memory */
	CHECK_EQ(pthread_mutex_lock(&sh->pm), 0);
	sh->pgo = 1;
	CHECK_EQ(pthread_cond_broadcast(&sh->pcv), 0);
	CHECK_EQ(pthread_mutex_unlock(&sh->pm), 0);
	CHECK(sh->child > 0);
	CHECK_SYS(kill(sh->child, SIGTERM));
	join(rt);
	if (r.got != sh->child)
		scen_fail("reaper: waitpid gave %d: %s", r.got, strerror(errno));
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status))
		scen_fail("the child ended with status 0x%x", r.status);
	scen_pass();
}

/* ---- stopped ---- */

enum {
	R_COND,
	R_FUTEX,
	R_SLEEP,
	R_SLEEP_SYS,
	R_ABS,
	R_POLL,
	NSTOP
};

static const char *const rnames[NSTOP] = { "r-cond",	  "r-futex", "r-sleep",
					   "r-sleep-sys", "r-abs",   "r-poll" };

#define RSLEEP_NS (1500 * 1000000ULL)

struct rwaiter {
	int kind;
	pthread_t th;
	atomic_int tid, done;
	int rc, spurious, after_go;
	uint64_t t0, t1, deadline;
};

static struct rwaiter rsw[NSTOP];
static bool stop_raw; /* with R_SLEEP_SYS */
static pthread_cond_t rcv;
static atomic_int rword;

static void *rwait(void *arg)
{
	struct rwaiter *r = arg;
	struct timespec ts, rem;
	long n;

	CHECK_EQ(pthread_setname_np(pthread_self(), rnames[r->kind]), 0);
	atomic_store(&r->tid, gettid());
	r->t0 = now_clock(CLOCK_MONOTONIC);
	switch (r->kind) {
	case R_COND:
		ts = ts_of(r->t0 + 60 * NSEC);
		r->rc = cond_loop(&rcv, &ts, &r->spurious);
		break;
	case R_FUTEX:
		ts = ts_of(60 * NSEC);
		r->rc = futex(&rword, FUTEX_WAIT_PRIVATE, 0, &ts) ? errno : 0;
		break;
	case R_SLEEP:
		ts = ts_of(RSLEEP_NS);
		r->rc = nanosleep(&ts, &rem) ? errno : 0;
		break;
	case R_SLEEP_SYS:
		ts = ts_of(RSLEEP_NS);
		r->rc = syscall(SYS_nanosleep, &ts, &rem) ? errno : 0;
		break;
	case R_ABS:
		r->deadline = r->t0 + RSLEEP_NS;
		ts = ts_of(r->deadline);
		r->rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		break;
	default:
		n = poll(NULL, 0, (int)(RSLEEP_NS / 1000000));
		r->rc = n < 0 ? errno : n ? -1 : 0;
		break;
	}
	r->t1 = now_clock(CLOCK_MONOTONIC);
	r->after_go = atomic_load(&bgo_flag);
	atomic_store(&r->done, 1);
	return NULL;
}

static char proc_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : 0;
}

/* A stop and a continue (as Ctrl-Z and fg would), from a helper process:
 * the waits with a timeout go on as restart_syscall. */
static void stop_and_continue(void)
{
	pid_t me = getpid(), helper = fork();

	CHECK_SYS(helper);
	if (!helper) {
		int ok = 0;

		kill(me, SIGSTOP);
		for (int i = 0; i < 5000 && !ok; i++) {
			ok = proc_state(me, me) == 'T';
			usleep(1000);
		}
		kill(me, SIGCONT);
		_exit(ok ? 0 : 1);
	}
	wait_child("stop helper", helper);
}

static bool ractive(int k)
{
	return k != R_SLEEP_SYS || stop_raw;
}

static int mode_stopped(bool raw)
{
	pthread_condattr_t ca;

	stop_raw = raw;
	set_mask(scen_sigbit(SIGTERM));
	CHECK_EQ(pthread_condattr_init(&ca), 0);
	CHECK_EQ(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	CHECK_EQ(pthread_cond_init(&rcv, &ca), 0);
	for (int k = 0; k < NSTOP; k++) {
		rsw[k].kind = k;
		if (ractive(k))
			rsw[k].th = spawn(rwait, &rsw[k]);
	}
	for (int k = 0; k < NSTOP; k++) {
		static const long nrs[NSTOP] = { SYS_futex,	      SYS_futex,
						 SYS_clock_nanosleep, SYS_nanosleep,
						 SYS_clock_nanosleep, SYS_poll };

		if (!ractive(k))
			continue;
		while (!atomic_load(&rsw[k].tid))
			usleep(1000);
		if (!wait_blocked(rsw[k].tid, nrs[k], NULL, 0, &rsw[k].done))
			scen_fail("%s: never blocked (rc %d)", rnames[k], rsw[k].rc);
	}
	stop_and_continue();
	/* the precondition: each goes on through restart_syscall (the
	 * absolute sleep restarts as itself) */
	for (int k = 0; k < NSTOP; k++) {
		long nr = k == R_ABS ? SYS_clock_nanosleep : SYS_restart_syscall;

		if (ractive(k) && !wait_blocked(rsw[k].tid, nr, NULL, 0, &rsw[k].done))
			scen_fail("%s: not in syscall %ld after the stop (rc %d)", rnames[k], nr,
				  rsw[k].rc);
	}
	scen_ready();
	scen_wait();

	for (int k = 0; k < 2; k++) {
		if (!wait_blocked(rsw[k].tid, SYS_futex, NULL, 0, &rsw[k].done)) {
			if (atomic_load(&rsw[k].done))
				scen_fail("%s: returned %d (%s) before it was woken", rnames[k],
					  rsw[k].rc, strerror(rsw[k].rc));
			scen_fail("%s: not in its call after restart", rnames[k]);
		}
	}
	CHECK_EQ(pthread_mutex_lock(&bm), 0);
	bgo = 1;
	atomic_store(&bgo_flag, 1);
	CHECK_EQ(pthread_cond_broadcast(&rcv), 0);
	CHECK_EQ(pthread_mutex_unlock(&bm), 0);
	wake_word(&rword, FUTEX_WAKE_PRIVATE);
	for (int k = 0; k < NSTOP; k++) {
		struct rwaiter *r = &rsw[k];

		if (!ractive(k))
			continue;
		join(r->th);
		if (r->rc)
			scen_fail("%s: returned %d (%s)", rnames[k], r->rc,
				  r->rc > 0 ? strerror(r->rc) : "an event");
		if (k == R_COND || k == R_FUTEX) {
			if (!r->after_go || r->spurious)
				scen_fail("%s: returned before it was woken", rnames[k]);
		} else if (k == R_ABS ? r->t1 < r->deadline : r->t1 - r->t0 < RSLEEP_NS) {
			scen_fail("%s: slept %llu ns of %llu", rnames[k],
				  (unsigned long long)(r->t1 - r->t0),
				  (unsigned long long)RSLEEP_NS);
		}
	}
	scen_pass();
}

/* ---- clone-vm ---- */

static atomic_ulong vm_counter;
static atomic_int vm_stop;

/* A process of its own sharing our memory (CLONE_VM without CLONE_THREAD):
 * raw syscalls only, it shares our TLS too. */
static int vm_child(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	(void)arg;
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* no orphan if we fail */
	while (!atomic_load(&vm_stop)) {
		atomic_fetch_add(&vm_counter, 1);
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

static int mode_clone_vm(void)
{
	size_t size = 256 << 10;
	char *stack = malloc(size);
	uint64_t c0;
	pid_t pid;

	CHECK(stack);
	set_mask(scen_sigbit(SIGTERM));
	pid = clone(vm_child, stack + size, CLONE_VM | SIGCHLD, NULL);
	CHECK_SYS(pid);
	while (atomic_load(&vm_counter) < 10)
		usleep(1000);
	scen_ready();
	scen_wait();

	c0 = atomic_load(&vm_counter);
	usleep(100000);
	if (atomic_load(&vm_counter) <= c0)
		scen_fail("process %d shares our memory (CLONE_VM) but its counting no longer "
			  "shows in it: %llu",
			  pid, (unsigned long long)c0);
	atomic_store(&vm_stop, 1);
	wait_child("clone-vm", pid);
	scen_pass();
}

/* ---- creds ---- */

static atomic_int creds_set;

static void *own_creds(void *arg)
{
	(void)arg;
	CHECK_EQ(pthread_setname_np(pthread_self(), "own-creds"), 0);
	/* the raw syscall changes this thread only (glibc's setresgid would
	 * change every thread) */
	CHECK_SYS(syscall(SYS_setresgid, -1, 4242, -1));
	atomic_store(&creds_set, 1);
	for (;;)
		pause();
	return NULL;
}

static int mode_creds(void)
{
	gid_t r, e, s;
	pthread_t t;

	set_mask(scen_sigbit(SIGTERM));
	t = spawn(own_creds, NULL);
	while (!atomic_load(&creds_set))
		usleep(1000);
	scen_ready();
	scen_wait();
	CHECK_SYS(getresgid(&r, &e, &s));
	CHECK(e != 4242);
	(void)t;
	scen_pass();
}

/* ---- main-exit ---- */

static pid_t main_pid;

/* Outlives the main thread; creates "ready" once it has exited, when arg
 * is not NULL. */
static void *survivor(void *arg)
{
	if (!arg) /* in the child: no orphan if the root fails */
		CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL));
	for (int i = 0; proc_state(main_pid, main_pid) != 'Z'; i++) {
		if (i > 5000)
			scen_fail("the main thread did not exit");
		usleep(1000);
	}
	if (arg)
		scen_ready();
	scen_wait();
	scen_pass();
}

static int mode_main_exit(bool in_child)
{
	pid_t pid;

	main_pid = getpid();
	set_mask(scen_sigbit(SIGTERM));
	if (!in_child) {
		spawn(survivor, (void *)1);
		pthread_exit(NULL);
	}
	pid = fork();
	CHECK_SYS(pid);
	if (!pid) {
		main_pid = getpid();
		spawn(survivor, NULL);
		pthread_exit(NULL);
	}
	for (int i = 0; proc_state(pid, pid) != 'Z'; i++) {
		if (i > 5000)
			scen_fail("the child's main thread did not exit");
		usleep(1000);
	}
	scen_ready();
	scen_wait();
	CHECK_SYS(kill(pid, SIGTERM));
	wait_child("main-exit", pid);
	scen_pass();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	scen_init();
	if (!strcmp(mode, "attrs"))
		return mode_attrs();
	if (!strcmp(mode, "block"))
		return mode_block(argc > 2 && !strcmp(argv[2], "fifo"));
	if (!strcmp(mode, "sigwait"))
		return mode_sigwait();
	if (!strcmp(mode, "robust"))
		return mode_robust();
	if (!strcmp(mode, "many"))
		return mode_many();
	if (!strcmp(mode, "pool"))
		return mode_pool();
	if (!strcmp(mode, "churn"))
		return mode_churn();
	if (!strcmp(mode, "regs"))
		return mode_regs();
	if (!strcmp(mode, "tree"))
		return mode_tree(false);
	if (!strcmp(mode, "pdeath"))
		return mode_tree(true);
	if (!strcmp(mode, "stopped"))
		return mode_stopped(argc > 2 && !strcmp(argv[2], "raw"));
	if (!strcmp(mode, "clone-vm"))
		return mode_clone_vm();
	if (!strcmp(mode, "creds"))
		return mode_creds();
	if (!strcmp(mode, "main-exit"))
		return mode_main_exit(false);
	if (!strcmp(mode, "child-main-exit"))
		return mode_main_exit(true);
	scen_fail("usage: threads attrs|block [fifo]|sigwait|robust|many|pool|churn|regs|tree|"
		  "pdeath|stopped [raw]|clone-vm|creds|main-exit|child-main-exit");
}
