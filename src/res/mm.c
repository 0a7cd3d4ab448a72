/*
 * mm.c: the address space of a process: its memory areas, their contents,
 * and the mm fields (brk, argument and environment ranges, auxv,
 * executable).
 *
 * Checkpoint lists the areas from smaps and finds the pages worth saving
 * with PAGEMAP_SCAN: present or swapped private pages, never the zero page
 * and never file pages nobody wrote to (those stay in the file). Shared
 * memory (shared anonymous memory, memfds, files of /dev/shm, System V
 * segments) is an object of its own, saved once (shmem.c); its areas refer
 * to it, and private areas of it store the pages they wrote, as private
 * file mappings do.
 * Special mappings (vdso, vvar) are never copied: restart moves the new
 * process's own into place, which is right as long as the kernel is the
 * same (sizes are checked).
 *
 * Restart builds the address space from the restorer blob: park the
 * special mappings, unmap everything else, move the specials to their
 * saved addresses, map every area (writable while pages are written),
 * trap; the tracer streams the pages in; then protections, madvise flags,
 * locks, names, seals and the mm fields (PR_SET_MM_MAP) follow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/prctl.h>
#include "arch/x86_64/arch.h"
#include "res/res.h"
#include "util/compat.h"
#include "util/io.h"
#include "util/log.h"

#define SCAN_VEC 1024
#define MAX_NAME 4096
#define MAX_AUXV 4096
#define MIN_ADDR 0x1000UL

static unsigned long page_size(void)
{
	return (unsigned long)sysconf(_SC_PAGESIZE);
}

/* ---- checkpoint ---- */

/* The shared memory object behind the area. */
static int collect_shm(struct dump_ctx *ctx, struct ck_proc *p, const struct proc_vma *pv,
		       struct ck_vma *v, uint32_t kind)
{
	char link[96], what[64];
	struct ck_obj *o;
	int err;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", p->rec.pid, pv->start, pv->end);
	snprintf(what, sizeof(what), "memory 0x%lx-0x%lx", pv->start, pv->end);
	err = res_obj_ops(OBJ_SHMEM)->collect(ctx, p, link, kind, what, &o);
	if (!err)
		v->shmem = (struct ck_shmem *)o;
	return err;
}

static int refuse_vma(struct ck_proc *p, const struct proc_vma *pv, const char *why)
{
	log_err("pid %d: memory 0x%lx-0x%lx%s%s: %s", p->rec.pid, pv->start, pv->end,
		pv->name ? " " : "", pv->name ? pv->name : "", why);
	return -EOPNOTSUPP;
}

static const struct {
	enum proc_vmflag vmf;
	uint32_t flag;
} vmflag_map[] = {
	{ VMF_GD, CKPT_VMA_GROWSDOWN },	  { VMF_LO, CKPT_VMA_LOCKED },
	{ VMF_LF, CKPT_VMA_LOCKONFAULT }, { VMF_DC, CKPT_VMA_DONTFORK },
	{ VMF_DD, CKPT_VMA_DONTDUMP },	  { VMF_WF, CKPT_VMA_WIPEONFORK },
	{ VMF_HG, CKPT_VMA_HUGEPAGE },	  { VMF_NH, CKPT_VMA_NOHUGEPAGE },
	{ VMF_MG, CKPT_VMA_MERGEABLE },	  { VMF_SR, CKPT_VMA_SEQUENTIAL },
	{ VMF_RR, CKPT_VMA_RANDOM },	  { VMF_NR, CKPT_VMA_NORESERVE },
	{ VMF_SL, CKPT_VMA_SEALED },
};

static bool is_special_name(const char *n)
{
	return n && n[0] == '[' && strcmp(n, "[heap]") && strcmp(n, "[stack]") &&
	       strncmp(n, "[anon:", 6) && strncmp(n, "[anon_shmem:", 12) &&
	       strncmp(n, "[stack:", 7);
}

/* Fills v from the smaps entry pv; *skip when the area is not saved. */
/*
 * The areas of one file mapped in parts follow each other: an area whose
 * name, device and inode (as smaps gives them) are those of the area just
 * before it, found a file by its map_files link, maps the same file.
 */
static bool same_file_as_previous(const struct ck_proc *p, const struct proc_vma *pv,
				  const struct ck_vma *v)
{
	const struct proc_vma *prev = pv - 1;

	return v > p->vmas && pv > p->live->maps.vmas && v[-1].rec.kind == CKPT_VMA_FILE &&
	       v[-1].rec.start == prev->start && prev->name && !strcmp(prev->name, pv->name) &&
	       prev->dev_major == pv->dev_major && prev->dev_minor == pv->dev_minor &&
	       prev->ino == pv->ino && !pv->deleted && !prev->deleted;
}

static int classify(struct dump_ctx *ctx, struct ck_proc *p, const struct proc_vma *pv,
		    struct ck_vma *v, bool *skip)
{
	const uint64_t refused = VMF(IO) | VMF(PF) | VMF(MM) | VMF(HT) | VMF(UM) | VMF(UW) |
				 VMF(UI) | VMF(SS) | VMF(SF);
	const char *name = pv->name;
	char path[96];
	int err;

	*skip = false;
	memset(v, 0, sizeof(*v));
	v->src_fd = -1;
	v->rec.start = pv->start;
	v->rec.end = pv->end;
	v->rec.prot = pv->prot;
	for (size_t i = 0; i < sizeof(vmflag_map) / sizeof(vmflag_map[0]); i++)
		if (pv->vmflags & (1ULL << vmflag_map[i].vmf))
			v->rec.flags |= vmflag_map[i].flag;
	if (pv->shared)
		v->rec.flags |= CKPT_VMA_SHARED;

	if (name && (!strcmp(name, "[vsyscall]") || !strcmp(name, "[uprobes]"))) {
		*skip = true;
		return 0;
	}
	if (is_special_name(name)) {
		v->rec.kind = CKPT_VMA_SPECIAL;
		v->name = strdup(name);
		return v->name ? 0 : -ENOMEM;
	}
	if (pv->vmflags & VMF(HT) && name && !strncmp(name, "/memfd:", 7))
		return refuse_vma(p, pv, "memfd with MFD_HUGETLB: not supported");
	if (pv->vmflags & VMF(HT) && name && !strncmp(name, "/SYSV", 5))
		return refuse_vma(p, pv, "System V shared memory with SHM_HUGETLB: not supported");
	if (pv->vmflags & refused) {
		for (int f = 0; f < VMF_COUNT; f++)
			if (pv->vmflags & refused & (1ULL << f)) {
				char why[64];

				snprintf(why, sizeof(why), "areas flagged '%s' are not supported",
					 proc_vmflag_name(f));
				return refuse_vma(p, pv, why);
			}
	}
	if (name && !strncmp(name, "[anon", 5)) {
		const char *n = strchr(name, ':') + 1;

		v->rec.flags |= CKPT_VMA_ANON_NAME;
		v->name = strndup(n, strlen(n) - 1);
		if (!v->name)
			return -ENOMEM;
	}
	if (pv->shared && (!name || name[0] != '/' || !strcmp(name, "/dev/zero"))) {
		if (!pv->deleted && !(name && !strncmp(name, "[anon_shmem:", 12)))
			return refuse_vma(p, pv, "unknown shared memory: not supported");
		v->rec.kind = CKPT_VMA_SHANON;
		v->rec.pgoff = pv->pgoff;
		return collect_shm(ctx, p, pv, v, CKPT_SHMEM_ANON);
	}
	if (!name || name[0] != '/') {
		v->rec.kind = CKPT_VMA_ANON;
		return 0;
	}
	if (same_file_as_previous(p, pv, v)) {
		v->rec.kind = CKPT_VMA_FILE;
		v->rec.pgoff = pv->pgoff;
		v->rec.fid = v[-1].rec.fid;
		if (pv->vmflags & VMF(MW))
			v->rec.flags |= CKPT_VMA_MAYWRITE;
		v->name = strdup(name);
		return v->name ? 0 : -ENOMEM;
	}
	{
		struct stat st;
		uint32_t shm_kind;

		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", p->rec.pid, pv->start,
			 pv->end);
		if (stat(path, &st)) {
			err = -errno;
			log_err("pid %d: memory 0x%lx: cannot inspect its file: %s", p->rec.pid,
				pv->start, strerror(errno));
			return err;
		}
		shm_kind = res_obj_ops(OBJ_SHMEM)->kind_of(name, &st);
		if (shm_kind) {
			v->rec.kind = CKPT_VMA_SHM;
			v->rec.pgoff = pv->pgoff;
			if (pv->shared && pv->vmflags & VMF(MW))
				v->rec.flags |= CKPT_VMA_MAYWRITE;
			return collect_shm(ctx, p, pv, v, shm_kind);
		}
		free(v->name);
		v->name = NULL;
		err = res_link_path(path, &v->name, &st);
		if (err == -ENOENT)
			return refuse_vma(p, pv,
					  "mapped file was deleted or is not reachable "
					  "from ckpt's root: not supported");
		if (err) {
			log_err("pid %d: memory 0x%lx: cannot inspect its file: %s", p->rec.pid,
				pv->start, strerror(-err));
			return err;
		}
		if (!S_ISREG(st.st_mode))
			return refuse_vma(p, pv, "mappings of devices are not supported");
		v->rec.kind = CKPT_VMA_FILE;
		v->rec.pgoff = pv->pgoff;
		v->rec.fid.dev = st.st_dev;
		v->rec.fid.ino = st.st_ino;
		v->rec.fid.size = (uint64_t)st.st_size;
		v->rec.fid.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		if (pv->vmflags & VMF(MW))
			v->rec.flags |= CKPT_VMA_MAYWRITE;
	}
	return 0;
}

static bool worth_saving(const struct ck_vma *v, uint64_t cat)
{
	if (cat & PAGE_IS_SWAPPED)
		return true;
	if (!(cat & PAGE_IS_PRESENT) || cat & PAGE_IS_PFNZERO)
		return false;
	/* in a private file mapping, only pages written to (now anonymous) */
	return v->rec.kind == CKPT_VMA_ANON || !(cat & PAGE_IS_FILE);
}

/* Adds a run, merging it with the previous one from index first on (runs
 * never span two areas: a page record belongs to one). */
static int add_run(struct ck_live *live, size_t first, unsigned long start, unsigned long end,
		   uint64_t cat)
{
	struct page_run *last = live->nruns > first ? &live->runs[live->nruns - 1] : NULL;

	if (last && last->end == start) {
		last->end = end;
		return 0;
	}
	if (!(live->nruns & (live->nruns - 1)) || !live->nruns) {
		size_t cap = live->nruns ? live->nruns * 2 : 64;
		struct page_run *n;

		if (cap < 64)
			cap = 64;
		n = realloc(live->runs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		live->runs = n;
	}
	live->runs[live->nruns++] = (struct page_run){ start, end, cat };
	return 0;
}

static int scan_vma(struct ck_proc *p, int pagemap, struct ck_vma *v, struct page_region *vec)
{
	static bool no_guard;
	uint64_t pos = v->rec.start, ps = page_size();
	size_t first = p->live->nruns;

	while (pos < v->rec.end) {
		struct pm_scan_arg a = {
			.size = sizeof(a),
			.start = pos,
			.end = v->rec.end,
			.vec = (uint64_t)(uintptr_t)vec,
			.vec_len = SCAN_VEC,
			.category_anyof_mask =
				PAGE_IS_PRESENT | PAGE_IS_SWAPPED | (no_guard ? 0 : PAGE_IS_GUARD),
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE |
				       PAGE_IS_PFNZERO | (no_guard ? 0 : PAGE_IS_GUARD),
		};
		long n = ioctl(pagemap, PAGEMAP_SCAN, &a);

		if (n < 0 && errno == EINVAL && !no_guard) {
			no_guard = true; /* a kernel without guard regions */
			continue;
		}
		if (n < 0) {
			log_err("pid %d: cannot scan memory at 0x%llx: %s", p->rec.pid,
				(unsigned long long)pos, strerror(errno));
			return -errno;
		}
		for (long i = 0; i < n; i++) {
			int err;

			if (vec[i].categories & PAGE_IS_GUARD) {
				log_err("pid %d: memory 0x%llx-0x%llx: guard pages "
					"(MADV_GUARD_INSTALL) are not supported",
					p->rec.pid, (unsigned long long)v->rec.start,
					(unsigned long long)v->rec.end);
				return -EOPNOTSUPP;
			}
			if (!worth_saving(v, vec[i].categories))
				continue;
			err = add_run(p->live, first, vec[i].start, vec[i].end, vec[i].categories);
			if (err)
				return err;
			v->rec.npages += (vec[i].end - vec[i].start) / ps;
		}
		if (a.walk_end <= pos)
			break;
		pos = a.walk_end;
	}
	return 0;
}

/* What collect asks the process (answers in this order) */
enum {
	ASK_THP_DISABLE,
	ASK_MEMORY_MERGE,
	ASK_BRK
};

static int ask(struct res_asks *a, struct ck_proc *p)
{
	int err = res_ask(a, SYS_prctl, (long[6]){ PR_GET_THP_DISABLE });

	(void)p;
	if (!err)
		err = res_ask(a, SYS_prctl, (long[6]){ PR_GET_MEMORY_MERGE });
	return err ? err : res_ask(a, SYS_brk, (long[6]){ 0 });
}

/*
 * Settings of the whole address space: THP disabled, KSM merging of every
 * area, and mlockall(MCL_FUTURE), which /proc shows nowhere but on new
 * mappings: the scratch page ckpt mapped tells.
 */
static int collect_mm_flags(const struct dump_ctx *ctx, struct ck_proc *p)
{
	struct ckpt_rec_mm *m = &p->mm;
	uint64_t vmflags = 0;
	long ret = res_answer(ctx, p, NULL, ASK_THP_DISABLE, NULL, 0);
	int err;

	if (ret < 0) {
		log_err("pid %d: cannot read its THP setting: %s", p->rec.pid, strerror((int)-ret));
		return (int)ret;
	}
	m->thp_disable = (uint32_t)ret;
	if (res_answer(ctx, p, NULL, ASK_MEMORY_MERGE, NULL, 0) > 0)
		m->flags |= CKPT_MM_MERGE_ANY;
	err = proc_read_vmflags_at(p->rec.pid, p->live->scratch, &vmflags);
	if (err) {
		log_err("pid %d: cannot read its default memory flags: %s", p->rec.pid,
			strerror(-err));
		return err;
	}
	if (vmflags & (VMF(LO) | VMF(LF)))
		m->flags |= CKPT_MM_LOCK_FUTURE;
	if (vmflags & VMF(LF))
		m->flags |= CKPT_MM_LOCK_ONFAULT;
	return 0;
}

static int collect_mm_fields(const struct dump_ctx *ctx, struct ck_proc *p)
{
	const struct proc_stat *st = &p->live->stat;
	struct ckpt_rec_mm *m = &p->mm;
	char path[64];
	size_t len;
	struct stat exe_st;
	long brk;
	int err;

	m->start_code = st->start_code;
	m->end_code = st->end_code;
	m->start_data = st->start_data;
	m->end_data = st->end_data;
	m->start_brk = st->start_brk;
	m->start_stack = st->start_stack;
	m->arg_start = st->arg_start;
	m->arg_end = st->arg_end;
	m->env_start = st->env_start;
	m->env_end = st->env_end;
	brk = res_answer(ctx, p, NULL, ASK_BRK, NULL, 0);
	if (brk < 0 && brk > -4096) {
		log_err("pid %d: cannot read its program break: %s", p->rec.pid,
			strerror((int)-brk));
		return (int)brk;
	}
	m->brk = (uint64_t)brk;
	snprintf(path, sizeof(path), "/proc/%d/auxv", p->rec.pid);
	err = io_slurp(path, (char **)&p->auxv, &len);
	if (err || len > MAX_AUXV || len % 16) {
		log_err("pid %d: cannot read its auxiliary vector", p->rec.pid);
		return err ? err : -EIO;
	}
	m->auxv_len = (uint32_t)len;
	snprintf(path, sizeof(path), "/proc/%d/exe", p->rec.pid);
	err = res_link_path(path, &p->exe, &exe_st);
	if (err == -ENOENT) {
		log_err("pid %d: executable was deleted or is not reachable from ckpt's root: "
			"not supported",
			p->rec.pid);
		return -EOPNOTSUPP;
	}
	if (err) {
		log_err("pid %d: cannot inspect its executable: %s", p->rec.pid, strerror(-err));
		return err;
	}
	err = collect_mm_flags(ctx, p);
	if (err)
		return err;
	m->exe_len = strlen(p->exe);
	m->exe_id.dev = exe_st.st_dev;
	m->exe_id.ino = exe_st.st_ino;
	m->exe_id.size = (uint64_t)exe_st.st_size;
	m->exe_id.mtime_ns = (int64_t)exe_st.st_mtim.tv_sec * 1000000000 + exe_st.st_mtim.tv_nsec;
	return 0;
}

/* ---- copy-on-write sharing with the parent ---- */

#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)
#define PFN_BATCH 65536

/* The same physical page (or swap slot) in both: shared copy-on-write.
 * Without CAP_SYS_ADMIN the page map shows every frame as 0: never equal. */
static bool same_page(uint64_t a, uint64_t b)
{
	return ((a & PM_PRESENT && b & PM_PRESENT) || (a & PM_SWAP && b & PM_SWAP)) &&
	       (a & PM_PFN_MASK) == (b & PM_PFN_MASK) && (a & PM_PFN_MASK);
}

/* The area of q that holds all of v and that v can inherit: anonymous, or
 * the same file or shared memory object at the same offset, private in
 * both, mapped alike. */
static const struct ck_vma *same_area(const struct ck_proc *q, const struct ck_vma *v)
{
	for (uint32_t i = 0; i < q->nvmas; i++) {
		const struct ck_vma *w = &q->vmas[i];

		if (w->rec.end <= v->rec.start)
			continue;
		if (w->rec.start > v->rec.start || w->rec.end < v->rec.end)
			return NULL;
		if (w->rec.kind != v->rec.kind || (w->rec.flags | v->rec.flags) & CKPT_VMA_SHARED ||
		    (w->rec.flags ^ v->rec.flags) & (CKPT_VMA_GROWSDOWN | CKPT_VMA_NORESERVE))
			return NULL;
		if (v->rec.kind == CKPT_VMA_ANON)
			return w;
		if (v->rec.kind == CKPT_VMA_FILE &&
		    w->rec.pgoff + (v->rec.start - w->rec.start) == v->rec.pgoff &&
		    w->rec.fid.dev == v->rec.fid.dev && w->rec.fid.ino == v->rec.fid.ino)
			return w;
		if (v->rec.kind == CKPT_VMA_SHM && v->shmem == w->shmem &&
		    w->rec.pgoff + (v->rec.start - w->rec.start) == v->rec.pgoff)
			return w;
		return NULL;
	}
	return NULL;
}

/* Whether an array of n elements, grown by doubling from 64, is full. */
static bool full(size_t n)
{
	return !n || (n >= 64 && !(n & (n - 1)));
}

/* Appends a run, merging it with the last one from index first on (runs
 * and drops never span two areas). */
static int append_run(struct page_run **runs, size_t *n, size_t first, unsigned long start,
		      unsigned long end)
{
	if (*n > first && (*runs)[*n - 1].end == start) {
		(*runs)[*n - 1].end = end;
		return 0;
	}
	if (full(*n)) {
		size_t cap = *n ? *n * 2 : 64;
		struct page_run *r = realloc(*runs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		*runs = r;
	}
	(*runs)[(*n)++] = (struct page_run){ start, end, 0 };
	return 0;
}

static int add_drop(struct ck_proc *p, uint32_t first, unsigned long start, unsigned long end)
{
	struct ckpt_page_range *last = p->ndrops > first ? &p->drops[p->ndrops - 1] : NULL;
	unsigned long ps = page_size();

	if (last && last->addr + last->npages * ps == start) {
		last->npages += (end - start) / ps;
		return 0;
	}
	if (full(p->ndrops)) {
		uint32_t cap = p->ndrops ? p->ndrops * 2 : 64;
		struct ckpt_page_range *r = realloc(p->drops, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		p->drops = r;
	}
	p->drops[p->ndrops++] = (struct ckpt_page_range){ start, (end - start) / ps };
	return 0;
}

/* Stores the pages of run [start, end) of p that it does not share with q,
 * reading both page maps. */
static int split_shared(int pm_p, int pm_q, unsigned long start, unsigned long end,
			struct page_run **runs, size_t *nruns, size_t first, uint64_t *npages)
{
	static uint64_t a[PFN_BATCH], b[PFN_BATCH];
	unsigned long ps = page_size();

	for (unsigned long at = start; at < end;) {
		size_t n = (end - at) / ps < PFN_BATCH ? (end - at) / ps : PFN_BATCH;
		off_t off = (off_t)(at / ps * 8);

		if (pread(pm_p, a, n * 8, off) != (ssize_t)(n * 8) ||
		    pread(pm_q, b, n * 8, off) != (ssize_t)(n * 8))
			return -EIO;
		for (size_t i = 0; i < n; i++) {
			unsigned long page = at + i * ps;
			int err;

			if (same_page(a[i], b[i]))
				continue;
			err = append_run(runs, nruns, first, page, page + ps);
			if (err)
				return err;
			(*npages)++;
		}
		at += n * ps;
	}
	return 0;
}

/* Drops the pages of q's data runs in [start, end) that p lacks. */
/* The index of the first of n runs that ends after addr. */
static size_t run_after(const struct page_run *runs, size_t n, unsigned long addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (runs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Drops the pages of q's data runs in [start, end) that p lacks. */
static int find_drops(struct ck_proc *p, const struct ck_live *q, unsigned long start,
		      unsigned long end)
{
	const struct page_run *mine = p->live->data;
	size_t j = run_after(mine, p->live->ndata, start);
	uint32_t first = p->ndrops;
	int err = 0;

	for (size_t i = run_after(q->data, q->ndata, start);
	     i < q->ndata && q->data[i].start < end && !err; i++) {
		unsigned long s = q->data[i].start, e = q->data[i].end;

		s = s < start ? start : s;
		e = e > end ? end : e;
		/* subtract p's data runs from [s, e) */
		while (s < e && !err) {
			while (j < p->live->ndata && mine[j].end <= s)
				j++;
			if (j == p->live->ndata || mine[j].start >= e) {
				err = add_drop(p, first, s, e);
				break;
			}
			if (mine[j].start > s)
				err = add_drop(p, first, s, mine[j].start);
			s = mine[j].end;
		}
	}
	return err;
}

/*
 * A child forked by its restored parent starts with the parent's memory. An
 * area both have at the same place, of the same kind, is inherited: the
 * pages the child shares with its parent (the same physical page, still
 * copy-on-write) are not stored again; the pages only the child has are;
 * the pages only the parent has are dropped from the child after the fork.
 * Sharing is an economy, never a condition: any difference is stored or
 * dropped.
 */
static int share_with_parent(struct dump_ctx *ctx, struct ck_proc *p)
{
	const struct ck_proc *q = model_find_proc(ctx->img, p->rec.ppid);
	struct page_run *stored = NULL;
	size_t nstored = 0, r = 0;
	char path[64];
	int pm_p = -1, pm_q = -1, err = 0;

	/* every data page, which this process's children compare with */
	if (p->live->nruns) {
		p->live->data = malloc(p->live->nruns * sizeof(*p->live->data));
		if (!p->live->data)
			return -ENOMEM;
		memcpy(p->live->data, p->live->runs, p->live->nruns * sizeof(*p->live->data));
		p->live->ndata = p->live->nruns;
	}
	if (p->rec.flags & CKPT_PROC_ROOT || !q || q->rec.flags & CKPT_PROC_ZOMBIE)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->rec.pid);
	pm_p = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", q->rec.pid);
	pm_q = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_p < 0 || pm_q < 0)
		err = -errno;
	for (uint32_t i = 0; i < p->nvmas && !err; i++) {
		struct ck_vma *v = &p->vmas[i];
		bool inherit = same_area(q, v) != NULL;
		size_t first = nstored;

		if (inherit) {
			v->rec.flags |= CKPT_VMA_INHERIT;
			v->rec.npages = 0;
			err = find_drops(p, q->live, v->rec.start, v->rec.end);
		}
		for (; !err && r < p->live->nruns && p->live->runs[r].start < v->rec.end; r++) {
			const struct page_run *run = &p->live->runs[r];

			if (inherit)
				err = split_shared(pm_p, pm_q, run->start, run->end, &stored,
						   &nstored, first, &v->rec.npages);
			else
				err = append_run(&stored, &nstored, first, run->start, run->end);
		}
	}
	if (pm_p >= 0)
		close(pm_p);
	if (pm_q >= 0)
		close(pm_q);
	if (err) {
		log_err("pid %d: cannot compare its memory with its parent's: %s", p->rec.pid,
			strerror(-err));
		free(stored);
		return err;
	}
	free(p->live->runs);
	p->live->runs = stored;
	p->live->nruns = nstored;
	return 0;
}

static bool is_sysv(const struct ck_vma *v)
{
	return v->rec.kind == CKPT_VMA_SHM && v->shmem && v->shmem->rec.kind == CKPT_SHMEM_SYSV;
}

static uint64_t page_up(uint64_t n)
{
	return (n + page_size() - 1) / page_size() * page_size();
}

/*
 * shmat maps a System V segment whole, so its areas come as whole attaches:
 * from offset 0, contiguous, of one segment, up to its size in pages, all
 * shared and writable or not alike (the pieces may differ in protection).
 */
static bool sysv_attaches_whole(const struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nvmas;) {
		const struct ck_vma *v = &p->vmas[i];
		uint64_t want, at = v->rec.start;

		if (!is_sysv(v)) {
			i++;
			continue;
		}
		want = page_up(v->shmem->rec.size);
		if (v->rec.pgoff || !want)
			return false;
		for (; i < p->nvmas && is_sysv(&p->vmas[i]) && p->vmas[i].shmem == v->shmem &&
		       p->vmas[i].rec.start == at && p->vmas[i].rec.pgoff == at - v->rec.start &&
		       at - v->rec.start < want;
		     i++) {
			const struct ckpt_rec_vma *r = &p->vmas[i].rec;

			if (!(r->flags & CKPT_VMA_SHARED) ||
			    (r->flags ^ v->rec.flags) & CKPT_VMA_MAYWRITE)
				return false;
			at = r->end;
		}
		if (at - v->rec.start != want)
			return false;
	}
	return true;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	const struct proc_maps *maps = &p->live->maps;
	struct page_region *vec;
	char path[64];
	int pagemap, err;

	err = collect_mm_fields(ctx, p);
	if (err)
		return err;
	p->vmas = calloc(maps->count ? maps->count : 1, sizeof(*p->vmas));
	vec = malloc(SCAN_VEC * sizeof(*vec));
	if (!p->vmas || !vec) {
		free(vec);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->rec.pid);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap < 0) {
		err = -errno;
		log_err("pid %d: cannot open its page map: %s", p->rec.pid, strerror(errno));
		free(vec);
		return err;
	}
	for (size_t i = 0; i < maps->count && !err; i++) {
		struct ck_vma *v = &p->vmas[p->nvmas];
		bool skip;

		if (maps->vmas[i].start == p->live->scratch)
			continue;
		err = classify(ctx, p, &maps->vmas[i], v, &skip);
		if (err || skip) {
			free(v->name);
			v->name = NULL;
			continue;
		}
		p->nvmas++;
		if (v->rec.kind == CKPT_VMA_ANON ||
		    ((v->rec.kind == CKPT_VMA_FILE || v->rec.kind == CKPT_VMA_SHM) &&
		     !(v->rec.flags & CKPT_VMA_SHARED)))
			err = scan_vma(p, pagemap, v, vec);
	}
	close(pagemap);
	free(vec);
	if (!err && !sysv_attaches_whole(p)) {
		log_err("pid %d: a System V shared memory segment is attached in part (pieces "
			"detached or moved): not supported",
			p->rec.pid);
		err = -EOPNOTSUPP;
	}
	if (!err)
		err = share_with_parent(ctx, p);
	if (!err)
		p->have |= 1U << CK_HAVE_MM;
	return err;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	struct iovec iov[3] = {
		{ .iov_base = &p->mm, .iov_len = sizeof(p->mm) },
		{ .iov_base = p->auxv, .iov_len = p->mm.auxv_len },
		{ .iov_base = p->exe, .iov_len = p->mm.exe_len },
	};
	int err = img_write_rec(w, CKPT_REC_MM, iov, 3);

	(void)img;
	for (uint32_t i = 0; i < p->nvmas && !err; i++) {
		struct ck_vma *v = &p->vmas[i];

		/* its object's record is written before (shmem.c) */
		if (v->shmem)
			v->rec.obj_id = v->shmem->obj.id;
		v->rec.name_len = v->name ? (uint32_t)strlen(v->name) : 0;
		iov[0].iov_base = &v->rec;
		iov[0].iov_len = sizeof(v->rec);
		iov[1].iov_base = v->name;
		iov[1].iov_len = v->rec.name_len;
		err = img_write_rec(w, CKPT_REC_VMA, iov, 2);
	}
	if (!err && p->ndrops) {
		struct ckpt_rec_mm_drop h = { .count = p->ndrops };

		iov[0].iov_base = &h;
		iov[0].iov_len = sizeof(h);
		iov[1].iov_base = p->drops;
		iov[1].iov_len = p->ndrops * sizeof(*p->drops);
		err = img_write_rec(w, CKPT_REC_MM_DROP, iov, 2);
	}
	return err;
}

/* One page record whose data the target's memory is read straight into. */
static int dump_range(struct img_writer *w, struct ck_proc *p, struct remote_pages *rp,
		      unsigned long a, unsigned long n)
{
	struct ckpt_rec_pages h = { .owner = (uint32_t)p->rec.pid,
				    .kind = CKPT_PAGES_PROC,
				    .addr = a,
				    .npages = n / page_size() };
	void *dst;
	int err = img_begin_rec(w, CKPT_REC_PAGES, sizeof(h) + n);

	if (!err)
		err = img_rec_data(w, &h, sizeof(h));
	if (!err)
		err = img_rec_reserve(w, n, &dst);
	if (err)
		return err;
	err = remote_pages_read(rp, a, dst, n);
	if (err) {
		log_err("pid %d: cannot read memory at 0x%lx: %s", p->rec.pid, a, strerror(-err));
		return err;
	}
	err = img_rec_commit(w, n);
	return err ? err : img_end_rec(w);
}

static int dump_proc_pages(struct dump_ctx *ctx, struct img_writer *w, struct ck_proc *p)
{
	struct remote_pages rp;
	int err;

	if (!p->live->nruns)
		return 0;
	err = remote_pages_open(&rp, p->rec.pid);
	if (err) {
		log_err("pid %d: cannot open its memory: %s", p->rec.pid, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < p->live->nruns && !err; i++) {
		const struct page_run *run = &p->live->runs[i];

		for (unsigned long a = run->start; a < run->end && !err; a += RES_PAGE_CHUNK) {
			unsigned long n =
				run->end - a < RES_PAGE_CHUNK ? run->end - a : RES_PAGE_CHUNK;

			err = is_interrupted() ? -ECANCELED : dump_range(w, p, &rp, a, n);
			if (!err)
				ctx->img->pages += n / page_size();
		}
	}
	remote_pages_close(&rp);
	return err;
}

static int dump_pages(struct dump_ctx *ctx, struct img_writer *w)
{
	int err = 0;

	/* processes in tree order, parents first */
	for (uint32_t i = 0; i < ctx->img->nprocs && !err; i++)
		err = dump_proc_pages(ctx, w, &ctx->img->procs[i]);
	return err;
}

/* ---- image to model ---- */

static int read_mm(struct ck_proc *p, uint32_t type, const void *data, uint32_t len)
{
	const struct ckpt_rec_mm *m = data;
	const uint8_t *tail = (const uint8_t *)(m + 1);
	int err;

	if (p->have & (1U << CK_HAVE_MM))
		return res_bad(type, "repeated");
	err = res_check_len(type, len, sizeof(*m),
			    len >= sizeof(*m) ? (uint64_t)m->auxv_len + m->exe_len : 0);
	if (err)
		return err;
	if (m->auxv_len > MAX_AUXV || m->auxv_len % 16 || !m->exe_len ||
	    m->flags & ~CKPT_MM_FLAGS_ALL || m->thp_disable & ~3U || tail[m->auxv_len] != '/' ||
	    memchr(tail + m->auxv_len, 0, m->exe_len))
		return res_bad(type, "is malformed");
	p->mm = *m;
	p->auxv = malloc(m->auxv_len ? m->auxv_len : 1);
	p->exe = res_strndup(tail + m->auxv_len, m->exe_len);
	if (!p->auxv || !p->exe)
		return -ENOMEM;
	memcpy(p->auxv, tail, m->auxv_len);
	p->have |= 1U << CK_HAVE_MM;
	return 0;
}

static int read_vma(struct ck_image *img, struct ck_proc *p, uint32_t type, const void *data,
		    uint32_t len)
{
	const struct ckpt_rec_vma *r = data;
	unsigned long ps = page_size();
	struct ck_vma *n, *v;
	int err;

	err = res_check_len(type, len, sizeof(*r), len >= sizeof(*r) ? r->name_len : 0);
	if (err)
		return err;
	if (r->start % ps || r->end % ps || r->start >= r->end || r->end > ARCH_TASK_SIZE_47 ||
	    r->start < MIN_ADDR || r->pgoff % ps ||
	    r->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC) || r->flags & ~CKPT_VMA_FLAGS_ALL ||
	    r->kind < CKPT_VMA_ANON || r->kind > CKPT_VMA_SHM || r->name_len > MAX_NAME ||
	    r->npages > (r->end - r->start) / ps || memchr(r + 1, 0, r->name_len))
		return res_bad(type, "is malformed");
	if ((r->kind == CKPT_VMA_FILE || r->kind == CKPT_VMA_SPECIAL ||
	     r->flags & CKPT_VMA_ANON_NAME) != (r->name_len != 0))
		return res_bad(type, "lacks or has a stray name");
	if ((r->kind == CKPT_VMA_SHANON || r->kind == CKPT_VMA_SPECIAL ||
	     (r->kind == CKPT_VMA_SHM && r->flags & CKPT_VMA_SHARED)) &&
	    r->npages)
		return res_bad(type, "has pages of its own");
	n = realloc(p->vmas, (p->nvmas + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->vmas = n;
	v = &n[p->nvmas];
	memset(v, 0, sizeof(*v));
	v->rec = *r;
	v->src_fd = -1;
	if (r->name_len) {
		v->name = res_strndup(r + 1, r->name_len);
		if (!v->name)
			return -ENOMEM;
	}
	p->nvmas++;
	if (r->kind == CKPT_VMA_FILE && v->name[0] != '/')
		return res_bad(type, "names a relative path");
	if (r->kind == CKPT_VMA_SPECIAL && v->name[0] != '[')
		return res_bad(type, "names no special mapping");
	if (r->kind == CKPT_VMA_SHANON || r->kind == CKPT_VMA_SHM) {
		struct ck_obj *o = objhash_by_id(&img->objs, r->obj_id);
		const struct ck_shmem *s = (const struct ck_shmem *)o;

		if (!o || o->kind != OBJ_SHMEM ||
		    (s->rec.kind == CKPT_SHMEM_ANON) != (r->kind == CKPT_VMA_SHANON) ||
		    (s->rec.kind == CKPT_SHMEM_SYSV && !(r->flags & CKPT_VMA_SHARED)))
			return res_bad(type, "refers to an unknown shared memory object");
		/* mapping beyond the object's end is legal (mremap can grow the
		 * area and not the object): those pages fault, as they did */
		v->shmem = (struct ck_shmem *)o;
	}
	return 0;
}

static int read_drops(struct ck_proc *p, uint32_t type, const void *data, uint32_t len)
{
	const struct ckpt_rec_mm_drop *h = data;
	int err;

	if (p->drops)
		return res_bad(type, "repeated");
	err = res_check_len(type, len, sizeof(*h),
			    len >= sizeof(*h) ? (uint64_t)h->count * sizeof(struct ckpt_page_range)
					      : 0);
	if (err)
		return err;
	if (!h->count)
		return res_bad(type, "is empty");
	p->drops = malloc(h->count * sizeof(*p->drops));
	if (!p->drops)
		return -ENOMEM;
	memcpy(p->drops, h + 1, h->count * sizeof(*p->drops));
	p->ndrops = h->count;
	return 0;
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	(void)t;
	if (!p)
		return res_bad(type, "outside a process");
	if (type == CKPT_REC_MM)
		return read_mm(p, type, data, len);
	if (type == CKPT_REC_MM_DROP)
		return read_drops(p, type, data, len);
	return read_vma(img, p, type, data, len);
}

/* The index of p's area holding [addr, addr + len), or -1. */
static long find_vma(const struct ck_proc *p, uint64_t addr, uint64_t len)
{
	uint32_t lo = 0, hi = p->nvmas;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct ck_vma *v = &p->vmas[mid];

		if (addr >= v->rec.end)
			lo = mid + 1;
		else if (addr < v->rec.start)
			hi = mid;
		else
			return addr + len <= v->rec.end ? (long)mid : -1;
	}
	return -1;
}

/* An inherited area is one the parent has too; drops are inside those. */
static int validate_inherit(struct ck_image *img, struct ck_proc *p)
{
	const struct ck_proc *q = model_find_proc(img, p->rec.ppid);
	unsigned long ps = page_size();

	for (uint32_t i = 0; i < p->nvmas; i++) {
		const struct ck_vma *v = &p->vmas[i];

		if (!(v->rec.flags & CKPT_VMA_INHERIT))
			continue;
		if (p->rec.flags & CKPT_PROC_ROOT || !q || q->rec.flags & CKPT_PROC_ZOMBIE ||
		    !same_area(q, v))
			return res_bad(CKPT_REC_VMA, "inherits an area its parent lacks");
	}
	for (uint32_t i = 0; i < p->ndrops; i++) {
		const struct ckpt_page_range *d = &p->drops[i];
		long v = d->npages && d->npages < (1ULL << 40)
				 ? find_vma(p, d->addr, d->npages * ps)
				 : -1;

		if (v < 0 || !(p->vmas[v].rec.flags & CKPT_VMA_INHERIT))
			return res_bad(CKPT_REC_MM_DROP, "drops pages outside inherited areas");
	}
	return 0;
}

static int validate(struct ck_image *img, struct ck_proc *p)
{
	for (uint32_t i = 1; i < p->nvmas; i++) {
		if (p->vmas[i].rec.start < p->vmas[i - 1].rec.end) {
			log_err("image is damaged: pid %d: memory areas overlap or are out of order",
				p->rec.pid);
			return -EBADMSG;
		}
	}
	if (!sysv_attaches_whole(p))
		return res_bad(CKPT_REC_VMA, "attaches a System V segment in part");
	return validate_inherit(img, p);
}

/* ---- restart ---- */

/*
 * Where the new process has a special mapping before its blob moves it: the
 * root has ckpt's own, a child its parent's (already at the parent's saved
 * address when the parent forks it).
 */
static int special_source(struct rst_ctx *ctx, const struct ck_proc *p, const char *name,
			  uint64_t *ret_start, uint64_t *ret_len)
{
	const struct ck_proc *parent =
		p->rec.flags & CKPT_PROC_ROOT ? NULL : model_find_proc(ctx->img, p->rec.ppid);

	if (!parent) {
		for (size_t i = 0; i < ctx->self_maps.count; i++) {
			const struct proc_vma *v = &ctx->self_maps.vmas[i];

			if (v->name && !strcmp(v->name, name)) {
				*ret_start = v->start;
				*ret_len = v->end - v->start;
				return 0;
			}
		}
		return -ENOENT;
	}
	for (uint32_t i = 0; i < parent->nvmas; i++) {
		const struct ck_vma *v = &parent->vmas[i];

		if (v->rec.kind == CKPT_VMA_SPECIAL && !strcmp(v->name, name)) {
			*ret_start = v->rec.start;
			*ret_len = v->rec.end - v->rec.start;
			return 0;
		}
	}
	return -ENOENT;
}

static int check_file(struct ck_proc *p, const char *path, const struct ckpt_file_id *fid,
		      const char *what)
{
	struct stat st;

	if (stat(path, &st)) {
		log_err("pid %d: %s '%s': %s", p->rec.pid, what, path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != fid->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != fid->mtime_ns) {
		log_err("pid %d: %s '%s' changed since the checkpoint (size or modification time "
			"differ)",
			p->rec.pid, what, path);
		return -ESTALE;
	}
	return 0;
}

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	int err = check_file(p, p->exe, &p->mm.exe_id, "executable");

	for (uint32_t i = 0; i < p->nvmas && !err; i++) {
		const struct ck_vma *v = &p->vmas[i];

		if (v->rec.kind == CKPT_VMA_SPECIAL) {
			uint64_t start, len;

			if (special_source(ctx, p, v->name, &start, &len)) {
				log_err("pid %d: %s: %s", p->rec.pid, v->name,
					p->rec.flags & CKPT_PROC_ROOT
						? "this kernel gives processes none"
						: "its parent had none to pass it on");
				return -EPROTONOSUPPORT;
			}
			if (len != v->rec.end - v->rec.start) {
				log_err("pid %d: the image's %s has %llu bytes, this kernel's %llu "
					"(restart needs the same kernel)",
					p->rec.pid, v->name,
					(unsigned long long)(v->rec.end - v->rec.start),
					(unsigned long long)len);
				return -EPROTONOSUPPORT;
			}
		} else if (v->rec.kind == CKPT_VMA_FILE && !(v->rec.flags & CKPT_VMA_SHARED)) {
			err = check_file(p, v->name, &v->rec.fid, "mapped file");
		}
	}
	return err;
}

/* ckpt's descriptor of a file to map, opened once per file and mode. */
static int open_mapfile(struct rst_ctx *ctx, struct ck_proc *p, const char *path, bool rw,
			int *ret_fd)
{
	struct stat st;
	int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	int err;

	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		log_err("pid %d: cannot open '%s' to map it: %s", p->rec.pid, path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = res_keep_fd(ctx, OBJ_MAPFILE, st.st_dev, st.st_ino * 2 + rw, &fd);
	if (err < 0)
		return err;
	*ret_fd = fd;
	return 0;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	int fd, err;

	err = open_mapfile(ctx, p, p->exe, false, &fd);
	if (!err)
		err = res_temp_register(ctx, fd);
	if (err)
		return err;
	p->rst->exe_src = fd;
	for (uint32_t i = 0; i < p->nvmas; i++) {
		struct ck_vma *v = &p->vmas[i];

		if (v->rec.kind == CKPT_VMA_FILE) {
			bool rw =
				v->rec.flags & CKPT_VMA_SHARED && v->rec.flags & CKPT_VMA_MAYWRITE;

			err = open_mapfile(ctx, p, v->name, rw, &fd);
		} else if (v->rec.kind == CKPT_VMA_SHANON ||
			   (v->rec.kind == CKPT_VMA_SHM && !is_sysv(v))) {
			/* created by shmem.c, whose prepare runs first */
			err = res_obj_ops(OBJ_SHMEM)->map_fd(
				&v->shmem->obj,
				v->rec.kind == CKPT_VMA_SHANON ||
					(v->rec.flags & CKPT_VMA_SHARED &&
					 v->rec.flags & CKPT_VMA_MAYWRITE),
				&fd);
		} else {
			continue;
		}
		if (!err)
			err = res_temp_register(ctx, fd);
		if (err)
			return err;
		v->src_fd = fd;
	}
	return 0;
}

/* Whether p has q's special mapping w at the same place. */
static bool keeps_special(const struct ck_proc *p, const struct ck_vma *w)
{
	long i = find_vma(p, w->rec.start, w->rec.end - w->rec.start);
	const struct ck_vma *v = i < 0 ? NULL : &p->vmas[i];

	return v && v->rec.kind == CKPT_VMA_SPECIAL && v->rec.start == w->rec.start &&
	       v->rec.end == w->rec.end && !strcmp(v->name, w->name);
}

static int unmap_parents(struct blob_plan *bp, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	return plan_call(bp, 0, 0, SYS_munmap, start, end - start, 0, 0, 0, 0,
			 "unmap the parent's 0x%llx-0x%llx", (unsigned long long)start,
			 (unsigned long long)end);
}

/* Unmaps what child p does not keep of its parent's area w: the specials it
 * does not have at the same place, and the parts of other areas it does not
 * inherit. */
static int unmap_unkept(struct blob_plan *bp, const struct ck_proc *p, const struct ck_vma *w)
{
	uint64_t at = w->rec.start;
	uint32_t i = 0;
	int err = 0;

	if (w->rec.kind == CKPT_VMA_SPECIAL)
		return keeps_special(p, w) ? 0 : unmap_parents(bp, w->rec.start, w->rec.end);
	while (i < p->nvmas && p->vmas[i].rec.end <= w->rec.start)
		i++;
	for (; i < p->nvmas && p->vmas[i].rec.start < w->rec.end && !err; i++) {
		const struct ck_vma *v = &p->vmas[i];

		if (!(v->rec.flags & CKPT_VMA_INHERIT))
			continue;
		err = unmap_parents(bp, at, v->rec.start);
		at = v->rec.end;
	}
	return err ? err : unmap_parents(bp, at, w->rec.end);
}

/*
 * Clears the way for the process's own layout: its special mappings are
 * parked in the arena, everything else it does not keep is unmapped (the
 * root's memory is ckpt's, a child's is its parent's), and the specials are
 * moved to their saved places. A child keeps the areas it inherits and the
 * specials its parent has at the same place.
 */
static int plan_clear(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp)
{
	const struct ck_proc *q = p->rst->parent;
	int64_t *park = calloc(p->nvmas ? p->nvmas : 1, sizeof(*park));
	int err = 0;

	if (!park)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nvmas && !err; i++) {
		const struct ck_vma *v = &p->vmas[i];
		uint64_t len = v->rec.end - v->rec.start, start;

		park[i] = -1;
		if (v->rec.kind != CKPT_VMA_SPECIAL || (q && keeps_special(q, v)))
			continue;
		park[i] = plan_reserve(bp, len, page_size());
		if (park[i] < 0 || special_source(ctx, p, v->name, &start, &len))
			err = -ENOMEM;
		else
			err = plan_call(bp, 0, 1U << 4, SYS_mremap, start, len, len,
					MREMAP_MAYMOVE | MREMAP_FIXED, park[i], 0,
					"move %s out of the way", v->name);
	}
	if (!err && !q)
		err = plan_unmap_outside(bp);
	for (uint32_t i = 0; q && i < q->nvmas && !err; i++)
		err = unmap_unkept(bp, p, &q->vmas[i]);
	for (uint32_t i = 0; i < p->nvmas && !err; i++) {
		const struct ck_vma *v = &p->vmas[i];
		uint64_t len = v->rec.end - v->rec.start;

		if (park[i] >= 0)
			err = plan_call(bp, 0, 1U << 0, SYS_mremap, park[i], len, len,
					MREMAP_MAYMOVE | MREMAP_FIXED, v->rec.start, 0,
					"move %s to 0x%llx", v->name,
					(unsigned long long)v->rec.start);
	}
	free(park);
	return err;
}

/*
 * shmat of the System V segment whose attach starts with area i, at its
 * address: read-only when the areas may not write, executable when one of
 * them is (the setup phase then gives each area its own protection).
 */
static int plan_attach(struct blob_plan *bp, struct ck_proc *p, uint32_t i)
{
	const struct ck_vma *v = &p->vmas[i];
	uint64_t end = v->rec.start + page_up(v->shmem->rec.size);
	bool rdonly = !(v->rec.flags & CKPT_VMA_MAYWRITE), exec = false;
	uint32_t prot;

	for (uint32_t j = i; j < p->nvmas && p->vmas[j].rec.start < end; j++)
		exec |= p->vmas[j].rec.prot & PROT_EXEC;
	prot = PROT_READ | (rdonly ? 0 : PROT_WRITE) | (exec ? PROT_EXEC : 0);
	for (uint32_t j = i; j < p->nvmas && p->vmas[j].rec.start < end; j++)
		p->vmas[j].tmp_prot = prot;
	return plan_call(bp, 0, 0, SYS_shmat, v->shmem->sysv.shmid, v->rec.start,
			 (rdonly ? SHM_RDONLY : 0) | (exec ? SHM_EXEC : 0), 0, 0, 0,
			 "attach System V shared memory %d at 0x%llx", v->shmem->sysv.shmid,
			 (unsigned long long)v->rec.start);
}

static int plan_maps(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp)
{
	for (uint32_t i = 0; i < p->nvmas; i++) {
		struct ck_vma *v = &p->vmas[i];
		const struct ckpt_rec_vma *r = &v->rec;
		uint64_t len = r->end - r->start;
		long flags = MAP_FIXED_NOREPLACE, fd = -1;
		int err;

		if (r->kind == CKPT_VMA_SPECIAL)
			continue;
		if (is_sysv(v)) {
			/* one attach from its first area covers the others */
			err = r->pgoff ? 0 : plan_attach(bp, p, i);
			if (err)
				return err;
			continue;
		}
		v->tmp_prot = r->npages ? r->prot | PROT_READ | PROT_WRITE : r->prot;
		if (r->flags & CKPT_VMA_INHERIT) {
			err = plan_call(bp, 0, 0, SYS_mprotect, r->start, len, v->tmp_prot, 0, 0, 0,
					"protect the inherited 0x%llx-0x%llx",
					(unsigned long long)r->start, (unsigned long long)r->end);
			if (err)
				return err;
			continue;
		}
		if (r->flags & CKPT_VMA_NORESERVE)
			flags |= MAP_NORESERVE;
		switch (r->kind) {
		case CKPT_VMA_ANON:
			flags |= MAP_PRIVATE | MAP_ANONYMOUS;
			if (r->flags & CKPT_VMA_GROWSDOWN)
				flags |= MAP_GROWSDOWN;
			break;
		default:
			flags |= r->flags & CKPT_VMA_SHARED ? MAP_SHARED : MAP_PRIVATE;
			fd = res_temp(ctx, v->src_fd);
			break;
		}
		err = plan_call(bp, 0, 0, SYS_mmap, r->start, len, v->tmp_prot, flags, fd,
				r->kind == CKPT_VMA_ANON ? 0 : r->pgoff, "map 0x%llx-0x%llx%s%s",
				(unsigned long long)r->start, (unsigned long long)r->end,
				v->name ? " " : "", v->name ? v->name : "");
		if (err)
			return err;
	}
	for (uint32_t i = 0; i < p->ndrops; i++) {
		const struct ckpt_page_range *d = &p->drops[i];
		int err = plan_call(bp, 0, 0, SYS_madvise, d->addr, d->npages * page_size(),
				    MADV_DONTNEED, 0, 0, 0, "drop the parent's pages at 0x%llx",
				    (unsigned long long)d->addr);

		if (err)
			return err;
	}
	return 0;
}

static const struct {
	uint32_t flag;
	int advice;
	const char *name;
} advices[] = {
	{ CKPT_VMA_DONTFORK, MADV_DONTFORK, "dontfork" },
	{ CKPT_VMA_DONTDUMP, MADV_DONTDUMP, "dontdump" },
	{ CKPT_VMA_WIPEONFORK, MADV_WIPEONFORK, "wipeonfork" },
	{ CKPT_VMA_HUGEPAGE, MADV_HUGEPAGE, "hugepage" },
	{ CKPT_VMA_NOHUGEPAGE, MADV_NOHUGEPAGE, "nohugepage" },
	{ CKPT_VMA_MERGEABLE, MADV_MERGEABLE, "mergeable" },
	{ CKPT_VMA_SEQUENTIAL, MADV_SEQUENTIAL, "sequential" },
	{ CKPT_VMA_RANDOM, MADV_RANDOM, "random" },
};

static int plan_vma_setup(struct blob_plan *bp, struct ck_vma *v)
{
	const struct ckpt_rec_vma *r = &v->rec;
	uint64_t len = r->end - r->start;
	int err = 0;

	if (r->kind != CKPT_VMA_SPECIAL && v->tmp_prot != r->prot)
		err = plan_call(bp, 0, 0, SYS_mprotect, r->start, len, r->prot, 0, 0, 0,
				"protect 0x%llx", (unsigned long long)r->start);
	for (size_t a = 0; a < sizeof(advices) / sizeof(advices[0]) && !err; a++)
		if (r->flags & advices[a].flag && r->kind != CKPT_VMA_SPECIAL)
			err = plan_call(bp, 0, 0, SYS_madvise, r->start, len, advices[a].advice, 0,
					0, 0, "advise 0x%llx %s", (unsigned long long)r->start,
					advices[a].name);
	if (!err && r->flags & (CKPT_VMA_LOCKED | CKPT_VMA_LOCKONFAULT))
		err = plan_call(bp, 0, 0, SYS_mlock2, r->start, len,
				r->flags & CKPT_VMA_LOCKONFAULT ? MLOCK_ONFAULT : 0, 0, 0, 0,
				"lock 0x%llx", (unsigned long long)r->start);
	if (!err && r->flags & CKPT_VMA_ANON_NAME) {
		int64_t name = plan_data(bp, v->name, strlen(v->name) + 1);

		err = name < 0 ? -ENOMEM
			       : plan_call(bp, 0, 1U << 4, SYS_prctl, PR_SET_VMA,
					   PR_SET_VMA_ANON_NAME, r->start, len, name, 0,
					   "name 0x%llx '%s'", (unsigned long long)r->start,
					   v->name);
	}
	return err;
}

static int plan_mm_fields(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp)
{
	const struct ckpt_rec_mm *m = &p->mm;
	struct prctl_mm_map map = {
		.start_code = m->start_code,
		.end_code = m->end_code,
		.start_data = m->start_data,
		.end_data = m->end_data,
		.start_brk = m->start_brk,
		.brk = m->brk,
		.start_stack = m->start_stack,
		.arg_start = m->arg_start,
		.arg_end = m->arg_end,
		.env_start = m->env_start,
		.env_end = m->env_end,
		.auxv_size = m->auxv_len,
		.exe_fd = (uint32_t)res_temp(ctx, p->rst->exe_src),
	};
	int64_t auxv = plan_data(bp, p->auxv, m->auxv_len ? m->auxv_len : 8);
	int64_t off;

	if (auxv < 0)
		return -ENOMEM;
	map.auxv = (__u64 *)(uintptr_t)auxv;
	off = plan_data(bp, &map, sizeof(map));
	if (off < 0 || plan_reloc(bp, (uint64_t)off + offsetof(struct prctl_mm_map, auxv)))
		return -ENOMEM;
	return plan_call(bp, 0, 1U << 2, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, off, sizeof(map), 0,
			 0, "set the mm fields (brk, arguments, environment, auxv, executable)");
}

static int plan_mm_flags(struct ck_proc *p, struct blob_plan *bp)
{
	const struct ckpt_rec_mm *m = &p->mm;
	int err = 0;

	if (m->thp_disable)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_SET_THP_DISABLE, 1, m->thp_disable & ~1U, 0,
				0, 0, "disable transparent huge pages");
	if (!err && m->flags & CKPT_MM_MERGE_ANY)
		err = plan_call(bp, 0, 0, SYS_prctl, PR_SET_MEMORY_MERGE, 1, 0, 0, 0, 0,
				"let KSM merge all memory");
	if (!err && m->flags & CKPT_MM_LOCK_FUTURE)
		err = plan_call(bp, 0, 0, SYS_mlockall,
				MCL_FUTURE | (m->flags & CKPT_MM_LOCK_ONFAULT ? MCL_ONFAULT : 0), 0,
				0, 0, 0, 0, "lock future memory (mlockall)");
	return err;
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	int err = 0;

	if (phase == PLAN_MEMORY) {
		err = plan_clear(ctx, p, bp);
		return err ? err : plan_maps(ctx, p, bp);
	}
	if (phase != PLAN_SETUP)
		return 0;
	for (uint32_t i = 0; i < p->nvmas && !err; i++)
		err = plan_vma_setup(bp, &p->vmas[i]);
	if (!err)
		err = plan_mm_fields(ctx, p, bp);
	if (!err)
		err = plan_mm_flags(p, bp);
	for (uint32_t i = 0; i < p->nvmas && !err; i++) {
		const struct ckpt_rec_vma *r = &p->vmas[i].rec;

		if (r->flags & CKPT_VMA_SEALED)
			err = plan_call(bp, 0, 0, SYS_mseal, r->start, r->end - r->start, 0, 0, 0,
					0, "seal 0x%llx", (unsigned long long)r->start);
	}
	return err;
}

static int restore_pages(struct rst_ctx *ctx, struct img_reader *r, const struct ckpt_rec_pages *hp,
			 uint64_t bytes)
{
	const struct ckpt_rec_pages h = *hp;
	struct ck_proc *p = model_find_proc(ctx->img, (pid_t)h.owner);
	struct ck_vma *v;
	long i;
	int err;

	if (!p || p->rec.flags & CKPT_PROC_ZOMBIE)
		return res_bad(CKPT_REC_PAGES, "is for a process the image does not hold");
	err = ctx->pages_ready(ctx, p);
	if (err)
		return err;
	i = find_vma(p, h.addr, bytes);
	v = i < 0 ? NULL : &p->vmas[i];
	if (!v || v->rec.kind == CKPT_VMA_SHANON || v->rec.kind == CKPT_VMA_SPECIAL ||
	    (v->rec.kind == CKPT_VMA_SHM && v->rec.flags & CKPT_VMA_SHARED))
		return res_bad(CKPT_REC_PAGES, "is for memory the image does not map");
	/* rec.npages counts down the pages still due */
	if (h.npages > v->rec.npages)
		return res_bad(CKPT_REC_PAGES, "brings more pages than the image declared");
	v->rec.npages -= h.npages;
	for (uint64_t done = 0; done < bytes;) {
		uint64_t n = bytes - done < RES_PAGE_CHUNK ? bytes - done : RES_PAGE_CHUNK;

		if (is_interrupted())
			return -ECANCELED;
		err = img_read_data(r, ctx->page_buf, n);
		if (err)
			return err;
		err = remote_write(p->rst->pid, h.addr + done, ctx->page_buf, n);
		if (err) {
			log_err("pid %d: cannot write memory at 0x%llx: %s", p->rec.pid,
				(unsigned long long)(h.addr + done), strerror(-err));
			return err;
		}
		done += n;
	}
	return 0;
}

static int check_pages(struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		for (uint32_t j = 0; j < img->procs[i].nvmas; j++)
			if (img->procs[i].vmas[j].rec.npages)
				return res_bad(CKPT_REC_VMA, "declares pages the image lacks");
	return 0;
}

/* ---- show ---- */

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case CKPT_VMA_ANON:
		return "anon";
	case CKPT_VMA_FILE:
		return "file";
	case CKPT_VMA_SHANON:
		return "shared-anon";
	case CKPT_VMA_SPECIAL:
		return "special";
	case CKPT_VMA_SHM:
		return "shm";
	}
	return "?";
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	uint64_t pages = 0;

	(void)img;
	show_str(s, "exe", p->exe);
	show_obj_begin(s, "mm", true);
	show_hex(s, "start_brk", p->mm.start_brk);
	show_hex(s, "brk", p->mm.brk);
	show_hex(s, "start_stack", p->mm.start_stack);
	show_hex(s, "arg_start", p->mm.arg_start);
	show_u64(s, "auxv_bytes", p->mm.auxv_len);
	if (p->mm.thp_disable)
		show_u64(s, "thp_disable", p->mm.thp_disable);
	if (p->mm.flags & CKPT_MM_MERGE_ANY)
		show_bool(s, "ksm_merge_any", true);
	if (p->mm.flags & CKPT_MM_LOCK_FUTURE)
		show_str(s, "mlockall",
			 p->mm.flags & CKPT_MM_LOCK_ONFAULT ? "future,onfault" : "future");
	show_obj_end(s);
	for (uint32_t i = 0; i < p->nvmas; i++)
		pages += p->vmas[i].rec.npages;
	show_u64(s, "saved_pages", pages);
	if (p->ndrops)
		show_u64(s, "dropped_ranges", p->ndrops);
	show_list_begin(s, "memory");
	for (uint32_t i = 0; i < p->nvmas; i++) {
		const struct ck_vma *v = &p->vmas[i];
		const struct ckpt_rec_vma *r = &v->rec;

		show_obj_begin(s, NULL, true);
		show_fmt(s, "range", "%llx-%llx", (unsigned long long)r->start,
			 (unsigned long long)r->end);
		show_fmt(s, "prot", "%c%c%c%c", r->prot & PROT_READ ? 'r' : '-',
			 r->prot & PROT_WRITE ? 'w' : '-', r->prot & PROT_EXEC ? 'x' : '-',
			 r->flags & CKPT_VMA_SHARED ? 's' : 'p');
		show_str(s, "kind", kind_name(r->kind));
		if (r->npages)
			show_u64(s, "pages", r->npages);
		if (r->flags & CKPT_VMA_INHERIT)
			show_bool(s, "inherited", true);
		if (v->shmem)
			show_u64(s, "object", v->shmem->obj.id);
		if (v->name)
			show_str(s, "name", v->name);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t types[] = { CKPT_REC_MM, CKPT_REC_VMA, CKPT_REC_MM_DROP, 0 };

const struct res_ops mm_ops = {
	.name = "mm",
	.types = types,
	.ask = ask,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.validate = validate,
	.check = check,
	.prepare = prepare,
	.plan = plan,
	.pages_kind = CKPT_PAGES_PROC,
	.dump_pages = dump_pages,
	.restore_pages = restore_pages,
	.check_pages = check_pages,
	.show = show,
};
