/*
 * arch.h: x86_64 machine state for the layers above: general registers and
 * the XSAVE area of a stopped tracee, the syscall calling convention, the
 * kernel's syscall-restart codes, and the restorer blob (blob.S).
 *
 * This is a leaf module: it uses ptrace on a tid it is given and nothing
 * else of ckpt.
 */
#ifndef ARCH_X86_64_ARCH_H
#define ARCH_X86_64_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* Kernel-internal errors a task interrupted in a syscall carries in rax. */
#define ARCH_ERESTARTSYS 512
#define ARCH_ERESTARTNOINTR 513
#define ARCH_ERESTARTNOHAND 514
#define ARCH_ERESTART_RESTARTBLOCK 516

#define ARCH_TASK_SIZE_47 0x7ffffffff000UL

int arch_get_regs(pid_t tid, struct user_regs_struct *ret_regs);
int arch_set_regs(pid_t tid, const struct user_regs_struct *regs);
/* The XSAVE area; *len is the buffer size in and the area's size out. */
int arch_get_xstate(pid_t tid, void *buf, size_t *len);
int arch_set_xstate(pid_t tid, const void *buf, size_t len);

/* Size of the XSAVE area and the XCR0 feature mask of this machine. */
uint32_t arch_xstate_size(void);
uint64_t arch_xfeatures(void);

/* Registers that run syscall nr(args) at ip, not seen as a restartable
 * syscall by the kernel's signal code. */
void arch_setup_syscall(struct user_regs_struct *r, unsigned long ip, long nr, const long args[6]);
long arch_syscall_result(const struct user_regs_struct *r);
/* Machine code for a batch of syscalls run in a stopped task (see
 * remote_batch): one call that stores its result at result_addr, and the
 * breakpoint that ends the batch. Return the bytes written to buf. */
#define ARCH_CALL_CODE_MAX 80
size_t arch_emit_syscall(uint8_t *buf, long nr, const long args[6], unsigned long result_addr);
size_t arch_emit_trap(uint8_t *buf);
/* A bare syscall instruction, its number and arguments in the registers. */
size_t arch_emit_syscall_insn(uint8_t *buf);
/* Registers that run the code at ip, outside any syscall. */
void arch_setup_call(struct user_regs_struct *r, unsigned long ip);

/* The syscall a task was stopped in, if it will be restarted (-ERESTART*
 * in rax), or -1. */
long arch_restarting_syscall(const struct user_regs_struct *r);
/* Rewrite the registers of a task stopped in a syscall that the kernel
 * would restart through restart_syscall(2) (whose state a new process does
 * not have) so that the kernel restarts the original call instead. */
void arch_convert_restart_block(struct user_regs_struct *r);
/* A thread stopped in restart_syscall(2): it continues a sleep or poll the
 * kernel interrupted earlier (a stop and continue, a previous checkpoint),
 * whose state only the kernel's restart block holds. */
bool arch_in_restart_syscall(const struct user_regs_struct *r);
/* A call the stop for the checkpoint ended with EINTR (which a stop and
 * continue does to some calls, see signal(7)): make the kernel restart it.
 * True when the registers changed. */
bool arch_undo_stop_eintr(struct user_regs_struct *r);
/* Registers that go back into the interrupted syscall (rewound, orig_rax
 * -1 so no other restart logic applies). */
void arch_setup_restart(struct user_regs_struct *r);
/* The call restart_syscall continues. code holds the ARCH_CODE_BEFORE
 * bytes before the thread's instruction pointer (compilers load the syscall
 * number right before the syscall instruction); kstack, when not NULL, is
 * the thread's kernel stack while it blocks in the call (/proc/TID/stack),
 * which names some restart functions. -1 when neither tells. */
#define ARCH_CODE_BEFORE 7
long arch_restarted_call(const struct user_regs_struct *r, const uint8_t *code, const char *kstack);
const char *arch_syscall_name(long nr);

/* The restorer blob: position-independent code that runs a list of
 * syscalls (struct blob_list) and traps to the tracer at marked points.
 * Entry: rdi = list; rsp = a small stack inside the blob's area. */
extern const char arch_blob_start[], arch_blob_end[];
extern const char arch_blob_entry[], arch_blob_syscall[], arch_blob_thread_entry[];

/* Leaves the C world for the blob: switches to stack sp and jumps to entry
 * with rdi = arg. Never returns. */
__attribute__((noreturn)) void arch_jump(unsigned long entry, unsigned long sp, unsigned long arg);

#endif
