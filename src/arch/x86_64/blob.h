/*
 * blob.h: the data the restorer blob (blob.S) runs: a list of syscalls with
 * their arguments, filled in by restart's planner and read back by the
 * tracer after each trap. Shared by C and assembly; the offsets below are
 * what blob.S uses.
 */
#ifndef ARCH_X86_64_BLOB_H
#define ARCH_X86_64_BLOB_H

#define BLOB_MAY_FAIL 1 /* a negative result does not stop the list */
#define BLOB_THREAD 2 /* clone3 of a thread: the child runs the list on its stack */
#define BLOB_TRAP 4 /* not a syscall: stop for the tracer, then go on */

#define BLOB_CALL_SIZE 64
#define BLOB_LIST_HDR 32

#ifndef __ASSEMBLER__
#include <stdint.h>

struct blob_call {
	uint32_t nr;
	uint32_t flags;
	uint64_t args[6];
	int64_t ret;
};
_Static_assert(sizeof(struct blob_call) == BLOB_CALL_SIZE, "blob call size");

struct blob_list {
	uint64_t count;
	int64_t failed; /* index of the call that failed, or -1 */
	uint64_t next; /* index of the next call to run */
	uint64_t pad;
	struct blob_call calls[];
};
_Static_assert(sizeof(struct blob_list) == BLOB_LIST_HDR, "blob list size");
#endif

#endif
