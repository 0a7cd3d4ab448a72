/*
 * ckpt.h: the public interface of libckpt.
 *
 * libckpt checkpoints a running Linux process tree into one image stream and
 * restarts it from such a stream. The ckpt command is a thin front end to
 * these functions. Every function returns 0 (or a count) on success and a
 * negative errno value on failure; details of a failure go to the log sink
 * installed with ckpt_set_log(). The library itself never prints.
 *
 * Errors worth telling apart:
 *   -EOPNOTSUPP  the target holds a resource ckpt cannot checkpoint
 *   -EBADMSG     the image is damaged, truncated or not a ckpt image
 *   -EPROTONOSUPPORT  the image is of a newer format or another machine kind
 *   -EEXIST      restart: a PID the image needs is in use
 *   -ESRCH       checkpoint: the process does not exist, or vanished
 *   -ECANCELED   ckpt_interrupt() was called
 */
#ifndef CKPT_H
#define CKPT_H

#include <stdio.h>
#include <sys/types.h>

#define CKPT_VERSION "0.1.0"

enum ckpt_log_level {
	CKPT_LOG_ERROR = 0,
	CKPT_LOG_WARN = 1,
	CKPT_LOG_INFO = 2,
	CKPT_LOG_DEBUG = 3,
};

/* Install the log sink: messages up to max_level are passed to fn. With no
 * sink installed, the library is silent. */
void ckpt_set_log(void (*fn)(enum ckpt_log_level level, const char *msg, void *data), void *data,
		  enum ckpt_log_level max_level);

/* Leave the tree killed (SIGKILL) once the whole image has been written. */
#define CKPT_CHECKPOINT_KILL (1U << 0)

/* Write an image of the process tree rooted at pid to out_fd. The tree is
 * frozen while its state is captured and then resumed exactly as it was,
 * or killed with CKPT_CHECKPOINT_KILL. out_fd is written strictly
 * sequentially (a pipe works). While it waits for the tree to stop, the
 * calling thread has SIGCHLD blocked, and takes the SIGCHLDs that come
 * meanwhile (the kernel sends one to the tracer at every stop). */
int ckpt_checkpoint(pid_t pid, int out_fd, unsigned int flags);

/* Restart in a new PID namespace: see ckpt_restart_pidns(). */
#define CKPT_RESTART_PIDNS (1U << 0)

/* Recreate the tree stored in the image read from in_fd, with its original
 * PIDs, and resume it. The root process is a child of the caller; its PID
 * (as seen by the caller) goes to *ret_pid. Nothing is resumed before the
 * whole image has been read and its checksum verified. With
 * CKPT_RESTART_PIDNS, this is ckpt_restart_pidns() and *ret_pid is the
 * namespace's init, the caller's child that stands for the root. */
int ckpt_restart(int in_fd, unsigned int flags, pid_t *ret_pid);

/* Restart inside a new PID namespace (and mount namespace, with a /proc of
 * its own), where every process has its original PID, so a copy can run
 * beside the original. The namespace's PID 1 is a small init of libckpt's,
 * a child of the caller (*ret_init), whose child is the root (*ret_root:
 * its PID as the caller sees it; ret_root may be NULL). Init reaps orphans,
 * passes SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 that a
 * process sends it on to the root (not a terminal's), and exits when the root does, with its exit status, or 128+N if
 * signal N killed it; the rest of the namespace dies with it. An image
 * holding PID 1 is refused (-EEXIST): init has it. */
int ckpt_restart_pidns(int in_fd, unsigned int flags, pid_t *ret_init, pid_t *ret_root);

/* Describe the image read from in_fd on out, for people or as JSON. */
#define CKPT_SHOW_JSON (1U << 0)
int ckpt_show(int in_fd, FILE *out, unsigned int flags);

/* Ask the checkpoint or restart running in this process to stop at the next
 * safe point and undo what it did. Async-signal-safe. */
void ckpt_interrupt(void);

const char *ckpt_version(void);

#endif
