/*
 * plan.c: building, placing and laying out the restorer blob's program.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "model/plan.h"

#define STACK_LEN (PLAN_STACK_SIZE + 8)
#define PLACE_FLOOR (1ULL << 32)

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void plan_init(struct blob_plan *bp)
{
	memset(bp, 0, sizeof(*bp));
}

void plan_release(struct blob_plan *bp)
{
	for (size_t i = 0; i < bp->nlists; i++) {
		struct plan_list *l = &bp->lists[i];

		for (size_t j = 0; j < l->count; j++)
			free(l->what[j]);
		free(l->what);
		free(l->calls);
		free(l->refs);
	}
	free(bp->lists);
	free(bp->arena);
	free(bp->relocs);
	free(bp->stack_relocs);
	free(bp->unmaps);
	free(bp->image);
	plan_init(bp);
}

int plan_new_list(struct blob_plan *bp)
{
	struct plan_list *n = realloc(bp->lists, (bp->nlists + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	bp->lists = n;
	memset(&n[bp->nlists], 0, sizeof(*n));
	return (int)bp->nlists++;
}

void plan_use_list(struct blob_plan *bp, size_t list)
{
	bp->cur = list;
}

static int append(struct blob_plan *bp, const struct blob_call *c, unsigned int refs, char *what)
{
	struct plan_list *l;

	if (!bp->nlists) {
		int err = plan_new_list(bp);

		if (err < 0) {
			free(what);
			return err;
		}
	}
	l = &bp->lists[bp->cur];
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct blob_call *calls = realloc(l->calls, cap * sizeof(*calls));
		char **w;
		uint8_t *r;

		if (calls)
			l->calls = calls;
		w = calls ? realloc(l->what, cap * sizeof(*w)) : NULL;
		if (w)
			l->what = w;
		r = w ? realloc(l->refs, cap) : NULL;
		if (!r) {
			free(what);
			return -ENOMEM;
		}
		l->refs = r;
		l->cap = cap;
	}
	l->calls[l->count] = *c;
	l->refs[l->count] = (uint8_t)refs;
	l->what[l->count] = what;
	l->count++;
	return 0;
}

int plan_call(struct blob_plan *bp, unsigned int flags, unsigned int refs, long nr, uint64_t a0,
	      uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, const char *fmt, ...)
{
	struct blob_call c = { .nr = (uint32_t)nr,
			       .flags = flags,
			       .args = { a0, a1, a2, a3, a4, a5 } };
	char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (!what)
		return -ENOMEM;
	return append(bp, &c, refs, what);
}

int plan_unmap_outside(struct blob_plan *bp)
{
	int err = plan_call(bp, 0, 0, SYS_munmap, 0, 0, 0, 0, 0, 0,
			    "unmap the memory below the restorer");

	if (!err)
		err = plan_call(bp, 0, 0, SYS_munmap, 0, 0, 0, 0, 0, 0,
				"unmap the memory above the restorer");
	struct plan_site *n;

	if (err)
		return err;
	n = realloc(bp->unmaps, (bp->nunmaps + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	bp->unmaps = n;
	n[bp->nunmaps++] = (struct plan_site){ bp->cur, bp->lists[bp->cur].count - 2 };
	return 0;
}

int plan_trap(struct blob_plan *bp, const char *what)
{
	struct blob_call c = { .flags = BLOB_TRAP };
	char *w = strdup(what);

	if (!w)
		return -ENOMEM;
	return append(bp, &c, 0, w);
}

int64_t plan_reserve(struct blob_plan *bp, size_t len, size_t align)
{
	size_t off = align_up(bp->arena_len, align < 8 ? 8 : align);

	if (off + len > bp->arena_cap) {
		size_t cap = bp->arena_cap ? bp->arena_cap : 4096;
		uint8_t *n;

		while (cap < off + len)
			cap *= 2;
		n = realloc(bp->arena, cap);
		if (!n)
			return -1;
		memset(n + bp->arena_cap, 0, cap - bp->arena_cap);
		bp->arena = n;
		bp->arena_cap = cap;
	}
	bp->arena_len = off + len;
	return (int64_t)off;
}

int64_t plan_data(struct blob_plan *bp, const void *data, size_t len)
{
	int64_t off = plan_reserve(bp, len, 8);

	if (off >= 0)
		memcpy(bp->arena + off, data, len);
	return off;
}

int plan_reloc(struct blob_plan *bp, uint64_t off)
{
	if (bp->nrelocs == bp->relocs_cap) {
		size_t cap = bp->relocs_cap ? bp->relocs_cap * 2 : 16;
		uint64_t *n = realloc(bp->relocs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		bp->relocs = n;
		bp->relocs_cap = cap;
	}
	bp->relocs[bp->nrelocs++] = off;
	return 0;
}

int plan_reloc_stack(struct blob_plan *bp, uint64_t off, size_t list)
{
	struct plan_stack_reloc *n =
		realloc(bp->stack_relocs, (bp->nstack_relocs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	bp->stack_relocs = n;
	n[bp->nstack_relocs++] = (struct plan_stack_reloc){ .off = off, .list = list };
	return 0;
}

/* Offsets of each part of the area; the arena starts on a page. */
static void layout(struct blob_plan *bp)
{
	size_t ps = page_size();
	size_t off;

	bp->code_len = align_up((size_t)(arch_blob_end - arch_blob_start), ps);
	off = bp->code_len + align_up(bp->arena_len, 64);
	for (size_t i = 0; i < bp->nlists; i++) {
		bp->lists[i].offset = off;
		off += BLOB_LIST_HDR + bp->lists[i].count * BLOB_CALL_SIZE;
	}
	off = align_up(off, 64);
	for (size_t i = 0; i < bp->nlists; i++) {
		off += STACK_LEN;
		bp->lists[i].stack_top = off - 8; /* holds the list's address */
	}
	bp->size = align_up(off, ps);
}

size_t plan_area_size(struct blob_plan *bp)
{
	layout(bp);
	return bp->size;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

int plan_place(struct blob_plan *bp, const uint64_t (*busy)[2], size_t nbusy)
{
	size_t ps = page_size();
	uint64_t(*sorted)[2] = malloc((nbusy ? nbusy : 1) * sizeof(*sorted));
	uint64_t cand = PLACE_FLOOR, need;

	if (!sorted)
		return -ENOMEM;
	layout(bp);
	need = bp->size + 2 * ps; /* a free page on each side */
	memcpy(sorted, busy, nbusy * sizeof(*sorted));
	qsort(sorted, nbusy, sizeof(*sorted), cmp_range);
	for (size_t i = 0; i < nbusy; i++) {
		if (sorted[i][1] <= cand)
			continue;
		if (sorted[i][0] >= cand + need)
			break;
		cand = align_up(sorted[i][1], ps);
	}
	free(sorted);
	if (cand + need > ARCH_TASK_SIZE_47)
		return -ENOMEM;
	bp->base = cand + ps;
	return 0;
}

uint64_t plan_addr(const struct blob_plan *bp, uint64_t off)
{
	return bp->base + bp->code_len + off;
}

uint64_t plan_list_addr(const struct blob_plan *bp, size_t list)
{
	return bp->base + bp->lists[list].offset;
}

uint64_t plan_stack_addr(const struct blob_plan *bp, size_t list)
{
	return bp->base + bp->lists[list].stack_top;
}

uint64_t plan_syscall_ip(const struct blob_plan *bp)
{
	return bp->base + (uint64_t)(arch_blob_syscall - arch_blob_start);
}

uint64_t plan_entry(const struct blob_plan *bp)
{
	return bp->base + (uint64_t)(arch_blob_entry - arch_blob_start);
}

const char *plan_what(const struct blob_plan *bp, size_t list, size_t index)
{
	if (list >= bp->nlists || index >= bp->lists[list].count)
		return "unknown step";
	return bp->lists[list].what[index];
}

int plan_build(struct blob_plan *bp)
{
	uint8_t *img;

	layout(bp);
	img = calloc(1, bp->size);
	if (!img)
		return -ENOMEM;
	memcpy(img, arch_blob_start, (size_t)(arch_blob_end - arch_blob_start));
	if (bp->arena_len)
		memcpy(img + bp->code_len, bp->arena, bp->arena_len);
	for (size_t i = 0; i < bp->nrelocs; i++) {
		uint64_t v;

		memcpy(&v, img + bp->code_len + bp->relocs[i], 8);
		v = plan_addr(bp, v);
		memcpy(img + bp->code_len + bp->relocs[i], &v, 8);
	}
	for (size_t i = 0; i < bp->nstack_relocs; i++) {
		uint64_t v = plan_stack_addr(bp, bp->stack_relocs[i].list) - PLAN_STACK_SIZE;

		memcpy(img + bp->code_len + bp->stack_relocs[i].off, &v, 8);
	}
	for (size_t i = 0; i < bp->nlists; i++) {
		struct plan_list *l = &bp->lists[i];
		struct blob_list hdr = { .count = l->count, .failed = -1, .next = 0 };
		uint64_t list_addr = plan_list_addr(bp, i);

		memcpy(img + l->offset, &hdr, sizeof(hdr));
		for (size_t j = 0; j < l->count; j++) {
			struct blob_call c = l->calls[j];

			for (int a = 0; a < 6; a++)
				if (l->refs[j] & (1U << a))
					c.args[a] = plan_addr(bp, c.args[a]);
			for (size_t u = 0; u < bp->nunmaps; u++) {
				if (bp->unmaps[u].list != i)
					continue;
				if (j == bp->unmaps[u].call) {
					c.args[0] = 0;
					c.args[1] = bp->base;
				} else if (j == bp->unmaps[u].call + 1) {
					c.args[0] = bp->base + bp->size;
					c.args[1] = ARCH_TASK_SIZE_47 - (bp->base + bp->size);
				}
			}
			memcpy(img + l->offset + BLOB_LIST_HDR + j * BLOB_CALL_SIZE, &c, sizeof(c));
		}
		memcpy(img + l->stack_top, &list_addr, 8);
	}
	free(bp->image);
	bp->image = img;
	return 0;
}
