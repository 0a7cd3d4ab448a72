/*
 * proc.h: parsers for the /proc files ckpt reads, returning plain structs.
 * Each parser has a form that takes the file's text (for unit tests) and a
 * form that reads the file of a given pid. They know nothing of ptrace or
 * images.
 */
#ifndef PROC_PROC_H
#define PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* /proc/PID/status, the fields ckpt uses */
struct proc_status {
	char name[64];
	char state;
	unsigned int umask;
	pid_t tgid, ppid, tracer;
	uint32_t uid[4], gid[4]; /* real, effective, saved, fs */
	uint32_t *groups; /* malloc'd */
	unsigned int ngroups;
	unsigned int threads;
	uint64_t sigpnd, shdpnd, sigblk, sigign, sigcgt;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs;
	int seccomp;
	int seccomp_filters;
	pid_t nspid_depth; /* number of pid namespace levels (entries in NSpid) */
};

int proc_parse_status(const char *text, struct proc_status *ret);
int proc_read_status(pid_t pid, pid_t tid, struct proc_status *ret);
void proc_status_release(struct proc_status *st);

/* /proc/PID/stat */
struct proc_stat {
	char comm[64];
	char state;
	pid_t ppid, pgrp, session;
	int tty_nr;
	unsigned int flags;
	long priority, nice;
	unsigned long long start_time;
	unsigned int rt_priority, policy;
	unsigned long start_code, end_code, start_stack;
	unsigned long start_data, end_data, start_brk;
	unsigned long arg_start, arg_end, env_start, env_end;
	int exit_code;
	int exit_signal; /* field 38: what the parent gets at exit; -1 in threads */
	long num_threads;
};

int proc_parse_stat(const char *text, struct proc_stat *ret);
int proc_read_stat(pid_t pid, pid_t tid, struct proc_stat *ret);

/* VmFlags of /proc/PID/smaps, one bit per two-letter code */
enum proc_vmflag {
	VMF_RD,
	VMF_WR,
	VMF_EX,
	VMF_SH,
	VMF_MR,
	VMF_MW,
	VMF_ME,
	VMF_MS,
	VMF_GD,
	VMF_PF,
	VMF_LO,
	VMF_IO,
	VMF_SR,
	VMF_RR,
	VMF_DC,
	VMF_DE,
	VMF_AC,
	VMF_NR,
	VMF_HT,
	VMF_SF,
	VMF_AR,
	VMF_WF,
	VMF_DD,
	VMF_SD,
	VMF_MM,
	VMF_HG,
	VMF_NH,
	VMF_MG,
	VMF_UM,
	VMF_UW,
	VMF_UI,
	VMF_SS,
	VMF_SL,
	VMF_LF,
	VMF_DP,
	VMF_BT,
	VMF_MT,
	VMF_GU,
	VMF_UNKNOWN,
	VMF_COUNT
};
#define VMF(f) (1ULL << VMF_##f)

struct proc_vma {
	unsigned long start, end;
	unsigned long long pgoff;
	unsigned int prot; /* PROT_* */
	bool shared;
	unsigned int dev_major, dev_minor;
	unsigned long long ino;
	uint64_t vmflags;
	char *name; /* malloc'd: path, "[vdso]", "[anon:x]", or NULL */
	bool deleted; /* " (deleted)" was stripped from name */
};

struct proc_maps {
	struct proc_vma *vmas;
	size_t count;
};

/* Parses smaps (or maps, which leaves vmflags 0). */
int proc_parse_smaps(const char *text, struct proc_maps *ret);
int proc_read_smaps(pid_t pid, struct proc_maps *ret);
/* The VmFlags of the area starting at addr, reading smaps only up to it. */
int proc_read_vmflags_at(pid_t pid, unsigned long addr, uint64_t *ret_flags);
void proc_maps_release(struct proc_maps *m);
const char *proc_vmflag_name(enum proc_vmflag f);

/* /proc/PID/fdinfo/FD */
struct proc_fdinfo {
	unsigned long long pos;
	unsigned int flags; /* octal "flags:" field */
	int mnt_id;
	unsigned long long ino;
	bool has_locks; /* "lock:" lines */
};

int proc_parse_fdinfo(const char *text, struct proc_fdinfo *ret);
/* A pidfd's "Pid:" field: its process, 0 when the reader's PID namespace
 * does not see it, -1 when it was reaped; -ENOENT when there is none. */
int proc_parse_pidfd_fdinfo(const char *text, pid_t *ret_pid);
int proc_read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *ret);

/* The lines of fdinfo that eventfds, signalfds and timerfds add
 * (fdinfo_event.c). semaphore is -1 when the kernel does not show it. */
struct proc_eventfd {
	uint64_t count;
	int semaphore;
};

struct proc_timerfd {
	int clockid;
	uint64_t ticks;
	unsigned int settime_flags;
	int64_t value_ns; /* time left */
	int64_t interval_ns;
};

int proc_parse_eventfd(const char *text, struct proc_eventfd *ret);
/* "sigmask:": bit n-1 for signal n */
int proc_parse_signalfd(const char *text, uint64_t *ret_mask);
int proc_parse_timerfd(const char *text, struct proc_timerfd *ret);

/* The interest list of an epoll, from its fdinfo: one entry per "tfd:"
 * line, in the kernel's order */
struct proc_epoll_entry {
	int tfd;
	uint32_t events;
	uint64_t data;
	unsigned long long ino; /* the target's inode, 0 if not shown */
	unsigned int sdev; /* its device, the kernel's encoding (major << 20 | minor) */
};

/* *ret is malloc'd; -EINVAL for a malformed entry line */
int proc_parse_epoll(const char *text, struct proc_epoll_entry **ret, size_t *ret_count);

/* The watches of an inotify, from its fdinfo: one per "inotify wd:" line */
#define PROC_FHANDLE_MAX 128 /* MAX_HANDLE_SZ */
struct proc_inotify_watch {
	int wd;
	unsigned long long ino;
	unsigned int sdev; /* the kernel's encoding (major << 20 | minor) */
	uint32_t mask; /* events, with IN_ONESHOT and IN_EXCL_UNLINK */
	uint32_t ignored_mask;
	unsigned int handle_bytes; /* 0: the file system gave no file handle */
	int handle_type;
	unsigned char handle[PROC_FHANDLE_MAX];
};

/* *ret is malloc'd; -EINVAL for a malformed watch line */
int proc_parse_inotify(const char *text, struct proc_inotify_watch **ret, size_t *ret_count);

/* The kernel's encoding of a device number, as fdinfo shows it */
static inline unsigned int proc_kdev_major(unsigned int kdev)
{
	return kdev >> 20;
}

static inline unsigned int proc_kdev_minor(unsigned int kdev)
{
	return kdev & 0xfffff;
}

/* /proc/PID/mountinfo, the fields ckpt uses */
struct proc_mount {
	int id, parent;
	unsigned int major, minor;
	char *root; /* malloc'd, escapes decoded: the directory of the file system mounted */
	char *point; /* malloc'd, escapes decoded: where */
};

int proc_parse_mountinfo(const char *text, struct proc_mount **ret, size_t *ret_count);
int proc_read_mountinfo(pid_t pid, struct proc_mount **ret, size_t *ret_count);
void proc_mounts_release(struct proc_mount *m, size_t count);

/* A file lock, as a "lock:" line of /proc/PID/fdinfo/FD or a line of
 * /proc/locks shows it (fs/locks.c, lock_get_status) */
enum proc_lock_kind {
	PROC_LOCK_POSIX, /* POSIX */
	PROC_LOCK_OFD, /* OFDLCK */
	PROC_LOCK_FLOCK, /* FLOCK */
	PROC_LOCK_LEASE, /* LEASE */
	PROC_LOCK_OTHER, /* DELEG, ACCESS, UNKNOWN, or a word this parser does not know */
};

enum proc_lock_type {
	PROC_LOCK_READ,
	PROC_LOCK_WRITE,
	PROC_LOCK_UNLCK
};

struct proc_lock {
	enum proc_lock_kind kind;
	enum proc_lock_type type;
	bool mandatory; /* MANDATORY instead of ADVISORY (kernels before 5.15) */
	bool waiting; /* "->" (/proc/locks): blocked, waiting for the lock listed before */
	bool breaking; /* a lease being broken (BREAKING, BREAKER) */
	pid_t pid; /* -1 for OFD locks; 0 when its owner is gone or out of sight */
	unsigned int dev_major, dev_minor; /* 0 and 0 for "<none>:0" */
	unsigned long long ino;
	unsigned long long start, end; /* bytes start to end, both included */
	bool to_eof; /* "EOF": end is the largest offset */
};

/* The lock lines of text (fdinfo or /proc/locks; other lines are
 * skipped); *ret is malloc'd, NULL when there are none. -EINVAL for a lock
 * line that does not parse. */
int proc_parse_locks(const char *text, struct proc_lock **ret, size_t *ret_count);

/* /proc/PID/timers: the POSIX timers of a process */
struct proc_timer {
	int id;
	int signo;
	uint64_t sigev_value;
	int notify; /* SIGEV_SIGNAL, SIGEV_NONE; SIGEV_THREAD_ID set for "tid" */
	pid_t target;
	int clock;
};

int proc_parse_timers(const char *text, struct proc_timer **ret, size_t *ret_count);
int proc_read_timers(pid_t pid, struct proc_timer **ret, size_t *ret_count);

/* Whitespace-separated decimal numbers, such as /proc/PID/task/TID/children.
 * *ret is malloc'd. */
int proc_parse_pid_list(const char *text, pid_t **ret, size_t *ret_count);
int proc_read_children(pid_t pid, pid_t tid, pid_t **ret, size_t *ret_count);
/* The entries of /proc/PID/task, sorted. */
int proc_list_tasks(pid_t pid, pid_t **ret, size_t *ret_count);
/* The open descriptors of /proc/PID/fd, sorted. */
int proc_list_fds(pid_t pid, int **ret, size_t *ret_count);

/* A unix socket as sock_diag (NETLINK_SOCK_DIAG) shows it (unix_diag.c) */
struct proc_unix_sock {
	uint32_t ino;
	uint8_t type; /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state; /* TCP_ESTABLISHED (1), TCP_CLOSE (7), TCP_LISTEN (10) */
	uint8_t shutdown; /* sk_shutdown: RCV_SHUTDOWN 1, SEND_SHUTDOWN 2 */
	bool has_name; /* bound to a path or an abstract name */
	bool has_rqlen;
	uint32_t peer_ino; /* 0: no peer */
	uint32_t rqueue, wqueue; /* UNIX_DIAG_RQLEN */
};

/* buf is one netlink reply to a unix_diag_req (an error reply gives its
 * error) */
int proc_parse_unix_diag(const void *buf, size_t len, struct proc_unix_sock *ret);
/* -ENOENT: no unix socket has this inode */
int proc_unix_diag(uint64_t ino, struct proc_unix_sock *ret);

#endif
