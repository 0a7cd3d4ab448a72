/*
 * ckpt_image.h: the on-disk (on-wire) layout of a ckpt image, format 2.
 *
 * An image is one byte stream: a fixed header, then records, each
 * { u32 type; u32 len; payload; zero padding to 8 bytes }, then a trailer
 * record. Every field is fixed-width little-endian, every struct has explicit
 * padding and a checked size. Record types are numbered in ranges per area,
 * as linux-cr's checkpoint_hdr.h did. docs/image-format.md is the prose
 * specification of this file; change both together.
 */
#ifndef CKPT_IMAGE_H
#define CKPT_IMAGE_H

#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ckpt images are little-endian and this code writes structs directly"
#endif

#define CKPT_IMG_MAGIC                                                                             \
	"\x89"                                                                                     \
	"CKPT\r\n\x1a"
#define CKPT_IMG_MAGIC_LEN 8
#define CKPT_IMG_MAJOR 2
#define CKPT_IMG_MINOR 0
#define CKPT_TRAILER_MAGIC "CKPTEND\n"

#define CKPT_ARCH_X86_64 62 /* ELF machine number */

/* Upper bound on the payload of any record that is not page data. */
#define CKPT_REC_MAX_META (16U << 20)

struct ckpt_hdr_image {
	uint8_t magic[8];
	uint16_t major;
	uint16_t minor;
	uint32_t hdr_len; /* bytes of header as written; readers skip what they do not know */
	uint32_t arch;
	uint32_t page_size;
	uint32_t flags; /* none defined yet; must be 0 */
	uint32_t xstate_size; /* bytes of the x86 xsave area of the checkpointing machine */
	uint64_t xfeatures; /* XCR0 of the checkpointing machine */
	uint64_t time_ns; /* CLOCK_REALTIME when the checkpoint was taken */
	char kernel[80]; /* uname release, NUL padded */
	char tool[32]; /* ckpt version, NUL padded */
	char host[64]; /* uname nodename, NUL padded */
};
_Static_assert(sizeof(struct ckpt_hdr_image) == 224, "header size");

struct ckpt_rec_hdr {
	uint32_t type;
	uint32_t len; /* payload bytes, excluding this header and the padding */
};
_Static_assert(sizeof(struct ckpt_rec_hdr) == 8, "record header size");

enum ckpt_rec_type {
	/* 1-99: structure of the stream */
	CKPT_REC_MARK = 1, /* end of metadata; page data follows */
	CKPT_REC_TRAILER = 2, /* last record */

	/* 100-199: tasks */
	CKPT_REC_PROC = 100, /* one per process, all before anything else */
	CKPT_REC_PROC_BEGIN = 101, /* opens the section of one process */
	CKPT_REC_TASK = 102, /* process-wide attributes */
	CKPT_REC_THREAD = 103, /* opens the subsection of one thread */
	CKPT_REC_CREDS = 104,
	CKPT_REC_RLIMITS = 105,
	CKPT_REC_FS = 106, /* cwd, root, umask */
	CKPT_REC_THREAD_SCHED = 107, /* the current thread's scheduling */
	CKPT_REC_SECCOMP = 108, /* seccomp filters of every thread */

	/* 200-299: architecture state of the current thread */
	CKPT_REC_X86_REGS = 200,
	CKPT_REC_X86_XSTATE = 201,

	/* 300-399: files */
	CKPT_REC_FILE = 300, /* an open file description, referenced by id */
	CKPT_REC_FD = 301, /* one descriptor of the current process */
	CKPT_REC_PIPE = 310, /* a pipe or FIFO and the data in it, referenced by id */
	CKPT_REC_EVENTFD = 320, /* an eventfd description, referenced by id */
	CKPT_REC_SIGNALFD = 321, /* a signalfd description, referenced by id */
	CKPT_REC_TIMERFD = 322, /* a timerfd description, referenced by id */
	CKPT_REC_EPOLL = 330, /* an epoll instance and its interest list */
	CKPT_REC_INOTIFY = 331, /* an inotify instance and its watches */
	CKPT_REC_LOCKS = 350, /* file locks the current process restores */
	CKPT_REC_FILE_PIDFD = 340, /* a pidfd */
	CKPT_REC_FILE_PROC = 341, /* a file of a process's /proc directory */
	CKPT_REC_FILE_DELETED = 342, /* a description of a deleted file */
	CKPT_REC_DELETED = 343, /* a deleted file's content, referenced by id */
	CKPT_REC_DELETED_DATA = 344, /* a piece of that content */
	CKPT_REC_FILE_ID = 345, /* what a FILE record's file was at checkpoint */
	CKPT_REC_FILE_OWNER = 346, /* whom a description signals (F_SETOWN_EX, F_SETSIG) */
	CKPT_REC_MQUEUE = 360, /* a POSIX message queue description (the first holds the queue) */
	CKPT_REC_UNIX = 370, /* one end of a unix socket pair and the data queued to it */

	/* 400-499: memory */
	CKPT_REC_MM = 400,
	CKPT_REC_VMA = 401,
	CKPT_REC_PAGES = 402, /* page data, after the mark */
	CKPT_REC_SHMEM = 403, /* a shared memory object, referenced by id */
	CKPT_REC_MM_DROP = 404, /* pages the parent has and an inherited area must lose */
	CKPT_REC_SHM_FILE = 405, /* a memfd or a file of /dev/shm, referenced by id */

	/* 500-599: System V IPC */
	CKPT_REC_SYSV_SHM = 500, /* a System V shared memory segment, referenced by id */
	CKPT_REC_SYSV_SEM = 501, /* a System V semaphore set the tree used */
	CKPT_REC_SYSV_MSG = 502, /* a System V message queue the tree used */

	/* 600-699: signals */
	CKPT_REC_SIGACTIONS = 600,
	CKPT_REC_SIGPENDING = 601,

	/* 800-899: timers */
	CKPT_REC_TIMERS = 800,
};

/* CKPT_REC_MARK and CKPT_REC_TRAILER: XXH64 (seed 0) of every byte of the
 * stream before this record's header, and the number of records before it. */
struct ckpt_rec_mark {
	uint64_t records;
	uint64_t checksum;
};
_Static_assert(sizeof(struct ckpt_rec_mark) == 16, "mark size");

struct ckpt_rec_trailer {
	uint8_t magic[8];
	uint64_t records;
	uint64_t checksum;
};
_Static_assert(sizeof(struct ckpt_rec_trailer) == 24, "trailer size");

/* CKPT_REC_PROC */
#define CKPT_PROC_ROOT (1U << 0)
#define CKPT_PROC_ZOMBIE (1U << 1) /* exited, not yet reaped: no section, no threads */
#define CKPT_PROC_STOPPED (1U << 2) /* in a group stop (SIGSTOP, SIGTSTP...) */
#define CKPT_PROC_SHARES_FILES (1U << 3) /* has its parent's descriptor table (CLONE_FILES) */
#define CKPT_PROC_FLAGS_ALL ((1U << 4) - 1)

struct ckpt_rec_proc {
	int32_t pid;
	int32_t ppid;
	int32_t pgid;
	int32_t sid;
	uint32_t nthreads;
	uint32_t flags;
	int32_t exit_status; /* zombies, stopped: the status wait(2) reports */
	int32_t parent_tid; /* the thread of its parent that forked it; 0: the main one */
	int32_t exit_signal; /* what its parent gets when it exits (SIGCHLD, 0 for none, ...) */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_proc) == 40, "proc size");

/* CKPT_REC_PROC_BEGIN */
struct ckpt_rec_proc_begin {
	int32_t pid;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_proc_begin) == 8, "proc begin size");

/* CKPT_REC_THREAD: per-thread attributes; the records up to the next THREAD
 * or PROC_BEGIN (registers, xstate, pending signals) belong to this thread. */
struct ckpt_rec_thread {
	int32_t tid;
	int32_t pdeath_sig; /* PR_SET_PDEATHSIG */
	uint64_t blocked; /* signal mask, bit n-1 for signal n */
	uint64_t altstack_sp;
	uint64_t altstack_size;
	uint32_t altstack_flags;
	uint32_t rseq_len; /* 0: no rseq area registered */
	uint64_t rseq_ptr;
	uint32_t rseq_sig;
	uint32_t pad1;
	uint64_t clear_tid; /* set_tid_address() pointer */
	uint64_t robust_list; /* set_robust_list() head */
	uint64_t robust_len;
	char comm[16];
};
_Static_assert(sizeof(struct ckpt_rec_thread) == 96, "thread size");

/* CKPT_REC_CREDS, followed by ngroups u32 supplementary group ids. Every
 * thread has these credentials. */
struct ckpt_rec_creds {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint32_t ngroups;
	uint32_t securebits;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
};
_Static_assert(sizeof(struct ckpt_rec_creds) == 80, "creds size");

/* CKPT_REC_TASK: process attributes (the per-thread ones are the same in
 * every thread) */
#define CKPT_TASK_NO_NEW_PRIVS (1U << 0)
#define CKPT_TASK_SUBREAPER (1U << 1)
#define CKPT_TASK_FLAGS_ALL ((1U << 2) - 1)

/* membarrier(2) registrations (MEMBARRIER_CMD_GET_REGISTRATIONS bits) */
#define CKPT_MEMBARRIER_GLOBAL_EXPEDITED (1U << 2)
#define CKPT_MEMBARRIER_PRIVATE_EXPEDITED (1U << 4)
#define CKPT_MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE (1U << 6)
#define CKPT_MEMBARRIER_PRIVATE_EXPEDITED_RSEQ (1U << 8)
#define CKPT_MEMBARRIER_ALL                                                                        \
	(CKPT_MEMBARRIER_GLOBAL_EXPEDITED | CKPT_MEMBARRIER_PRIVATE_EXPEDITED |                    \
	 CKPT_MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE | CKPT_MEMBARRIER_PRIVATE_EXPEDITED_RSEQ)

#define CKPT_AUDIT_UNSET 0xffffffffU /* loginuid or sessionid never set */

struct ckpt_rec_task {
	uint32_t flags;
	uint32_t personality;
	int32_t dumpable; /* PR_GET_DUMPABLE */
	int32_t oom_score_adj; /* /proc/PID/oom_score_adj */
	uint32_t loginuid; /* /proc/PID/loginuid (audit), the same in every thread */
	uint32_t sessionid; /* /proc/PID/sessionid (audit): shown, not restored */
	uint32_t membarrier; /* CKPT_MEMBARRIER_* registrations of its memory */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_task) == 32, "task size");

/* CKPT_REC_THREAD_SCHED: the current thread's scheduling */
struct ckpt_rec_thread_sched {
	uint32_t policy; /* SCHED_* */
	uint32_t flags; /* SCHED_FLAG_* (sched_setattr) */
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period; /* SCHED_DEADLINE, ns */
	uint64_t timerslack_ns;
	uint8_t affinity[128]; /* CPU mask, bit n for CPU n */
};
_Static_assert(sizeof(struct ckpt_rec_thread_sched) == 176, "thread sched size");

/* CKPT_REC_SECCOMP: the seccomp state every thread of the process has:
 * mode 0 (none), 1 (strict) or 2 (filters), then count filters, oldest
 * first, each a ckpt_seccomp_filter followed by len BPF instructions of 8
 * bytes */
struct ckpt_rec_seccomp {
	uint32_t mode;
	uint32_t count;
};
_Static_assert(sizeof(struct ckpt_rec_seccomp) == 8, "seccomp size");

struct ckpt_seccomp_filter {
	uint32_t len;
	uint32_t flags; /* SECCOMP_FILTER_FLAG_* it was installed with */
};
_Static_assert(sizeof(struct ckpt_seccomp_filter) == 8, "seccomp filter size");

/* CKPT_REC_RLIMITS, followed by count ckpt_rlimit in RLIMIT_* order */
struct ckpt_rlimit {
	uint64_t cur;
	uint64_t max;
};

struct ckpt_rec_rlimits {
	uint32_t count;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_rlimits) == 8, "rlimits size");

/* CKPT_REC_FS, followed by cwd_len bytes of cwd and root_len bytes of root */
#define CKPT_FS_CWD_DELETED (1U << 0) /* the cwd was removed: cwd is the path it had */
#define CKPT_FS_FLAGS_ALL ((1U << 1) - 1)

struct ckpt_rec_fs {
	uint32_t umask;
	uint32_t cwd_len;
	uint32_t root_len;
	uint32_t flags; /* CKPT_FS_* */
	/* CKPT_FS_CWD_DELETED: the removed directory's permission bits and
	 * owner, and its identity (processes that had the same share it) */
	uint32_t cwd_mode;
	uint32_t cwd_uid;
	uint32_t cwd_gid;
	uint32_t pad;
	uint64_t cwd_dev;
	uint64_t cwd_ino;
};
_Static_assert(sizeof(struct ckpt_rec_fs) == 48, "fs size");

/* CKPT_REC_X86_REGS: struct user_regs_struct, field for field */
struct ckpt_rec_x86_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};
_Static_assert(sizeof(struct ckpt_rec_x86_regs) == 27 * 8, "regs size");

/* CKPT_REC_X86_XSTATE: the XSAVE area as PTRACE_GETREGSET(NT_X86_XSTATE) gives it */
struct ckpt_rec_x86_xstate {
	uint32_t len;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_x86_xstate) == 8, "xstate size");

/* Identity of a file at checkpoint time, checked again at restart. */
struct ckpt_file_id {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_ns;
};
_Static_assert(sizeof(struct ckpt_file_id) == 32, "file id size");

/* CKPT_REC_FILE, followed by path_len bytes of path */
enum ckpt_file_kind {
	CKPT_FILE_REG = 1, /* regular file */
	CKPT_FILE_DIR = 2, /* directory */
	CKPT_FILE_CHR = 3, /* one of the stateless character devices (null, zero, ...) */
	CKPT_FILE_SHM = 4, /* a memfd or a file of /dev/shm: a shared memory object */
	CKPT_FILE_PIPE = 5, /* one end of a pipe or FIFO (obj_id: its CKPT_REC_PIPE) */
	CKPT_FILE_EVENTFD = 10, /* eventfd(2): CKPT_REC_EVENTFD */
	CKPT_FILE_SIGNALFD = 11, /* signalfd(2): CKPT_REC_SIGNALFD */
	CKPT_FILE_TIMERFD = 12, /* timerfd_create(2): CKPT_REC_TIMERFD */
	CKPT_FILE_EPOLL = 13, /* an epoll instance (CKPT_REC_EPOLL) */
	CKPT_FILE_INOTIFY = 14, /* an inotify instance (CKPT_REC_INOTIFY) */
	CKPT_FILE_PIDFD = 15, /* CKPT_REC_FILE_PIDFD */
	CKPT_FILE_PROC = 16, /* CKPT_REC_FILE_PROC */
	CKPT_FILE_DELETED = 17, /* CKPT_REC_FILE_DELETED */
	CKPT_FILE_MQUEUE = 18, /* a POSIX message queue: CKPT_REC_MQUEUE */
	CKPT_FILE_UNIX = 20, /* one end of a unix socket pair: CKPT_REC_UNIX */
};

struct ckpt_rec_file {
	uint32_t id;
	uint32_t kind;
	uint32_t flags; /* open(2) flags, O_CLOEXEC excluded */
	uint32_t path_len;
	uint64_t pos;
	uint64_t rdev;
	uint32_t mode; /* st_mode */
	uint32_t obj_id; /* CKPT_FILE_SHM: the shared memory object (no path);
			  * CKPT_FILE_PIPE: the pipe; else 0 */
};
_Static_assert(sizeof(struct ckpt_rec_file) == 40, "file size");

/* CKPT_REC_PIPE, followed by data_len bytes of the data in the pipe (in
 * the order it will be read) and path_len bytes of a FIFO's path */
#define CKPT_PIPE_FIFO (1U << 0) /* a named FIFO, opened again by its path */
#define CKPT_PIPE_DELETED (1U << 1) /* a FIFO whose path was unlinked */
#define CKPT_PIPE_FLAGS_ALL ((1U << 2) - 1)

struct ckpt_rec_pipe {
	uint32_t id;
	uint32_t flags; /* CKPT_PIPE_* */
	uint32_t capacity; /* F_GETPIPE_SZ, bytes */
	uint32_t data_len;
	uint32_t path_len;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_pipe) == 24, "pipe size");
/* CKPT_REC_EVENTFD: file.kind CKPT_FILE_EVENTFD, no path */
#define CKPT_EVENTFD_SEMAPHORE (1U << 0) /* EFD_SEMAPHORE */

struct ckpt_rec_eventfd {
	struct ckpt_rec_file file;
	uint64_t count; /* the counter, at most 2^64 - 2 */
	uint32_t flags; /* CKPT_EVENTFD_* */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_eventfd) == 56, "eventfd size");

/* CKPT_REC_SIGNALFD: file.kind CKPT_FILE_SIGNALFD, no path */
struct ckpt_rec_signalfd {
	struct ckpt_rec_file file;
	uint64_t sigmask; /* bit n-1: signal n is read through it; never SIGKILL, SIGSTOP */
};
_Static_assert(sizeof(struct ckpt_rec_signalfd) == 48, "signalfd size");

/* CKPT_REC_TIMERFD: file.kind CKPT_FILE_TIMERFD, no path */
#define CKPT_TIMERFD_ABSTIME (1U << 0) /* TFD_TIMER_ABSTIME */
#define CKPT_TIMERFD_CANCEL_ON_SET (1U << 1) /* TFD_TIMER_CANCEL_ON_SET */

struct ckpt_rec_timerfd {
	struct ckpt_rec_file file;
	int32_t clockid; /* CLOCK_REALTIME, _MONOTONIC, _BOOTTIME, _REALTIME_ALARM, _BOOTTIME_ALARM */
	uint32_t settime_flags; /* CKPT_TIMERFD_*, as the last timerfd_settime() gave them */
	uint64_t ticks; /* expirations not read yet */
	int64_t value_ns; /* 0: disarmed; time left, or with ABSTIME the expiry on the clock */
	int64_t interval_ns; /* period, 0 for a one-shot timer */
};
_Static_assert(sizeof(struct ckpt_rec_timerfd) == 72, "timerfd size");

/* CKPT_REC_UNIX: one end of a connected pair of unnamed unix sockets
 * whose both ends are in the tree, followed by nmsgs uint32_t message
 * lengths and data_len bytes (their sum): what is queued for this end to
 * read, in the order it will be read. A stream socket has at most one
 * "message", its bytes; a datagram or seqpacket one has one per message,
 * none empty. */
struct ckpt_rec_unix {
	struct ckpt_rec_file file; /* kind CKPT_FILE_UNIX, no path */
	uint32_t peer_id; /* the file id of the other end's description */
	uint32_t type; /* SOCK_STREAM (1), SOCK_DGRAM (2) or SOCK_SEQPACKET (5) */
	uint32_t sndbuf; /* SO_SNDBUF as getsockopt reads it */
	uint32_t rcvbuf; /* SO_RCVBUF as getsockopt reads it */
	uint32_t nmsgs;
	uint32_t data_len;
};
_Static_assert(sizeof(struct ckpt_rec_unix) == 64, "unix size");

/* CKPT_REC_MQUEUE: a POSIX message queue description. The first
 * description of a queue holds the queue (queue_id 0), followed by
 * name_len bytes of its name ("/name") and data_len bytes of messages:
 * nmsgs of them in the order they are received (highest priority first,
 * oldest first within one), each a ckpt_mq_msg and its len bytes. The
 * others name it by its file id, with no name and no messages. */
#define CKPT_MQ_DELETED (1U << 0) /* its name was unlinked: restored unnamed */
#define CKPT_MQ_FLAGS_ALL ((1U << 1) - 1)

struct ckpt_rec_mqueue {
	struct ckpt_rec_file file; /* kind CKPT_FILE_MQUEUE, no path */
	uint32_t queue_id; /* 0, or the file id of the description that holds the queue */
	uint32_t flags; /* CKPT_MQ_* */
	int64_t maxmsg; /* mq_attr.mq_maxmsg */
	int64_t msgsize; /* mq_attr.mq_msgsize */
	uint32_t mode; /* permission bits (0777) */
	uint32_t uid, gid; /* owner */
	uint32_t name_len;
	uint32_t nmsgs;
	uint32_t pad;
	uint64_t data_len;
	int32_t notify_pid; /* the process registered with mq_notify, 0 if none */
	int32_t notify; /* SIGEV_SIGNAL or SIGEV_NONE */
	int32_t signo; /* SIGEV_SIGNAL: the signal */
	uint32_t pad2;
	uint64_t sigev_value; /* SIGEV_SIGNAL: the signal's si_value */
};
_Static_assert(sizeof(struct ckpt_rec_mqueue) == 120, "mqueue size");

struct ckpt_mq_msg {
	uint32_t prio; /* below MQ_PRIO_MAX (32768) */
	uint32_t len; /* at most msgsize */
};
_Static_assert(sizeof(struct ckpt_mq_msg) == 8, "mq msg size");

/* CKPT_REC_FD */
#define CKPT_FD_CLOEXEC (1U << 0)
#define CKPT_FD_EXTERNAL (1U << 1) /* connected to the restarting ckpt's own fd */

enum ckpt_external_kind {
	CKPT_EXT_TTY = 1,
	CKPT_EXT_PIPE = 2,
	CKPT_EXT_SOCKET = 3,
	CKPT_EXT_OTHER = 4,
};

struct ckpt_rec_fd {
	int32_t fd;
	uint32_t flags;
	uint32_t file_id; /* 0 when external */
	uint32_t ext_kind;
};
_Static_assert(sizeof(struct ckpt_rec_fd) == 16, "fd size");

/* CKPT_REC_EPOLL: the description (kind CKPT_FILE_EPOLL), then count
 * ckpt_epoll_entry, one per entry of its interest list, in increasing tfd
 * order. Each target is a description written before this record. */
struct ckpt_rec_epoll {
	struct ckpt_rec_file file;
	uint32_t count;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_epoll) == 48, "epoll size");

struct ckpt_epoll_entry {
	int32_t tfd; /* the descriptor number the entry was added with */
	uint32_t events; /* as the kernel holds them (EPOLLERR|EPOLLHUP added, EPOLLET, ...) */
	uint64_t data; /* epoll_data, as 64 bits */
	uint32_t file_id; /* the target description; 0: the external descriptor tfd (0-2) */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_epoll_entry) == 24, "epoll entry size");

/* CKPT_REC_INOTIFY: the description (kind CKPT_FILE_INOTIFY), then count
 * ckpt_inotify_watch in increasing wd order, then their paths one after
 * the other (path_len bytes each, no terminator). */
struct ckpt_rec_inotify {
	struct ckpt_rec_file file;
	uint32_t count;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_inotify) == 48, "inotify size");

/* The highest watch descriptor restart reproduces */
#define CKPT_INOTIFY_MAX_WD 65536

struct ckpt_inotify_watch {
	int32_t wd; /* 1..CKPT_INOTIFY_MAX_WD */
	uint32_t mask; /* IN_* events, with IN_ONESHOT and IN_EXCL_UNLINK */
	uint32_t mode; /* st_mode of the watched file (its type is checked at restart) */
	uint32_t path_len;
};
_Static_assert(sizeof(struct ckpt_inotify_watch) == 16, "inotify watch size");

/* CKPT_REC_LOCKS, followed by count ckpt_lock: the POSIX record locks the
 * current process owns, and the flock and OFD locks of the descriptions
 * first written in its section (owned by the description). Every lock is
 * taken through a description one of the process's descriptors reaches. */
enum ckpt_lock_kind {
	CKPT_LOCK_POSIX = 1, /* fcntl F_SETLK: owned by the process */
	CKPT_LOCK_FLOCK = 2, /* flock(2): owned by the description, the whole file */
	CKPT_LOCK_OFD = 3, /* fcntl F_OFD_SETLK: owned by the description */
};

enum ckpt_lock_type {
	CKPT_LOCK_READ = 1, /* F_RDLCK, LOCK_SH */
	CKPT_LOCK_WRITE = 2, /* F_WRLCK, LOCK_EX */
};

struct ckpt_rec_locks {
	uint32_t count;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_locks) == 8, "locks size");

struct ckpt_lock {
	uint32_t file_id; /* the description it is taken through */
	uint32_t kind; /* CKPT_LOCK_* */
	uint32_t type; /* CKPT_LOCK_READ, CKPT_LOCK_WRITE */
	uint32_t pad;
	uint64_t start; /* first byte; 0 for flock */
	uint64_t len; /* bytes; 0: to the end of the file, however far it grows */
};
_Static_assert(sizeof(struct ckpt_lock) == 32, "lock size");

/* CKPT_REC_FILE_ID: the identity of the regular file or directory of the
 * FILE record just before it */
struct ckpt_rec_file_id {
	uint32_t file_id;
	uint32_t pad;
	struct ckpt_file_id fid;
};
_Static_assert(sizeof(struct ckpt_rec_file_id) == 40, "file id record size");

/* CKPT_REC_FILE_OWNER: after the record of a description whose owner or
 * signal is set */
enum ckpt_owner_type {
	CKPT_OWNER_TID = 0, /* F_OWNER_TID */
	CKPT_OWNER_PID = 1, /* F_OWNER_PID */
	CKPT_OWNER_PGRP = 2, /* F_OWNER_PGRP */
};

struct ckpt_rec_file_owner {
	uint32_t file_id;
	int32_t type;
	int32_t pid; /* a thread, process or process group of the tree; 0: none */
	uint32_t sig; /* F_SETSIG; 0: SIGIO */
};
_Static_assert(sizeof(struct ckpt_rec_file_owner) == 16, "file owner size");

/* CKPT_REC_FILE_PIDFD: struct ckpt_rec_file, then this */
#define CKPT_PIDFD_THREAD (1U << 0) /* PIDFD_THREAD: of one thread */
#define CKPT_PIDFD_EXITED (1U << 1) /* its process had exited and been reaped */
#define CKPT_PIDFD_STATUS (1U << 2) /* exited: the kernel told its wait status */
#define CKPT_PIDFD_FLAGS_ALL ((1U << 3) - 1)

struct ckpt_file_pidfd {
	int32_t pid; /* a process (or thread) of the tree; 0 when exited */
	uint32_t flags;
	uint64_t ino; /* its inode: pidfds of one process share it */
	int32_t status; /* CKPT_PIDFD_STATUS: the wait status it exited with */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_file_pidfd) == 24, "pidfd size");

/* CKPT_REC_FILE_PROC: struct ckpt_rec_file, then this, then rest_len bytes:
 * the path is /proc/<pid><rest> */
struct ckpt_file_proc {
	int32_t pid; /* a process (or thread) of the tree */
	uint32_t rest_len;
};
_Static_assert(sizeof(struct ckpt_file_proc) == 8, "proc file size");

/* CKPT_REC_FILE_DELETED: struct ckpt_rec_file, then this */
struct ckpt_file_deleted {
	uint32_t content_id; /* its CKPT_REC_DELETED */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_file_deleted) == 8, "deleted file size");

/* CKPT_REC_DELETED, followed by dir_len bytes: the directory the file was
 * in, and name_len bytes: its name there (for messages) */
struct ckpt_rec_deleted {
	uint32_t id;
	uint32_t mode; /* st_mode */
	uint32_t uid, gid;
	uint64_t size;
	uint64_t data_bytes; /* bytes in its CKPT_REC_DELETED_DATA records */
	uint32_t dir_len;
	uint32_t name_len;
};
_Static_assert(sizeof(struct ckpt_rec_deleted) == 40, "deleted size");

/* CKPT_REC_DELETED_DATA: followed by the bytes at offset, in offset order,
 * after its CKPT_REC_DELETED and before any description of it */
struct ckpt_rec_deleted_data {
	uint32_t id;
	uint32_t pad;
	uint64_t offset;
};
_Static_assert(sizeof(struct ckpt_rec_deleted_data) == 16, "deleted data size");

/* CKPT_REC_MM, followed by auxv_len bytes of auxv and exe_len bytes of the
 * executable's path */
#define CKPT_MM_LOCK_FUTURE (1U << 0) /* mlockall(MCL_FUTURE) */
#define CKPT_MM_LOCK_ONFAULT (1U << 1) /* ... | MCL_ONFAULT */
#define CKPT_MM_MERGE_ANY (1U << 2) /* PR_SET_MEMORY_MERGE */
#define CKPT_MM_FLAGS_ALL ((1U << 3) - 1)

struct ckpt_rec_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	struct ckpt_file_id exe_id;
	uint32_t auxv_len;
	uint32_t exe_len;
	uint32_t flags; /* CKPT_MM_* */
	uint32_t thp_disable; /* PR_GET_THP_DISABLE: 0, or 1 with PR_THP_DISABLE_* flags */
};
_Static_assert(sizeof(struct ckpt_rec_mm) == 136, "mm size");

/* CKPT_REC_VMA, followed by name_len bytes of name: the file's path for
 * CKPT_VMA_FILE, the kernel's name ("[vdso]") for CKPT_VMA_SPECIAL, the
 * anonymous name for named anonymous memory */
enum ckpt_vma_kind {
	CKPT_VMA_ANON = 1, /* private anonymous (heap, stack, malloc arenas) */
	CKPT_VMA_FILE = 2, /* mapping of a regular file, private or shared */
	CKPT_VMA_SHANON = 3, /* MAP_SHARED|MAP_ANONYMOUS */
	CKPT_VMA_SPECIAL = 4, /* vdso, vvar, ...: moved into place, never copied */
	CKPT_VMA_SHM = 5, /* a memfd, a file of /dev/shm or a System V segment; shared or private */
};

#define CKPT_VMA_SHARED (1U << 0)
#define CKPT_VMA_GROWSDOWN (1U << 1)
#define CKPT_VMA_LOCKED (1U << 2)
#define CKPT_VMA_LOCKONFAULT (1U << 3)
#define CKPT_VMA_DONTFORK (1U << 4)
#define CKPT_VMA_DONTDUMP (1U << 5)
#define CKPT_VMA_WIPEONFORK (1U << 6)
#define CKPT_VMA_HUGEPAGE (1U << 7)
#define CKPT_VMA_NOHUGEPAGE (1U << 8)
#define CKPT_VMA_MERGEABLE (1U << 9)
#define CKPT_VMA_SEQUENTIAL (1U << 10)
#define CKPT_VMA_RANDOM (1U << 11)
#define CKPT_VMA_NORESERVE (1U << 12)
#define CKPT_VMA_MAYWRITE (1U << 13) /* shared file mapping: the file was open for writing */
#define CKPT_VMA_ANON_NAME (1U << 14)
#define CKPT_VMA_SEALED (1U << 15)
#define CKPT_VMA_INHERIT (1U << 16) /* the parent has the same area: the child inherits it */
#define CKPT_VMA_FLAGS_ALL ((1U << 17) - 1)

struct ckpt_rec_vma {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff; /* offset in the file or shared memory object, in bytes */
	uint32_t prot;
	uint32_t flags;
	uint32_t kind;
	uint32_t name_len;
	uint64_t npages; /* pages of this area stored in CKPT_REC_PAGES records */
	struct ckpt_file_id fid;
	uint32_t obj_id; /* CKPT_VMA_SHANON, CKPT_VMA_SHM: the shared memory object */
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_vma) == 88, "vma size");

/* CKPT_REC_MM_DROP, followed by count ckpt_page_range: pages of areas the
 * process inherits from its parent (CKPT_VMA_INHERIT) that the parent has
 * and the process does not (they read as zero, or as the file, again) */
struct ckpt_rec_mm_drop {
	uint32_t count;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_mm_drop) == 8, "mm drop size");

struct ckpt_page_range {
	uint64_t addr;
	uint64_t npages;
};
_Static_assert(sizeof(struct ckpt_page_range) == 16, "page range size");

/* CKPT_REC_SHMEM: a shared memory object, its pages stored once. The same
 * fixed part opens CKPT_REC_SHM_FILE and CKPT_REC_SYSV_SHM. */
enum ckpt_shmem_kind {
	CKPT_SHMEM_ANON = 1, /* MAP_SHARED|MAP_ANONYMOUS ("/dev/zero (deleted)"): SHMEM */
	CKPT_SHMEM_MEMFD = 2, /* memfd_create(): SHM_FILE */
	CKPT_SHMEM_FILE = 3, /* a file of /dev/shm (shm_open()): SHM_FILE */
	CKPT_SHMEM_SYSV = 4, /* shmget(): SYSV_SHM */
};

struct ckpt_rec_shmem {
	uint32_t id;
	uint32_t kind;
	uint64_t size; /* bytes; a multiple of the page size for CKPT_SHMEM_ANON */
	uint64_t npages; /* pages stored in CKPT_REC_PAGES records */
};
_Static_assert(sizeof(struct ckpt_rec_shmem) == 24, "shmem size");

/* CKPT_REC_SHM_FILE, followed by name_len bytes: the memfd's name (as given
 * to memfd_create) or the file's absolute path */
#define CKPT_SHMF_DELETED (1U << 0) /* the /dev/shm file was unlinked: restored unnamed */
#define CKPT_SHMF_FLAGS_ALL ((1U << 1) - 1)

struct ckpt_rec_shm_file {
	struct ckpt_rec_shmem obj;
	uint32_t flags; /* CKPT_SHMF_* */
	uint32_t seals; /* memfd: F_GET_SEALS */
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid;
	uint32_t gid;
	uint32_t name_len;
};
_Static_assert(sizeof(struct ckpt_rec_shm_file) == 48, "shm file size");

/* CKPT_REC_SYSV_SHM */
#define CKPT_SYSV_DEST (1U << 0) /* marked IPC_RMID: removed once every process attached it */
#define CKPT_SYSV_FLAGS_ALL ((1U << 1) - 1)

struct ckpt_rec_sysv_shm {
	struct ckpt_rec_shmem obj; /* size is the segment's size (shm_segsz) */
	int32_t shmid;
	int32_t key; /* 0 (IPC_PRIVATE) once marked IPC_RMID */
	uint32_t mode; /* permission bits (0777) */
	uint32_t flags; /* CKPT_SYSV_* */
	uint32_t uid, gid; /* owner */
	uint32_t cuid, cgid; /* creator: shown, not restored */
};
_Static_assert(sizeof(struct ckpt_rec_sysv_shm) == 56, "sysv shm size");

/* CKPT_REC_SYSV_SEM, followed by nsems ckpt_sysv_semval in semaphore order */
struct ckpt_rec_sysv_sem {
	uint32_t id; /* object id */
	int32_t semid;
	int32_t key; /* 0: IPC_PRIVATE */
	uint32_t mode; /* permission bits (0777) */
	uint32_t uid, gid; /* owner */
	uint32_t cuid, cgid; /* creator: shown, not restored */
	uint32_t nsems;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_sysv_sem) == 40, "sysv sem size");

struct ckpt_sysv_semval {
	int32_t val; /* GETVAL: 0..32767 */
	int32_t pid; /* GETPID: the process of the last operation, 0 if none */
};
_Static_assert(sizeof(struct ckpt_sysv_semval) == 8, "sysv semval size");

/* CKPT_REC_SYSV_MSG, followed by data_len bytes: nmsgs messages in queue
 * order, each a ckpt_sysv_msg and its len bytes of text */
struct ckpt_rec_sysv_msg {
	uint32_t id; /* object id */
	int32_t msqid;
	int32_t key; /* 0: IPC_PRIVATE */
	uint32_t mode; /* permission bits (0777) */
	uint32_t uid, gid; /* owner */
	uint32_t cuid, cgid; /* creator: shown, not restored */
	uint32_t nmsgs;
	uint32_t pad;
	uint64_t qbytes; /* msg_qbytes */
	int32_t lspid, lrpid; /* the last msgsnd and msgrcv, 0 if none */
	uint64_t data_len;
};
_Static_assert(sizeof(struct ckpt_rec_sysv_msg) == 64, "sysv msg size");

struct ckpt_sysv_msg {
	int64_t type; /* mtype, > 0 */
	uint32_t len;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_sysv_msg) == 16, "sysv msg header size");

/* CKPT_REC_PAGES: npages * page_size bytes of data, for the process whose
 * pid is owner at virtual address addr, or for the shared memory object
 * whose id is owner at byte offset addr */
enum ckpt_pages_kind {
	CKPT_PAGES_PROC = 1,
	CKPT_PAGES_SHMEM = 2,
};

struct ckpt_rec_pages {
	uint32_t owner;
	uint32_t kind;
	uint64_t addr;
	uint64_t npages;
};
_Static_assert(sizeof(struct ckpt_rec_pages) == 24, "pages size");

/* CKPT_REC_SIGACTIONS: index n-1 holds signal n */
struct ckpt_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
_Static_assert(sizeof(struct ckpt_sigaction) == 32, "sigaction size");

#define CKPT_NSIG 64

struct ckpt_rec_sigactions {
	struct ckpt_sigaction act[CKPT_NSIG];
};
_Static_assert(sizeof(struct ckpt_rec_sigactions) == 2048, "sigactions size");

/* CKPT_REC_SIGPENDING, followed by count 128-byte siginfo_t in queue order:
 * the process-wide queue when shared is 1, else the current thread's queue */
struct ckpt_rec_sigpending {
	uint32_t count;
	uint32_t shared;
};
_Static_assert(sizeof(struct ckpt_rec_sigpending) == 8, "sigpending size");

#define CKPT_SIGINFO_SIZE 128

/* CKPT_REC_TIMERS: the interval timers (setitimer) in ITIMER_* order, then
 * count POSIX timers (timer_create). Times are what is left and the
 * period, 0 when disarmed. */
struct ckpt_itimer {
	int64_t interval_us;
	int64_t value_us;
};

struct ckpt_posix_timer {
	int32_t id; /* the kernel's timer id, kept at restart */
	int32_t clock; /* clockid_t */
	int32_t signo;
	int32_t notify; /* SIGEV_SIGNAL, SIGEV_NONE, or SIGEV_SIGNAL|SIGEV_THREAD_ID */
	int32_t tid; /* SIGEV_THREAD_ID: the thread */
	int32_t overrun;
	uint64_t sigev_value;
	int64_t interval_ns;
	int64_t value_ns;
};
_Static_assert(sizeof(struct ckpt_posix_timer) == 48, "posix timer size");

struct ckpt_rec_timers {
	struct ckpt_itimer itimer[3];
	uint32_t count;
	uint32_t pad;
};
_Static_assert(sizeof(struct ckpt_rec_timers) == 56, "timers size");

#endif
