/*
 * res.h: the resource ops table. Each kind of resource (memory, files,
 * signal handlers, credentials, ...) is one file in src/res/ with its dump
 * and restore side together behind one struct res_ops, registered in
 * res_table (res.c). The orchestrators in src/core/ call the hooks of every
 * resource in table order, phase by phase; resources never call each other
 * and meet only in the model (core/model.h) and the objhash.
 *
 * Every hook is optional. Hooks return 0 or -errno, and log the failure
 * themselves, naming the process and the resource.
 */
#ifndef RES_RES_H
#define RES_RES_H

#include <stdint.h>
#include <sys/stat.h>
#include "model/model.h"
#include "model/plan.h"
#include "model/show.h"
#include "img/codec.h"
#include "proc/proc.h"
#include "remote/remote.h"

/* What checkpoint holds on a live, frozen process (ck_proc.live). */
struct page_run {
	unsigned long start, end;
	uint64_t categories; /* PAGE_IS_* */
};

struct ck_live {
	struct proc_status status;
	struct proc_stat stat;
	struct proc_maps maps;
	struct page_run *runs; /* pages the image stores, address order */
	size_t nruns;
	struct page_run *data; /* every page with data (a child compares with these) */
	size_t ndata;
	unsigned long syscall_ip;
	unsigned long scratch; /* a page mapped in the process for syscall results */
	unsigned int seen_pass; /* the last freeze pass that found it as a child */
	bool all_seized; /* every thread seized, as many as the kernel counts */
};

/* The traced thread (ck_thread.trace), at checkpoint and at restart. */
struct ck_tracee {
	struct remote_task rt;
	struct res_asks *asks; /* checkpoint: its syscalls' answers (ask.c) */
	long restarted_nr; /* checkpoint: the call its restart_syscall continues, or -1 */
	struct {
		int list; /* its list in the plan */
		unsigned int traps; /* traps of the blob it reached */
		bool created, stopped, exited, may_exit;
		bool forks; /* it forks children first: a trap more */
	} st; /* restart: the task's progress */
};

/* Checkpoint: the tree is frozen while these run. */
struct dump_ctx {
	struct ck_image *img;
	unsigned int flags;
	size_t op; /* the resource whose hook runs (res_table index) */
	void *page_buf; /* RES_PAGE_CHUNK bytes, page aligned, for dump_pages */
};

/* Page data moves in pieces of at most this many bytes. */
#define RES_PAGE_CHUNK (512U << 10)

/* The syscalls a process or thread is asked at checkpoint (see ask.c). */
struct res_asks;

/* Restart. */
struct rst_ctx {
	struct ck_image *img;
	struct proc_maps self_maps; /* ckpt's own layout, which the root starts with */
	struct blob_plan plan; /* the restorer of the whole tree: one list per task */
	int *temp_src; /* ckpt's descriptors the tree inherits, by temp index */
	size_t ntemps;
	int temp_base; /* temp i is descriptor temp_base + i in every new process */
	/* finish hooks: runs a syscall in the (stopped) main thread of p */
	int (*remote)(struct rst_ctx *ctx, struct ck_proc *p, long *ret, long nr, long a1, long a2);
	/* restore_pages: makes p ready for its pages (created, waiting at its
	 * first trap); -EBADMSG if the image is out of tree order */
	int (*pages_ready)(struct rst_ctx *ctx, struct ck_proc *p);
	void *page_buf; /* RES_PAGE_CHUNK bytes, for restore_pages */
};

/* A descriptor a new process gets: its own copy of ckpt's descriptor src
 * (inherited as a temporary descriptor), at number fd. */
struct fd_install {
	int fd;
	int src;
	bool cloexec;
};

/* What restart holds on one new process. */
struct ck_rst {
	pid_t pid; /* as ckpt sees it: the image's (with --pidns too: ckpt restarts from inside) */
	const struct ck_proc *parent; /* NULL for the root */
	const struct ck_proc *forker; /* whose list forks it: its parent, or a helper */
	int list; /* its main thread's list in the plan */
	struct fd_install *installs;
	size_t ninstalls;
	int exe_src; /* ckpt's descriptor of the executable, for PR_SET_MM_MAP */
	int cwd_src, root_src;
	bool done_pages; /* its pages are written: it may fork its children */
	bool files_shared; /* its descriptor table is its parent's or a child's (CLONE_FILES) */
	bool zombie_signals; /* a zombie child's exit signal is not SIGCHLD */
};

enum plan_phase {
	PLAN_MEMORY, /* the address space; then the tracer writes the pages */
	PLAN_SETUP, /* protections, mm fields, signals, ... */
	PLAN_FINAL, /* limits; then each thread's plan_thread_final */
};

struct res_ops {
	const char *name;
	const uint32_t *types; /* record types it reads, 0-terminated */

	/* checkpoint: the read-only syscalls the frozen process (or thread)
	 * must run for collect, added with res_ask; all run before any
	 * collect, with one stop per thread */
	int (*ask)(struct res_asks *a, struct ck_proc *p);
	int (*ask_thread)(struct res_asks *a, struct ck_proc *p, struct ck_thread *t);
	/* checkpoint: fill the model from the frozen process */
	int (*collect)(struct dump_ctx *ctx, struct ck_proc *p);
	int (*collect_thread)(struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t);
	/* checkpoint, once every process is collected: what needs the whole
	 * tree to be decided (the tree is still frozen) */
	int (*collect_done)(struct dump_ctx *ctx);
	/* checkpoint: the process section's records */
	int (*write)(struct img_writer *w, struct ck_image *img, struct ck_proc *p);
	int (*write_thread)(struct img_writer *w, struct ck_proc *p, struct ck_thread *t);

	/* restart and show: one record into the model; t is NULL outside a
	 * thread subsection, p is NULL outside a process section */
	int (*read)(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len);
	/* restart and show: the process's part of the model is consistent */
	int (*validate)(struct ck_image *img, struct ck_proc *p);

	/* restart, before anything is created: can this machine take it? */
	int (*check)(struct rst_ctx *ctx, struct ck_proc *p);
	/* restart, in ckpt: open what the new processes will inherit (each
	 * descriptor registered with res_temp_register) */
	int (*prepare)(struct rst_ctx *ctx, struct ck_proc *p);
	/* restart: the blob's syscalls for a phase, on the main thread's list */
	int (*plan)(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp,
		    enum plan_phase phase);
	/* restart: syscalls a thread runs on itself, on its own list */
	int (*plan_thread)(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
			   struct blob_plan *bp);
	/* restart: a thread's last syscalls on itself, after every plan and
	 * plan_thread (credentials, then what changing them resets) */
	int (*plan_thread_final)(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t,
				 struct blob_plan *bp);
	/* restart, in ckpt after every thread of the process finished its list */
	int (*finish)(struct rst_ctx *ctx, struct ck_proc *p);
	/* restart, in ckpt after the blob finished: set state through ptrace */
	int (*finish_thread)(struct rst_ctx *ctx, struct ck_proc *p, struct ck_thread *t);

	/* Page data (CKPT_REC_PAGES of kind pages_kind), which follows the
	 * metadata of every process, the resources' in table order. */
	uint32_t pages_kind;
	/* checkpoint: writes its page data */
	int (*dump_pages)(struct dump_ctx *ctx, struct img_writer *w);
	/* restart: one page record, whose fixed part h was read; its bytes
	 * of data follow in r */
	int (*restore_pages)(struct rst_ctx *ctx, struct img_reader *r,
			     const struct ckpt_rec_pages *h, uint64_t bytes);
	/* restart, after the trailer: every page it declared arrived */
	int (*check_pages)(struct ck_image *img);

	void (*show)(struct show_ctx *s, struct ck_image *img, struct ck_proc *p);
	void (*show_thread)(struct show_ctx *s, struct ck_proc *p, struct ck_thread *t);
};

/*
 * Shared kernel objects that more than one resource reaches (shared memory,
 * reached by areas and by descriptors; pipes, reached by descriptors of
 * every process that holds an end): each kind of object (enum obj_kind)
 * has its operations here, and a resource gets another's objects only
 * through them, found in the objhash or with res_obj_ops(). Every hook is
 * optional.
 */
struct obj_ops {
	enum obj_kind kind;
	/* checkpoint: the variety of this kind of object a file is (its /proc
	 * link reads target; st is its stat), 0 when it is not one */
	uint32_t (*kind_of)(const char *target, const struct stat *st);
	/* checkpoint: the object of that variety behind link
	 * (/proc/PID/fd/N, /proc/PID/map_files/A-B), found or added; what
	 * names the descriptor or area in messages; -EOPNOTSUPP refuses */
	int (*collect)(struct dump_ctx *ctx, struct ck_proc *p, const char *link, uint32_t variety,
		       const char *what, struct ck_obj **ret);
	/* restart, once the object's resource prepared it: a new open file
	 * description of it with these open(2) flags, or -errno */
	int (*reopen)(struct ck_obj *o, uint32_t flags);
	/* restart: ckpt's own descriptor to map it, read-write or read-only
	 * (not to be closed by the caller) */
	int (*map_fd)(struct ck_obj *o, bool rw, int *ret_fd);
};

const struct obj_ops *res_obj_ops(enum obj_kind kind);

extern const struct res_ops *const res_table[];
const struct res_ops *res_for_type(uint32_t type);
/* The resource whose page data is of this kind, and its table index; NULL
 * for a kind none owns. */
const struct res_ops *res_for_pages(uint32_t kind, size_t *ret_index);
/* Reads and checks the fixed part of a page record of len bytes; the
 * number of data bytes that follow goes to *ret_bytes. */
int res_read_pages_hdr(struct img_reader *r, uint32_t len, struct ckpt_rec_pages *ret,
		       uint64_t *ret_bytes);

/* Asking (ask.c): nr(args) is added to the batch; with res_ask_buf,
 * argument buf_arg becomes the address of len bytes of scratch for the
 * call to fill. -E2BIG when the buffers outgrow RES_SCRATCH_DATA. */
int res_ask(struct res_asks *a, long nr, const long args[6]);
int res_ask_buf(struct res_asks *a, size_t len, int buf_arg, long nr, const long args[6]);
/* The answer to the i-th call the running resource asked of process p
 * (t NULL) or of its thread t: the call's result or -errno, and the first
 * len bytes of its buffer in buf. -EINVAL if it asked no such call. */
long res_answer(const struct dump_ctx *ctx, struct ck_proc *p, struct ck_thread *t, unsigned int i,
		void *buf, size_t len);
/* Runs every resource's asks of a process, one batch per thread. */
int res_ask_all(struct dump_ctx *ctx, struct ck_proc *p);
void res_asks_release(struct ck_proc *p);

/* A syscall in thread t (or the main thread) of a frozen process; results
 * that are written to memory land in its scratch area (ck_live.scratch,
 * RES_SCRATCH_SIZE bytes, of which the first RES_SCRATCH_DATA are for
 * them; then come the code of batches, and the stub that runs single
 * syscalls, at RES_SCRATCH_STUB). */
#define RES_SCRATCH_SIZE (32 * 1024)
#define RES_SCRATCH_DATA (8 * 1024)
#define RES_SCRATCH_STUB (RES_SCRATCH_SIZE - REMOTE_STUB_SIZE)
int res_remote(struct ck_proc *p, struct ck_thread *t, long *ret, long nr, long a1, long a2,
	       long a3, long a4, long a5, long a6);
int res_read_scratch(struct ck_proc *p, size_t off, void *buf, size_t len);

/* Per-resource helpers shared through this header */
int res_add_install(struct ck_rst *r, int fd, int src, bool cloexec);
/* prepare: ckpt's descriptor src is to be inherited by the new processes */
int res_temp_register(struct rst_ctx *ctx, int src);
/* restart: ckpt's one descriptor for the object of this kind and keys. *fd,
 * just opened, is kept when it is the first (1 is returned), else closed
 * and replaced by the one kept before (0); -errno on failure (*fd closed). */
int res_keep_fd(struct rst_ctx *ctx, enum obj_kind kind, uint64_t k0, uint64_t k1, int *fd);
/* plan: the number src has as a temporary descriptor in the new processes */
int res_temp(struct rst_ctx *ctx, int src);
/* Checks that a fixed-size record with a variable tail is consistent. */
int res_check_len(uint32_t type, uint32_t len, size_t fixed, uint64_t tail);
/* The path a /proc symlink (such as /proc/PID/cwd) points to, verified to
 * name the same file from ckpt's root: -ENOENT when the file was deleted or
 * is not reachable by path. */
int res_link_path(const char *link, char **ret_path, struct stat *ret_st);
/* Logs "image is damaged: <type> record <why>" and returns -EBADMSG. */
int res_bad(uint32_t type, const char *why);
/* strndup for record tails; NULL on allocation failure */
char *res_strndup(const void *data, size_t len);

#endif
