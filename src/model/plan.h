/*
 * plan.h: the restorer blob's program for one process, built by restart
 * before the process exists. A plan holds one syscall list per thread, an
 * arena for their arguments (structs, strings, and reserved space such as
 * the parking area for the vdso), and a description of every call for
 * error messages. Arguments that point into the arena are given as arena
 * offsets and relocated once the plan is placed at an address free in both
 * the new process's memory layout and the saved one.
 *
 * Area layout: [blob code][arena][lists][stacks], page aligned.
 */
#ifndef MODEL_PLAN_H
#define MODEL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arch/x86_64/blob.h"

struct plan_list {
	struct blob_call *calls;
	char **what;
	size_t count, cap;
	uint8_t *refs; /* per call: bit n set when argument n is an arena offset */
	uint64_t stack_top; /* offset in the area of this list's stack top */
	uint64_t offset; /* offset in the area of this list */
};

struct blob_plan {
	struct plan_list *lists; /* list 0 is the main thread's */
	size_t nlists;
	size_t cur;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint64_t *relocs; /* arena offsets of u64 fields holding arena offsets */
	size_t nrelocs, relocs_cap;
	struct plan_stack_reloc {
		uint64_t off; /* arena offset of a u64 to set to a list's stack bottom */
		size_t list;
	} * stack_relocs;
	size_t nstack_relocs;
	struct plan_site {
		size_t list, call; /* the first of the two calls of plan_unmap_outside */
	} * unmaps;
	size_t nunmaps;
	/* placement, set by plan_place */
	uint64_t base;
	size_t size;
	size_t code_len;
	uint8_t *image; /* the area's bytes, set by plan_build */
};

void plan_init(struct blob_plan *bp);
void plan_release(struct blob_plan *bp);

/* Appends a syscall to the current list. refs: bit n set when argument n
 * is an arena offset. what is printed if the call fails. */
int plan_call(struct blob_plan *bp, unsigned int flags, unsigned int refs, long nr, uint64_t a0,
	      uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, const char *fmt, ...)
	__attribute__((format(printf, 11, 12)));
/* Unmaps everything but the blob's own area (two munmap calls). */
int plan_unmap_outside(struct blob_plan *bp);
/* A stop for the tracer in the current list. */
int plan_trap(struct blob_plan *bp, const char *what);
/* Copies data into the arena (8-byte aligned); returns its offset or -1. */
int64_t plan_data(struct blob_plan *bp, const void *data, size_t len);
/* Reserves len bytes aligned to align; returns the offset or -1. */
int64_t plan_reserve(struct blob_plan *bp, size_t len, size_t align);
/* The u64 at arena offset off holds an arena offset to relocate. */
int plan_reloc(struct blob_plan *bp, uint64_t off);
/* The u64 at arena offset off is to hold the lowest address of list's
 * stack (for clone3's stack argument; its size is PLAN_STACK_SIZE). */
int plan_reloc_stack(struct blob_plan *bp, uint64_t off, size_t list);
#define PLAN_STACK_SIZE 248 /* the top 8 bytes of a stack hold its list's address */
/* A new list (for a thread); returns its index. Its stack is allocated in
 * the area and its top holds the list's address. */
int plan_new_list(struct blob_plan *bp);
void plan_use_list(struct blob_plan *bp, size_t list);

/* Size of the area once all lists are complete. */
size_t plan_area_size(struct blob_plan *bp);
/* Chooses base: the first page-aligned gap of the area's size, above 4 GiB,
 * free of the given busy ranges (pairs of start, end; any order). */
int plan_place(struct blob_plan *bp, const uint64_t (*busy)[2], size_t nbusy);
/* The address of arena offset off, once placed. */
uint64_t plan_addr(const struct blob_plan *bp, uint64_t off);
uint64_t plan_list_addr(const struct blob_plan *bp, size_t list);
uint64_t plan_stack_addr(const struct blob_plan *bp, size_t list);
/* Lays out the final bytes of the area (bp->image, bp->size). */
int plan_build(struct blob_plan *bp);
/* Address of the syscall instruction and entry point inside the area. */
uint64_t plan_syscall_ip(const struct blob_plan *bp);
uint64_t plan_entry(const struct blob_plan *bp);
/* Description of call index of list. */
const char *plan_what(const struct blob_plan *bp, size_t list, size_t index);

#endif
