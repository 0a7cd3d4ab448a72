/*
 * pidns.c: the public entry points of restart. ckpt_restart() runs the
 * restart sequence (restart.c) in ckpt's PID namespace, or in a new one;
 * ckpt_restart_pidns() restarts inside a new PID namespace, so that a copy
 * of an image runs beside the original (or beside another copy) while every
 * process of the copy has its original PID, parent, group and session. It
 * sits above restart.c, which it runs unchanged from inside the namespace:
 *
 *  1. ckpt creates "init" with clone3(CLONE_NEWPID | CLONE_NEWNS): PID 1 of
 *     a new PID namespace, and a child of ckpt. Until it reports, init dies
 *     with ckpt (PR_SET_PDEATHSIG).
 *  2. init turns every mount of its mount namespace into a slave (mounts
 *     made on the host still appear, its own never leave) and mounts a proc
 *     of the new namespace on /proc. From then on getpid(), /proc/PID,
 *     /proc/self, kill(), waitpid() and ptrace all speak the namespace's
 *     PIDs, which are the image's: clone3(set_tid) names PIDs of the
 *     namespace its caller lives in.
 *  3. init runs the ordinary restart (restart_tree(), told it is init: it
 *     refuses an image holding PID 1, which init has). Its log messages
 *     go to ckpt over a socket (log_capture_fd()) and reach the caller's
 *     sink there. Every check runs as without --pidns; the only one that
 *     cannot fail here is the PIDs being free.
 *  4. init reports the result: "R <err>" on a SOCK_SEQPACKET socket, with
 *     the root's PID as SCM_CREDENTIALS, which the kernel translates into
 *     ckpt's namespace. On failure the restart has already killed what it
 *     created and init exits, which would kill whatever were left: the
 *     kernel kills a namespace whose init dies. ckpt reaps init and returns
 *     the restart's own error, so exit codes are as without --pidns.
 *  5. On success init lets go of everything it holds of the outside world
 *     (descriptors 0-2 become /dev/null, the rest are closed) and stays as
 *     the namespace's reaper: it reaps every orphan, passes SIGHUP, SIGINT,
 *     SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 on to the root (the signals ckpt
 *     restart --wait passes on; not those the terminal sends, which reach
 *     the root too when it is in init's process group), and when the root
 *     ends, exits with its exit status, or 128+N if signal N killed it. Its
 *     death takes the rest of the namespace with it.
 *
 * The root's parent inside the namespace is init (PID 1); a process group
 * or session the root shared with the outside world stays the one of the
 * ckpt that restarted it, which the namespace shows as 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ckpt.h"
#include "core/restart.h"
#include "res/res.h"
#include "util/fault.h"
#include "util/io.h"
#include "util/log.h"

#define REPORT_MAX 1100 /* a log line (log.c) or the report */

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };

/* ---- init, inside the namespace ---- */

static volatile sig_atomic_t init_root; /* the root's PID, once restored */
static volatile sig_atomic_t init_pending; /* a signal that came during the restart */

/* A signal the terminal sent (SI_KERNEL) went to the root's group too, if
 * the root is in it; one a process sent is passed on. */
static void init_on_signal(int sig, siginfo_t *info, void *uc)
{
	(void)uc;
	if (init_root > 0) {
		if (info->si_code != SI_KERNEL)
			kill(init_root, sig);
		return;
	}
	init_pending = sig;
	ckpt_interrupt();
}

static void init_signals(void)
{
	struct sigaction sa = { .sa_sigaction = init_on_signal, .sa_flags = SA_SIGINFO };
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	signal(SIGCHLD, SIG_DFL); /* orphans' statuses must wait to be reaped */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Starts forwarding to the root; a signal that came meanwhile goes to it. */
static void init_forward(pid_t root)
{
	sigset_t fwd, old;

	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigprocmask(SIG_BLOCK, &fwd, &old);
	init_root = root;
	if (init_pending)
		kill(root, init_pending);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Step 2: a /proc that shows the namespace. */
static int init_mounts(void)
{
	int err = 0;

	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		err = -errno;
		log_err("pid namespace: cannot make its mounts slaves of the host's: %s",
			strerror(-err));
	} else if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		err = -errno;
		log_err("pid namespace: cannot mount its /proc: %s", strerror(-err));
	}
	return err;
}

/* Step 4: "R <err>", with the root's PID as credentials on success. */
static int init_report(int sock, int err, pid_t root)
{
	struct ucred cred = { .pid = root, .uid = getuid(), .gid = getgid() };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	char line[32];
	struct iovec iov = { line, (size_t)snprintf(line, sizeof(line), "R %d", err) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (!err) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(cred));
		memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Step 5: holds nothing of the outside world but its session. */
static void init_let_go(void)
{
	int null = open("/dev/null", O_RDWR);

	for (int fd = 0; fd < 3 && null >= 0; fd++)
		if (fd != null)
			dup2(null, fd);
	syscall(SYS_close_range, 3, ~0U, 0);
}

static __attribute__((noreturn)) void init_reap(pid_t root)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			_exit(1); /* no child left: cannot happen while the root lives */
		if (pid != root || !(WIFEXITED(status) || WIFSIGNALED(status)))
			continue;
		_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
	}
}

static __attribute__((noreturn)) void init_main(int in_fd, int sock)
{
	struct pollfd pfd = { .fd = sock };
	pid_t root = 0;
	int err;

	/* 1. ckpt may have died before this: its end of the socket is closed */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || poll(&pfd, 1, 0) != 0)
		_exit(1);
	init_signals();
	log_capture_fd(sock);
	err = init_mounts();
	if (!err)
		err = restart_tree(in_fd, true, &root);
	if (!err && fault_hit("pidns-report"))
		err = -EIO;
	if (err) {
		init_report(sock, err, 0);
		_exit(1); /* the kernel kills whatever is left in the namespace */
	}
	prctl(PR_SET_PDEATHSIG, 0);
	init_forward(root);
	if (init_report(sock, 0, root))
		_exit(1);
	ckpt_set_log(NULL, NULL, CKPT_LOG_ERROR);
	init_let_go();
	init_reap(root);
}

/* ---- ckpt, outside ---- */

/* Reads init's messages up to its report; its log lines go to the sink. */
static int await_report(int sock, pid_t init, pid_t *ret_root)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} ctl;
		char line[REPORT_MAX + 1];
		struct iovec iov = { line, REPORT_MAX };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = ctl.buf,
				      .msg_controllen = sizeof(ctl.buf) };
		struct cmsghdr *c;
		struct ucred cred = { 0 };
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		int err;

		if (n < 0 && errno == EINTR && !is_interrupted())
			continue;
		if (n < 0 && errno == EINTR)
			return -ECANCELED;
		if (n < 0) {
			err = -errno;
			log_err("pid namespace: cannot hear from its init: %s", strerror(-err));
			return err;
		}
		if (n == 0) {
			log_err("pid namespace: its init (pid %d) died during the restart", init);
			return -EIO;
		}
		line[n] = '\0';
		if (line[0] != 'R') {
			line[strcspn(line, "\n")] = '\0';
			log_replay_line(line);
			continue;
		}
		if (sscanf(line, "R %d", &err) != 1 || err > 0) {
			log_err("pid namespace: its init sent '%s'", line);
			return -EIO;
		}
		if (err)
			return err;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		if (cred.pid <= 0 || cred.pid == init) {
			log_err("pid namespace: its init did not tell the root's pid");
			return -EIO;
		}
		*ret_root = cred.pid;
		return 0;
	}
}

int ckpt_restart_pidns(int in_fd, unsigned int flags, pid_t *ret_init, pid_t *ret_root)
{
	struct clone_args args = {
		.flags = CLONE_NEWPID | CLONE_NEWNS,
		.exit_signal = SIGCHLD,
	};
	sigset_t all, old;
	pid_t root = 0;
	int sv[2], one = 1, err;
	long init;

	if (flags & ~CKPT_RESTART_PIDNS)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one))) {
		err = -errno;
		goto out_close;
	}
	/* init sets up its own signal handling before taking any signal */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	init = syscall(SYS_clone3, &args, sizeof(args));
	if (init == 0) {
		close(sv[0]);
		init_main(in_fd, sv[1]);
	}
	err = init < 0 ? -errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_err("cannot create a pid namespace: %s", strerror(-err));
		goto out_close;
	}
	close(sv[1]);
	sv[1] = -1;
	err = await_report(sv[0], (pid_t)init, &root);
	if (err) {
		/* init is exiting, or must: the namespace goes with it */
		kill((pid_t)init, SIGKILL);
		while (waitpid((pid_t)init, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		log_info("pid namespace: init is pid %ld, the root pid %d", init, root);
		*ret_init = (pid_t)init;
		if (ret_root)
			*ret_root = root;
	}
out_close:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return err;
}

int ckpt_restart(int in_fd, unsigned int flags, pid_t *ret_pid)
{
	if (flags & ~CKPT_RESTART_PIDNS)
		return -EINVAL;
	if (flags & CKPT_RESTART_PIDNS)
		return ckpt_restart_pidns(in_fd, 0, ret_pid, NULL);
	return restart_tree(in_fd, false, ret_pid);
}
