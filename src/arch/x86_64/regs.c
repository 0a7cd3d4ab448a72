/*
 * regs.c: general registers and the XSAVE area through ptrace regsets, the
 * syscall calling convention and the restart codes of interrupted syscalls.
 */
#include <cpuid.h>
#include <errno.h>
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "arch/x86_64/arch.h"

int arch_get_regs(pid_t tid, struct user_regs_struct *ret_regs)
{
	struct iovec iov = { .iov_base = ret_regs, .iov_len = sizeof(*ret_regs) };

	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov))
		return -errno;
	return iov.iov_len == sizeof(*ret_regs) ? 0 : -EIO;
}

int arch_set_regs(pid_t tid, const struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = (void *)regs, .iov_len = sizeof(*regs) };

	return ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov) ? -errno : 0;
}

int arch_get_xstate(pid_t tid, void *buf, size_t *len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = *len };

	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov))
		return -errno;
	*len = iov.iov_len;
	return 0;
}

int arch_set_xstate(pid_t tid, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) ? -errno : 0;
}

uint32_t arch_xstate_size(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx))
		return 512;
	return ebx;
}

uint64_t arch_xfeatures(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

void arch_setup_syscall(struct user_regs_struct *r, unsigned long ip, long nr, const long args[6])
{
	r->rip = ip;
	r->rax = nr;
	r->orig_rax = -1;
	r->rdi = args[0];
	r->rsi = args[1];
	r->rdx = args[2];
	r->r10 = args[3];
	r->r8 = args[4];
	r->r9 = args[5];
	r->eflags &= ~0x100UL; /* TF */
}

static size_t emit_imm64(uint8_t *buf, uint8_t rex, uint8_t op, uint64_t imm)
{
	buf[0] = rex;
	buf[1] = op;
	memcpy(buf + 2, &imm, sizeof(imm));
	return 10;
}

size_t arch_emit_syscall(uint8_t *buf, long nr, const long args[6], unsigned long result_addr)
{
	/* movabs $arg, %rdi, %rsi, %rdx, %r10, %r8, %r9 */
	static const uint8_t rex[6] = { 0x48, 0x48, 0x48, 0x49, 0x49, 0x49 };
	static const uint8_t op[6] = { 0xbf, 0xbe, 0xba, 0xba, 0xb8, 0xb9 };
	int32_t nr32 = (int32_t)nr;
	size_t n = 0;

	buf[n++] = 0xb8; /* mov $nr, %eax */
	memcpy(buf + n, &nr32, sizeof(nr32));
	n += sizeof(nr32);
	for (int i = 0; i < 6; i++)
		n += emit_imm64(buf + n, rex[i], op[i], (uint64_t)args[i]);
	buf[n++] = 0x0f; /* syscall */
	buf[n++] = 0x05;
	n += emit_imm64(buf + n, 0x48, 0xa3, result_addr); /* movabs %rax, result_addr */
	return n;
}

size_t arch_emit_syscall_insn(uint8_t *buf)
{
	buf[0] = 0x0f; /* syscall */
	buf[1] = 0x05;
	return 2;
}

size_t arch_emit_trap(uint8_t *buf)
{
	buf[0] = 0xcc; /* int3 */
	return 1;
}

void arch_setup_call(struct user_regs_struct *r, unsigned long ip)
{
	r->rip = ip;
	r->orig_rax = -1;
	r->eflags &= ~0x100UL; /* TF */
}

long arch_syscall_result(const struct user_regs_struct *r)
{
	return (long)r->rax;
}

long arch_restarting_syscall(const struct user_regs_struct *r)
{
	long rax = (long)r->rax;

	if ((long)r->orig_rax < 0)
		return -1;
	switch (-rax) {
	case ARCH_ERESTARTSYS:
	case ARCH_ERESTARTNOINTR:
	case ARCH_ERESTARTNOHAND:
	case ARCH_ERESTART_RESTARTBLOCK:
		return (long)r->orig_rax;
	}
	return -1;
}

/*
 * Only sleeps keep state in the restart block that user memory does not
 * have. nanosleep and relative clock_nanosleep have written the time left
 * to *rem when rem is not NULL, so the restarted call sleeps exactly that;
 * without rem it sleeps the full request again (a sleep may always last
 * longer). poll and futex waits restart with their original timeout.
 */
void arch_convert_restart_block(struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0 || -(long)r->rax != ARCH_ERESTART_RESTARTBLOCK)
		return;
	switch (r->orig_rax) {
	case SYS_nanosleep:
		if (r->rsi)
			r->rdi = r->rsi;
		break;
	case SYS_clock_nanosleep:
		/* TIMER_ABSTIME sleeps restart by themselves with -ERESTARTNOHAND */
		if (r->r10)
			r->rdx = r->r10;
		break;
	}
	r->rax = -ARCH_ERESTARTNOHAND;
}

/*
 * Calls that fail with EINTR when their task stops and continues, even
 * with no handler run (signal(7)): the stop for the checkpoint ends them
 * so. The task has not returned to user space yet: turned into
 * -ERESTARTNOHAND the call is restarted instead, and still ends with EINTR
 * should a handler run first.
 */
bool arch_undo_stop_eintr(struct user_regs_struct *r)
{
	if ((long)r->rax != -EINTR)
		return false;
	switch (r->orig_rax) {
	case SYS_rt_sigtimedwait:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_io_getevents:
	case SYS_io_pgetevents:
	case SYS_semop:
	case SYS_semtimedop:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_recvmmsg:
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_sendmmsg:
	case SYS_accept:
	case SYS_accept4:
		r->rax = -ARCH_ERESTARTNOHAND;
		return true;
	}
	return false;
}

bool arch_in_restart_syscall(const struct user_regs_struct *r)
{
	return r->orig_rax == SYS_restart_syscall && -(long)r->rax == ARCH_ERESTART_RESTARTBLOCK;
}

void arch_setup_restart(struct user_regs_struct *r)
{
	r->rip -= 2;
	r->rax = r->orig_rax;
	r->orig_rax = -1;
}

static bool uses_restart_block(long nr)
{
	return nr == SYS_nanosleep || nr == SYS_clock_nanosleep || nr == SYS_poll ||
	       nr == SYS_futex;
}

/* The first frame of a kernel stack (/proc/TID/stack) is the syscall entry. */
static bool starts_at_entry(const char *kstack)
{
	const char *nl = strchr(kstack, '\n'), *entry = strstr(kstack, "do_syscall_64");

	return entry && (!nl || entry < nl);
}

long arch_restarted_call(const struct user_regs_struct *r, const uint8_t *code, const char *kstack)
{
	/* mov $nr, %eax; syscall */
	if (code[0] == 0xb8 && code[5] == 0x0f && code[6] == 0x05) {
		int32_t nr;

		memcpy(&nr, code + 1, sizeof(nr));
		if (uses_restart_block(nr))
			return nr;
	}
	if (!kstack)
		return -1;
	if (strstr(kstack, "do_restart_poll"))
		return SYS_poll;
	if (strstr(kstack, "futex_wait_restart"))
		return SYS_futex;
	if (strstr(kstack, "posix_cpu_nsleep_restart") ||
	    strstr(kstack, "alarm_timer_nsleep_restart"))
		return SYS_clock_nanosleep;
	/*
	 * hrtimer_nanosleep_restart and do_nanosleep are __sched functions,
	 * which stack traces leave out: a restarted call blocked with no frame
	 * above the syscall entry is a sleep. nanosleep(req, rem) or
	 * clock_nanosleep(clock, flags, req, rem): a clock id is small, a
	 * pointer is not.
	 */
	if (strstr(kstack, "hrtimer_nanosleep_restart") || starts_at_entry(kstack))
		return r->rdi < 4096 ? SYS_clock_nanosleep : SYS_nanosleep;
	return -1;
}

const char *arch_syscall_name(long nr)
{
	switch (nr) {
	case SYS_read:
		return "read";
	case SYS_write:
		return "write";
	case SYS_poll:
		return "poll";
	case SYS_select:
		return "select";
	case SYS_pselect6:
		return "pselect6";
	case SYS_ppoll:
		return "ppoll";
	case SYS_nanosleep:
		return "nanosleep";
	case SYS_clock_nanosleep:
		return "clock_nanosleep";
	case SYS_pause:
		return "pause";
	case SYS_rt_sigsuspend:
		return "rt_sigsuspend";
	case SYS_rt_sigtimedwait:
		return "rt_sigtimedwait";
	case SYS_wait4:
		return "wait4";
	case SYS_waitid:
		return "waitid";
	case SYS_futex:
		return "futex";
	case SYS_epoll_wait:
		return "epoll_wait";
	case SYS_epoll_pwait:
		return "epoll_pwait";
	case SYS_accept:
		return "accept";
	case SYS_accept4:
		return "accept4";
	case SYS_recvfrom:
		return "recvfrom";
	case SYS_recvmsg:
		return "recvmsg";
	case SYS_readv:
		return "readv";
	case SYS_restart_syscall:
		return "restart_syscall";
	}
	return NULL;
}
