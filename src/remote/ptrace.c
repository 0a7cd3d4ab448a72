/*
 * ptrace.c: seizing, remote syscalls and release.
 *
 * Freezing: PTRACE_SEIZE (no SIGSTOP is sent), then PTRACE_INTERRUPT. A
 * signal that is being delivered at that moment shows up as a
 * signal-delivery-stop first; it is passed on, as if we were not there,
 * and the thread is interrupted again. The wait for the stop has a
 * deadline: a thread waiting in vfork for its child, or asleep in the
 * kernel uninterruptibly, stops only once that wait is over.
 *
 * Remote syscalls: all signals are blocked first (PTRACE_SETSIGMASK, which
 * also drops a sigsuspend's temporary mask), so nothing is dequeued behind
 * our back. The registers are set to run the syscall at a known syscall
 * instruction with orig_rax = -1, so the kernel's signal code does not try
 * to restart anything, and the thread single-steps over it, or runs to
 * the breakpoint after it when the instruction is ckpt's own stub (one
 * stop either way).
 *
 * Release: the original registers and mask go back. A thread whose
 * registers changed is no longer inside the kernel's signal handling, where
 * an interrupted syscall is restarted; so it is made to pass through it
 * once more: PTRACE_INTERRUPT and PTRACE_CONT stop it again inside
 * get_signal(), and detaching from there lets the kernel restart the
 * syscall (or deliver a signal first) exactly as it would have.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <linux/ptrace.h>
#include "arch/x86_64/arch.h"
#include "proc/proc.h"
#include "remote/remote.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_SIGNAL_STOPS 1000
#define RELEASE_WAIT_MS 3000

int remote_wait(pid_t tid, int *ret_status)
{
	for (;;) {
		int status;
		pid_t r = waitpid(tid, &status, __WALL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		*ret_status = status;
		return 0;
	}
}

static bool is_group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Waits for a stop or exit of tid until deadline (in now_ms() time; 0: no
 * deadline). The tracer gets SIGCHLD when a tracee stops: blocked
 * meanwhile, it stays pending until sigtimedwait takes it, so none is
 * missed between a look and the sleep; the sleeps are short anyway, in
 * case the caller ignores SIGCHLD. A signal ckpt handles (SIGINT) ends
 * the sleep early.
 */
static int wait_until(pid_t tid, int *ret_status, uint64_t deadline, bool interruptible)
{
	sigset_t chld, old;
	int err = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	for (;;) {
		pid_t r = waitpid(tid, ret_status, __WALL | WNOHANG);
		uint64_t now, slice = 20;
		struct timespec ts;

		if (r == tid)
			break;
		if (r < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (interruptible && is_interrupted()) {
			err = -ECANCELED;
			break;
		}
		now = now_ms();
		if (deadline && now >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		if (deadline && deadline - now < slice)
			slice = deadline - now;
		ts = (struct timespec){ 0, (long)slice * 1000000 };
		sigtimedwait(&chld, NULL, &ts);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}

int remote_seize_start(struct remote_task *t, pid_t tid, unsigned int options)
{
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	if (options & REMOTE_EXITKILL)
		opts |= PTRACE_O_EXITKILL;
	if (options & REMOTE_TRACECLONE)
		opts |= PTRACE_O_TRACECLONE;
	if (ptrace(PTRACE_SEIZE, tid, 0, opts)) {
		int e = errno;

		/* already ours when a thread we trace started it: the kernel
		 * attached it, and it waits in its first stop */
		if (e != EPERM || !(options & REMOTE_TRACECLONE) ||
		    ptrace(PTRACE_INTERRUPT, tid, 0, 0))
			return -e;
	}
	t->seized = true;
	t->stopping = true;
	return 0;
}

/* Interrupts the task until it reports a stop of its own (not a signal on
 * its way, passed on, nor a task it started, let go), or the deadline. */
static int interrupt_until(struct remote_task *t, uint64_t deadline, bool interruptible)
{
	for (int i = 0; i < MAX_SIGNAL_STOPS; i++) {
		int status, err;

		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0))
			return -errno;
		err = wait_until(t->tid, &status, deadline, interruptible);
		if (err)
			return err;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			t->seized = false;
			t->stopping = false;
			return -ESRCH;
		}
		if (status >> 16 == PTRACE_EVENT_STOP) {
			t->stopping = false;
			t->group_stopped = is_group_stop_sig(WSTOPSIG(status));
			t->stop_sig = t->group_stopped ? WSTOPSIG(status) : 0;
			return 0;
		}
		if (status >> 16 == PTRACE_EVENT_CLONE) {
			/* it started a task before our interrupt landed */
			t->started_task = true;
			if (ptrace(PTRACE_CONT, t->tid, 0, 0))
				return -errno;
			continue;
		}
		/* a signal-delivery-stop: let the signal through and stop again */
		if (ptrace(PTRACE_CONT, t->tid, 0, WSTOPSIG(status)))
			return -errno;
	}
	return -EBUSY;
}

int remote_seize_wait(struct remote_task *t, int timeout_ms)
{
	int err = interrupt_until(t, timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms, true);

	if (err)
		return err;
	err = arch_get_regs(t->tid, &t->regs);
	if (err)
		return err;
	t->regs_changed = arch_undo_stop_eintr(&t->regs);
	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask))
		return -errno;
	return 0;
}

int remote_wait_stop(struct remote_task *t, int *ret_sig)
{
	int status, err = remote_wait(t->tid, &status);

	if (err)
		return err;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->seized = false;
		return -ESRCH;
	}
	*ret_sig = WSTOPSIG(status);
	return 0;
}

/* Resumes with req (again after any other stop) until the task stops
 * with sig, holding back signals that interfere (only unblockable ones
 * can: kept for the release). */
static int run_to_stop(struct remote_task *t, int req, int sig)
{
	for (;;) {
		int status, err;

		if (ptrace(req, t->tid, 0, 0))
			return -errno;
		err = remote_wait(t->tid, &status);
		if (err)
			return err;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			t->seized = false;
			return -ESRCH;
		}
		if (status >> 16 == 0 && WSTOPSIG(status) == sig)
			return 0;
		if (status >> 16 == 0)
			t->reinject_sig = WSTOPSIG(status);
	}
}

/* Syscall entry or exit (PTRACE_O_TRACESYSGOOD marks the stop). */
static int run_to_syscall_stop(struct remote_task *t)
{
	return run_to_stop(t, PTRACE_SYSCALL, SIGTRAP | 0x80);
}

/* Blocks every signal for the syscalls ckpt runs in the task. */
static int block_all(struct remote_task *t)
{
	uint64_t all = ~0ULL;

	if (t->mask_changed)
		return 0;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all))
		return -errno;
	t->mask_changed = true;
	return 0;
}

int remote_syscall(struct remote_task *t, long *ret, long nr, long a1, long a2, long a3, long a4,
		   long a5, long a6)
{
	const long args[6] = { a1, a2, a3, a4, a5, a6 };
	struct user_regs_struct r = t->regs;
	int err = block_all(t);

	if (err)
		return err;
	arch_setup_syscall(&r, t->stub_ip ? t->stub_ip : t->syscall_ip, nr, args);
	err = arch_set_regs(t->tid, &r);
	if (err)
		return err;
	t->regs_changed = true;
	/* to the stub's int3, or one step: over the syscall instruction */
	err = run_to_stop(t, t->stub_ip ? PTRACE_CONT : PTRACE_SINGLESTEP, SIGTRAP);
	if (!err)
		err = arch_get_regs(t->tid, &r);
	if (err)
		return err;
	*ret = arch_syscall_result(&r);
	return 0;
}

int remote_write_stub(pid_t pid, unsigned long addr)
{
	uint8_t code[REMOTE_STUB_SIZE];
	size_t n = arch_emit_syscall_insn(code);

	n += arch_emit_trap(code + n);
	return remote_write(pid, addr, code, n);
}

int remote_batch(struct remote_task *t, unsigned long area, size_t len,
		 const struct remote_call *calls, size_t n, long *rets)
{
	size_t code_off = (n * sizeof(long) + 15) & ~(size_t)15, size = code_off;
	struct user_regs_struct r = t->regs;
	uint8_t *buf;
	int err;

	if (code_off + n * ARCH_CALL_CODE_MAX + 1 > len)
		return -E2BIG;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		size += arch_emit_syscall(buf + size, calls[i].nr, calls[i].args,
					  area + i * sizeof(long));
	size += arch_emit_trap(buf + size);
	err = block_all(t);
	if (!err)
		err = remote_write(t->tid, area, buf, size);
	free(buf);
	if (err)
		return err;
	arch_setup_call(&r, area + code_off);
	err = arch_set_regs(t->tid, &r);
	if (err)
		return err;
	t->regs_changed = true;
	err = run_to_stop(t, PTRACE_CONT, SIGTRAP); /* the int3 */
	return err ? err : remote_read(t->tid, area, rets, n * sizeof(long));
}

/* Passes the thread through get_signal() once more; returns the signal
 * that stopped it there if it was not our interrupt. */
static int restop_in_signal_code(struct remote_task *t, int *ret_sig)
{
	int status, err;

	*ret_sig = 0;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) || ptrace(PTRACE_CONT, t->tid, 0, 0))
		return -errno;
	err = remote_wait(t->tid, &status);
	if (err)
		return err;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->seized = false;
		return -ESRCH;
	}
	if (status >> 16 == 0)
		*ret_sig = WSTOPSIG(status);
	return 0;
}

int remote_detach(struct remote_task *t)
{
	int sig = t->reinject_sig;

	if (!t->seized)
		return 0;
	t->seized = false;
	return ptrace(PTRACE_DETACH, t->tid, 0, sig) ? -errno : 0;
}

int remote_release(struct remote_task *t)
{
	int err = 0, sig;

	if (!t->seized)
		return 0;
	if (t->stopping) {
		err = interrupt_until(t, now_ms() + RELEASE_WAIT_MS, false);
		if (err)
			return err == -ESRCH ? 0 : err;
	}
	if (t->regs_changed) {
		err = arch_set_regs(t->tid, &t->regs);
		if (err)
			return err;
		t->regs_changed = false;
	}
	if (t->mask_changed) {
		if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask))
			return -errno;
		t->mask_changed = false;
		err = restop_in_signal_code(t, &sig);
		if (err)
			return err;
		if (sig && !t->reinject_sig)
			t->reinject_sig = sig;
	}
	return remote_detach(t);
}

int remote_resume_restarted(struct remote_task *t, const struct user_regs_struct *regs)
{
	int err, sig;

	t->regs = *regs;
	err = arch_set_regs(t->tid, regs);
	if (err)
		return err;
	err = restop_in_signal_code(t, &sig);
	if (err)
		return err;
	if (sig && !t->reinject_sig)
		t->reinject_sig = sig;
	return 0;
}

/* Whether the thread sleeps (in the call it went back into). */
static bool blocked(pid_t tid)
{
	struct proc_stat st;

	return !proc_read_stat(tid, 0, &st) && (st.state == 'S' || st.state == 'D');
}

static int read_kstack(pid_t tid, char *buf, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stack", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int remote_probe_restart(struct remote_task *t, char *ret_stack, size_t len)
{
	struct user_regs_struct r = t->regs;
	uint64_t all = ~0ULL;
	int status, err;
	bool ended = false;

	ret_stack[0] = '\0';
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all))
		return -errno;
	t->mask_changed = true;
	arch_setup_restart(&r);
	err = arch_set_regs(t->tid, &r);
	if (err)
		return err;
	t->regs_changed = true;
	err = run_to_syscall_stop(t); /* entry */
	if (err)
		return err;
	if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0))
		return -errno;
	/* until it blocks in the restarted call, or the call ends */
	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 1000000 };
		pid_t w = waitpid(t->tid, &status, __WALL | WNOHANG);

		if (w == t->tid) {
			ended = true;
			break;
		}
		if (blocked(t->tid) && !read_kstack(t->tid, ret_stack, len))
			break;
		ret_stack[0] = '\0';
		nanosleep(&ts, NULL);
	}
	if (!ended) {
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0))
			return -errno;
		err = remote_wait(t->tid, &status);
		if (err)
			return err;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->seized = false;
		return -ESRCH;
	}
	if (WSTOPSIG(status) != (SIGTRAP | 0x80))
		return -EIO; /* nothing else can stop it with every signal blocked */
	return arch_get_regs(t->tid, &t->regs);
}
