/*
 * blob.S: the restorer blob, and the jump into it.
 *
 * Restart copies the bytes between arch_blob_start and arch_blob_end into a
 * new process, at an address free in both the old and the new memory
 * layout, and jumps to arch_blob_entry on a stack inside that area. The blob
 * then runs its syscall list (blob.h): it unmaps everything else, maps the
 * saved memory, and so on, calling nothing outside itself. At a BLOB_TRAP
 * entry, at the end of the list, and on a failed call it executes int3,
 * which stops the task for the tracer. The tracer uses the syscall
 * instruction at arch_blob_syscall to run the last syscall (unmapping the
 * blob) itself.
 *
 * A clone3 entry flagged BLOB_THREAD starts a thread whose stack holds a
 * pointer to that thread's own list: the child pops it and runs it.
 *
 * Registers: r12 = list, r13 = index of the next call, r14 = current call.
 */
#include "arch/x86_64/blob.h"

	.text
	.globl arch_blob_start, arch_blob_end, arch_blob_entry
	.globl arch_blob_syscall, arch_blob_thread_entry, arch_jump

	.p2align 4
arch_blob_start:
arch_blob_thread_entry:
	pop	%rdi
arch_blob_entry:
	mov	%rdi, %r12
	mov	16(%r12), %r13
.Lnext:
	cmp	(%r12), %r13
	jae	.Ldone
	mov	%r13, %rax
	shl	$6, %rax
	lea	BLOB_LIST_HDR(%r12,%rax), %r14
	inc	%r13
	mov	%r13, 16(%r12)
	testl	$BLOB_TRAP, 4(%r14)
	jnz	.Ltrap
	mov	0(%r14), %eax
	mov	8(%r14), %rdi
	mov	16(%r14), %rsi
	mov	24(%r14), %rdx
	mov	32(%r14), %r10
	mov	40(%r14), %r8
	mov	48(%r14), %r9
arch_blob_syscall:
	syscall
	test	%rax, %rax
	jnz	.Lstore
	testl	$BLOB_THREAD, 4(%r14)
	jnz	arch_blob_thread_entry
.Lstore:
	mov	%rax, 56(%r14)
	cmp	$-4095, %rax
	jb	.Lnext
	testl	$BLOB_MAY_FAIL, 4(%r14)
	jnz	.Lnext
	lea	-1(%r13), %rax
	mov	%rax, 8(%r12)
	int3
	jmp	.Lexit
.Ltrap:
	int3
	jmp	.Lnext
.Ldone:
	int3
.Lexit:
	mov	$127, %edi
	mov	$231, %eax	/* exit_group: never reached while traced */
	syscall
	ud2
arch_blob_end:

/* void arch_jump(unsigned long entry, unsigned long sp, unsigned long arg) */
	.p2align 4
arch_jump:
	mov	%rsi, %rsp
	mov	%rdi, %rax
	mov	%rdx, %rdi
	jmp	*%rax

	.section .note.GNU-stack,"",@progbits
