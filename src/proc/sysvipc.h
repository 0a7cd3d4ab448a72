/*
 * sysvipc.h: parsers for the texts the kernel gives on IPC objects: the
 * tables /proc/sysvipc/sem and /proc/sysvipc/msg (one line per semaphore
 * set or message queue, after a heading), and the status line a POSIX
 * message queue's file reads as. Plain structs; no ptrace, no images.
 */
#ifndef PROC_SYSVIPC_H
#define PROC_SYSVIPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A line of /proc/sysvipc/sem */
struct proc_sysv_sem {
	int32_t key;
	int id;
	unsigned int perms; /* permission bits */
	unsigned int nsems;
	uint32_t uid, gid, cuid, cgid;
	int64_t otime, ctime;
};

/* A line of /proc/sysvipc/msg */
struct proc_sysv_msg {
	int32_t key;
	int id;
	unsigned int perms;
	uint64_t cbytes, qnum;
	pid_t lspid, lrpid;
	uint32_t uid, gid, cuid, cgid;
	int64_t stime, rtime, ctime;
};

/* The whole table; *ret is malloc'd (NULL when there are none). */
int proc_parse_sysv_sem(const char *text, struct proc_sysv_sem **ret, size_t *ret_count);
int proc_read_sysv_sem(struct proc_sysv_sem **ret, size_t *ret_count);
int proc_parse_sysv_msg(const char *text, struct proc_sysv_msg **ret, size_t *ret_count);
int proc_read_sysv_msg(struct proc_sysv_msg **ret, size_t *ret_count);

/* What reading a POSIX message queue's file gives:
 * "QSIZE:12 NOTIFY:0 SIGNO:10 NOTIFY_PID:4242" */
struct proc_mq_status {
	uint64_t qsize; /* bytes of messages */
	int notify; /* SIGEV_* of the registration (0 when there is none) */
	int signo;
	pid_t notify_pid; /* the registered process, 0 when none */
};

int proc_parse_mq_status(const char *text, struct proc_mq_status *ret);

#endif
