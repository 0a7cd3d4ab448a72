/*
 * test_plan.c: the restorer's program: it is placed clear of busy ranges
 * with a free page on each side, arena references and relocations point at
 * the placed arena, and the area holds the lists the blob expects.
 */
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "model/plan.h"
#include "lib/unit.h"

TEST(placement_avoids_busy_ranges)
{
	struct blob_plan bp;
	uint64_t busy[][2] = {
		{ 0x100000000ULL, 0x100200000ULL },
		{ 0x100201000ULL, 0x100300000ULL }, /* a gap too small in between */
		{ 0x7f0000000000ULL, 0x7f0000100000ULL },
	};

	plan_init(&bp);
	plan_call(&bp, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0, "x");
	T_EQ(plan_place(&bp, (const uint64_t(*)[2])busy, 3), 0);
	T_EQX(bp.base, 0x100301000ULL);
	T_OK(bp.size > 0);
	T_EQ(bp.size % (size_t)sysconf(_SC_PAGESIZE), 0);
	plan_release(&bp);
}

TEST(references_and_relocations)
{
	struct blob_plan bp;
	uint64_t busy[][2] = { { 0, 0x100000000ULL } };
	int64_t a, b;
	uint64_t v;
	struct blob_list hdr;
	struct blob_call c;

	plan_init(&bp);
	a = plan_data(&bp, "hello", 6);
	b = plan_data(&bp, &a, sizeof(a)); /* holds an arena offset */
	T_EQ(plan_reloc(&bp, (uint64_t)b), 0);
	plan_call(&bp, 0, 1U << 1, SYS_write, 1, (uint64_t)a, 5, 0, 0, 0, "write");
	plan_trap(&bp, "stop");
	T_EQ(plan_place(&bp, (const uint64_t(*)[2])busy, 1), 0);
	T_EQ(plan_build(&bp), 0);
	memcpy(&v, bp.image + bp.code_len + b, 8);
	T_EQX(v, plan_addr(&bp, (uint64_t)a));
	T_OK(!memcmp(bp.image + bp.code_len + a, "hello", 6));
	memcpy(&hdr, bp.image + (plan_list_addr(&bp, 0) - bp.base), sizeof(hdr));
	T_EQ(hdr.count, 2);
	T_EQ(hdr.failed, -1);
	T_EQ(hdr.next, 0);
	memcpy(&c, bp.image + (plan_list_addr(&bp, 0) - bp.base) + BLOB_LIST_HDR, sizeof(c));
	T_EQ(c.nr, SYS_write);
	T_EQX(c.args[1], plan_addr(&bp, (uint64_t)a));
	T_EQ(c.args[2], 5);
	memcpy(&v, bp.image + (plan_stack_addr(&bp, 0) - bp.base), 8);
	T_EQX(v, plan_list_addr(&bp, 0));
	T_OK(!memcmp(bp.image, arch_blob_start, (size_t)(arch_blob_end - arch_blob_start)));
	T_OK(plan_syscall_ip(&bp) > bp.base && plan_syscall_ip(&bp) < bp.base + bp.code_len);
	T_STR(plan_what(&bp, 0, 0), "write");
	plan_release(&bp);
}

TEST(unmap_outside)
{
	struct blob_plan bp;
	uint64_t busy[][2] = { { 0, 0x200000000ULL } };
	struct blob_call c[2];

	plan_init(&bp);
	T_EQ(plan_unmap_outside(&bp), 0);
	T_EQ(plan_place(&bp, (const uint64_t(*)[2])busy, 1), 0);
	T_EQ(plan_build(&bp), 0);
	memcpy(c, bp.image + (plan_list_addr(&bp, 0) - bp.base) + BLOB_LIST_HDR, sizeof(c));
	T_EQ(c[0].args[0], 0);
	T_EQX(c[0].args[1], bp.base);
	T_EQX(c[1].args[0], bp.base + bp.size);
	T_EQX(c[1].args[0] + c[1].args[1], ARCH_TASK_SIZE_47);
	plan_release(&bp);
}

int main(void)
{
	unit_file = "unit/plan";
	RUN(placement_avoids_busy_ranges);
	RUN(references_and_relocations);
	RUN(unmap_outside);
	return unit_done();
}
