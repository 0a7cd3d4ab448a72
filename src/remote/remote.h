/*
 * remote.h: control of a stopped task through ptrace. Seize and freeze a
 * thread without it noticing, run syscalls inside it, read and write its
 * memory, and release it exactly as it was: a thread stopped inside a
 * blocking syscall goes back into that syscall, as the kernel itself
 * would have done. Knows nothing of images.
 */
#ifndef REMOTE_REMOTE_H
#define REMOTE_REMOTE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct proc_maps;

struct remote_task {
	pid_t tid;
	struct user_regs_struct regs; /* as found when frozen */
	uint64_t sigmask; /* blocked signals as found when frozen */
	bool seized;
	bool stopping; /* seized and interrupted, its stop not seen yet */
	bool group_stopped; /* was in a job-control stop */
	int stop_sig; /* group_stopped: the signal that stopped it */
	bool started_task; /* started a thread (or process) while being seized */
	bool regs_changed; /* a remote syscall ran: registers must go back */
	bool mask_changed; /* signals are blocked for remote syscalls */
	int reinject_sig; /* a signal that arrived while we worked, to deliver on release */
	unsigned long syscall_ip; /* address of a syscall instruction in the task */
	unsigned long stub_ip; /* a remote_write_stub in the task, or 0 */
};

/* Options for remote_seize_start */
#define REMOTE_EXITKILL (1U << 0) /* the task dies if ckpt dies (restart) */
/* Threads and processes the task starts (but not forks) are attached too,
 * and wait in a stop until remote_seize_start takes them (checkpoint: a task that
 * starts a thread while it is being seized cannot hand it on unseen). */
#define REMOTE_TRACECLONE (1U << 1)

/* Seize tid, without waiting: remote_seize_wait stops it. Fails with
 * -ESRCH if it is gone, -EPERM if someone else traces it. */
int remote_seize_start(struct remote_task *t, pid_t tid, unsigned int options);
/* Interrupts the seized task and waits up to timeout_ms (-1: as long as it
 * takes) until it stops. Signals that arrive while it stops are delivered
 * as usual. -ESRCH if it exits; -ETIMEDOUT if it has not stopped yet (it
 * runs on, seized and stopping: wait again, or remote_release it);
 * -ECANCELED if ckpt_interrupt() was called meanwhile. SIGCHLD is blocked
 * while it waits, and the SIGCHLDs that come are taken. */
int remote_seize_wait(struct remote_task *t, int timeout_ms);
/* Attach to a task that is stopped with a pending SIGTRAP of its own (the
 * restorer blob's int3) right after PTRACE_SEIZE. */
int remote_wait_stop(struct remote_task *t, int *ret_sig);
/* Runs nr(args...) in the task; the result (or -errno) goes to *ret. */
int remote_syscall(struct remote_task *t, long *ret, long nr, long a1, long a2, long a3, long a4,
		   long a5, long a6);
/* Writes a syscall instruction followed by a breakpoint at addr of the
 * task, which must be executable: a thread whose stub_ip is addr runs a
 * remote_syscall with one stop (at the breakpoint) instead of two (at
 * syscall entry and exit). Clear stub_ip before the stub goes away. */
#define REMOTE_STUB_SIZE 16
int remote_write_stub(pid_t pid, unsigned long addr);
/* Runs n syscalls one after the other in the task, with one stop: their
 * code and results go to [area, area + len) of the task, which must be
 * writable and executable. Each result (or -errno) goes to rets[i].
 * -E2BIG when they do not fit. */
struct remote_call {
	long nr;
	long args[6];
};
int remote_batch(struct remote_task *t, unsigned long area, size_t len,
		 const struct remote_call *calls, size_t n, long *rets);
/* Puts registers and signal mask back and detaches. The task continues
 * exactly where it was; a signal that came meanwhile is delivered. A task
 * still stopping (it never stopped for remote_seize_wait: in a vfork, in
 * an uninterruptible sleep) is waited for a few seconds more, then left
 * with -ETIMEDOUT: the kernel detaches it when ckpt exits. */
int remote_release(struct remote_task *t);
/* Detaches leaving registers as the caller set them (restart): the
 * registers hold a syscall interrupted with -ERESTART*, which the kernel
 * restarts (or fails with EINTR for a handled signal) as it would have. */
int remote_resume_restarted(struct remote_task *t, const struct user_regs_struct *regs);
int remote_detach(struct remote_task *t);

/* For a thread stopped in restart_syscall: lets it go back into the call it
 * continues until it blocks there, copies its kernel stack (which names the
 * call) to ret_stack, and interrupts it again; its registers are then those
 * of the new interruption (or of the call's end, if it ended meanwhile, and
 * ret_stack is empty). Signals stay blocked meanwhile. */
int remote_probe_restart(struct remote_task *t, char *ret_stack, size_t len);

/* Finds a syscall instruction the task can execute: in its vdso, else in
 * any executable mapping. */
int remote_find_syscall_ip(pid_t pid, const struct proc_maps *maps, unsigned long *ret_ip);

/* Memory of another process: process_vm_readv/writev, falling back to
 * /proc/PID/mem for pages the owner cannot read (PROT_NONE). */
int remote_read(pid_t pid, unsigned long addr, void *buf, size_t len);
int remote_write(pid_t pid, unsigned long addr, const void *buf, size_t len);

/*
 * Reading a process's pages without unsharing any. process_vm_readv pins
 * the pages it reads, and pinning an anonymous page still shared
 * copy-on-write (with a parent, a child) gives the process a copy of its
 * own: a checkpoint would grow every forked process's memory. Pages only
 * this process maps are read with process_vm_readv, the others through
 * /proc/PID/mem, which does not pin; the page map tells which is which.
 */
struct remote_pages {
	pid_t pid;
	int pagemap, mem;
	uint64_t *entries;
	size_t cap;
};

int remote_pages_open(struct remote_pages *rp, pid_t pid);
void remote_pages_close(struct remote_pages *rp);
int remote_pages_read(struct remote_pages *rp, unsigned long addr, void *buf, size_t len);

/* Waits for a ptrace stop or exit of tid; returns the wait status. */
int remote_wait(pid_t tid, int *ret_status);

#endif
