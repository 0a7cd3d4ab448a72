/*
 * model.h: the task-tree model, the one representation of a checkpointed
 * tree that every part of ckpt shares. Checkpoint fills it from live
 * processes and serializes it; restart and show parse an image into it.
 * Fixed parts are kept in their on-disk record structs (ckpt_image.h), so
 * the model and the format cannot drift apart.
 *
 * Resource files (src/res/) fill and consume their part of it. The model
 * holds no ptrace or /proc state: what checkpoint holds on the live tree
 * (struct ck_live, struct ck_tracee) and restart on the new one (struct
 * ck_rst) are defined by the layers that use them and only pointed to here.
 */
#ifndef MODEL_MODEL_H
#define MODEL_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "ckpt_image.h"
#include "model/objhash.h"

#define CK_NRLIMITS 16

struct ck_tracee;

struct ck_sigqueue {
	uint32_t count;
	uint8_t (*info)[CKPT_SIGINFO_SIZE];
};

struct ck_thread {
	struct ckpt_rec_thread rec;
	struct ckpt_rec_x86_regs regs;
	bool has_regs;
	void *xstate;
	uint32_t xstate_len;
	struct ck_sigqueue pending;
	struct ckpt_rec_thread_sched sched;
	bool has_sched;
	struct ck_tracee *trace; /* checkpoint and restart: the traced thread (res/res.h) */
};

struct fd_ops;

/* An open file description (OBJ_FILE), of one kind of descriptor */
struct ck_file {
	struct ck_obj obj;
	struct ckpt_rec_file rec; /* what every kind has */
	const struct fd_ops *ops; /* its kind (res/files.h) */
	char *path; /* NULL when it has none */
	struct ck_shmem *shmem; /* CKPT_FILE_SHM */
	struct ckpt_rec_file_owner owner; /* pid or sig set: CKPT_REC_FILE_OWNER */
	void *priv; /* the kind's own state, freed by the kind */
	pid_t dump_pid; /* checkpoint: where it was first seen, for kcmp */
	int dump_fd;
	/* checkpoint, in the first description of an inode: every description
	 * of that inode, in the kernel's order (kcmp), to find one again in
	 * logarithmic time */
	struct ck_file **peers;
	uint32_t npeers;
};

/* A shared memory object (OBJ_SHMEM): shared anonymous memory, a memfd, a
 * file of /dev/shm or a System V segment (res/shmem.c, res/sysvshm.c) */
struct ck_shmem {
	struct ck_obj obj;
	struct ckpt_rec_shmem rec; /* what every kind has; the kind's record repeats it */
	struct ckpt_rec_shm_file file; /* CKPT_SHMEM_MEMFD, CKPT_SHMEM_FILE */
	struct ckpt_rec_sysv_shm sysv; /* CKPT_SHMEM_SYSV */
	char *name; /* the memfd's name or the file's path */
	pid_t first_pid; /* the process whose section holds its record */
	int dump_fd; /* checkpoint: a descriptor to read its pages from */
	bool remove_with_tree; /* checkpoint --kill, SysV: remove it with the tree */
	int64_t dump_ctime; /* checkpoint, SysV: shm_ctime, to know it again */
	int ro_fd; /* restart: read-only descriptor, for areas that may not write */
	int dir_fd; /* restart, named /dev/shm file: its directory, where it is linked */
	bool created; /* restart: ckpt created it (SysV: the segment exists) */
	bool own_given; /* restart, memfd: memfd_create's own description went to a file */
	bool committed; /* restart: the tree runs with it; keep it */
};
struct ck_vma {
	struct ckpt_rec_vma rec;
	char *name;
	struct ck_shmem *shmem; /* CKPT_VMA_SHANON, CKPT_VMA_SHM */
	int src_fd; /* restart: ckpt's descriptor of what it maps, or -1 */
	uint32_t tmp_prot; /* restart: protection while pages are written */
};

struct ck_fd {
	struct ckpt_rec_fd rec;
	struct ck_file *file; /* NULL when external */
};

/* A file lock the process restores (res/fd_locks.c): one it owns (POSIX),
 * or one of a description first written in its section (flock, OFD) */
struct ck_lock {
	struct ckpt_lock rec;
	struct ck_file *file; /* the description it is taken through */
};

/* Records a process section must have: bit (1 << CK_HAVE_x) in ck_proc.have */
enum ck_have {
	CK_HAVE_CREDS,
	CK_HAVE_RLIMITS,
	CK_HAVE_FS,
	CK_HAVE_MM,
	CK_HAVE_SIGACTIONS,
	CK_HAVE_TIMERS,
	CK_HAVE_TASK,
	CK_HAVE_SECCOMP,
	CK_HAVE_COUNT
};

struct ck_live;
struct ck_rst;

/* rec.flags of a helper restart adds (core/helpers.c); never in an image */
#define CK_PROC_HELPER (1U << 31)

struct ck_proc {
	struct ckpt_rec_proc rec;
	bool has_section;
	uint32_t have;
	struct ck_thread *threads;
	uint32_t nthreads;
	struct ckpt_rec_creds creds;
	uint32_t *groups;
	struct ckpt_rlimit rlim[CK_NRLIMITS];
	uint32_t nrlim;
	struct ckpt_rec_fs fs;
	char *cwd, *root;
	struct ckpt_rec_mm mm;
	uint8_t *auxv;
	char *exe;
	struct ck_vma *vmas;
	uint32_t nvmas;
	struct ckpt_page_range *drops; /* see CKPT_REC_MM_DROP */
	uint32_t ndrops;
	struct ck_fd *fds;
	uint32_t nfds;
	struct ck_lock *locks;
	uint32_t nlocks;
	struct ckpt_rec_sigactions sigact;
	struct ck_sigqueue shared_pending;
	struct ckpt_rec_timers timers;
	struct ckpt_posix_timer *ptimers; /* timers.count of them */
	struct ckpt_rec_task task;
	struct ckpt_rec_seccomp seccomp;
	struct ck_filter {
		struct ckpt_seccomp_filter h;
		uint64_t *insns;
	} * filters; /* seccomp.count, oldest first */
	struct ck_live *live; /* checkpoint only */
	pid_t forker; /* restart: the helper that forks it, if not its parent */
	struct ck_rst *rst; /* restart only */
};

struct ck_image {
	struct ckpt_hdr_image hdr;
	struct ck_proc *procs; /* parents before children */
	uint32_t nprocs, cap;
	uint32_t *slots; /* by pid: index + 1 in procs, or 0 (open addressing) */
	uint32_t nslots; /* a power of two, at least twice nprocs */
	struct objhash objs;
	uint64_t pages; /* page data records' pages, in total */
	bool killed; /* checkpoint --kill: the tree is gone, and what it alone used may go */
};

/* The process with this pid, found through an index: trees of any size
 * (and images that claim a million processes) are looked up in constant
 * time. */
struct ck_proc *model_find_proc(const struct ck_image *img, pid_t pid);
/* Appends a zeroed process with this pid to img->procs (which may move);
 * NULL if out of memory. */
struct ck_proc *model_add_proc(struct ck_image *img, pid_t pid);
/* Removes img->procs[i], whose own allocations the caller freed. */
void model_drop_proc(struct ck_image *img, uint32_t i);
void model_release(struct ck_image *img);
void model_sigqueue_release(struct ck_sigqueue *q);
int model_sigqueue_add(struct ck_sigqueue *q, const void *info);
/* "pid 42" or "pid 42 tid 43", for messages */
const char *model_task_name(const struct ck_proc *p, const struct ck_thread *t, char *buf,
			    size_t len);

#endif
