/*
 * main.c: the ckpt command. Parses arguments, prints, maps errors to exit
 * codes; libckpt does the work. See man/ckpt.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ckpt.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_BAD_IMAGE = 4,
	EXIT_PID_IN_USE = 5,
	EXIT_NO_PROCESS = 6,
};

static const char *prog = "ckpt";
static volatile sig_atomic_t forward_to;

static const char usage_main[] =
	"usage: ckpt [-v] [--version] [--help] COMMAND [ARGS]\n"
	"\n"
	"Checkpoint a running process into an image, and restart it from one.\n"
	"\n"
	"commands:\n"
	"  checkpoint [--kill] [-o FILE|-] PID   write an image of process PID\n"
	"  restart [--pidfile F] [--wait] [--pidns] FILE|-\n"
	"                                        recreate the process from an image\n"
	"  show [--json] FILE|-                  describe an image\n"
	"\n"
	"options:\n"
	"  -v, --verbose   more detail on stderr (repeat for debugging output)\n"
	"  --version       print the version\n"
	"  -h, --help      this help; 'ckpt COMMAND --help' for a command\n"
	"\n"
	"Options may come before or after the PID or FILE.\n"
	"\n"
	"exit status: 0 success, 1 failure, 2 usage error, 3 the process holds\n"
	"something ckpt does not support, 4 the image is damaged or foreign,\n"
	"5 a PID or thread ID the image needs is in use, 6 no such process\n"
	"(checkpoint). See ckpt(1).\n";

static const char usage_checkpoint[] =
	"usage: ckpt checkpoint [--kill] [-o FILE|-] PID\n"
	"\n"
	"Write an image of process PID. The process is frozen while its state\n"
	"is captured and then continues exactly where it was, unless --kill.\n"
	"\n"
	"  -o, --output FILE  write the image to FILE (default: standard output,\n"
	"                     which must not be a terminal); '-' is standard output.\n"
	"                     FILE appears only once the image is complete.\n"
	"  -k, --kill         kill the process once the whole image is written\n";

static const char usage_restart[] =
	"usage: ckpt restart [--pidfile F] [--wait] [--pidns] FILE|-\n"
	"\n"
	"Recreate the process stored in the image FILE ('-': standard input) with\n"
	"its original PID, and let it run. Nothing runs until the whole image has\n"
	"been read and verified. Descriptors 0-2 that were connected outside the\n"
	"process (a terminal, a pipe) are connected to ckpt's own 0-2.\n"
	"\n"
	"  -p, --pidfile F  write the restored process's PID to F\n"
	"  -w, --wait       stay its parent; exit with its exit status\n"
	"                   (128+N if signal N killed it)\n"
	"  -n, --pidns      restart inside a new PID namespace, beside the original\n"
	"                   or other copies: every process keeps its PID there. Its\n"
	"                   PID 1 is a small init of ckpt's, which --wait waits for;\n"
	"                   --pidfile gets the root's PID outside the namespace\n";

static const char usage_show[] = "usage: ckpt show [--json] FILE|-\n"
				 "\n"
				 "Verify an image and describe what it holds.\n"
				 "\n"
				 "  -j, --json  print JSON instead of text\n";

static int verbosity;

static void log_sink(enum ckpt_log_level level, const char *msg, void *data)
{
	(void)data;
	if (level == CKPT_LOG_ERROR)
		fprintf(stderr, "%s: %s\n", prog, msg);
	else if (level == CKPT_LOG_WARN)
		fprintf(stderr, "%s: warning: %s\n", prog, msg);
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}

__attribute__((format(printf, 2, 3), noreturn)) static void usage_error(const char *usage,
									const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	exit(EXIT_USAGE);
}

static int exit_code_of(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EOPNOTSUPP:
		return EXIT_REFUSED;
	case EBADMSG:
	case EPROTONOSUPPORT:
		return EXIT_BAD_IMAGE;
	case EEXIST:
		return EXIT_PID_IN_USE;
	case ESRCH:
		return EXIT_NO_PROCESS;
	}
	return EXIT_FAIL;
}

static void on_signal(int sig)
{
	if (forward_to > 0) {
		kill(forward_to, sig);
		return;
	}
	ckpt_interrupt();
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void report(const char *what, int err)
{
	/* the library has said what went wrong; say what did not happen */
	if (err == -ECANCELED)
		fprintf(stderr, "%s: %s interrupted\n", prog, what);
	else if (err)
		fprintf(stderr, "%s: %s failed\n", prog, what);
}

static int parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -1;
	*ret = (pid_t)v;
	return 0;
}

static int cmd_checkpoint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "kill", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = "-";
	char *tmp = NULL;
	unsigned int flags = 0;
	pid_t pid;
	int c, fd, err;

	while ((c = getopt_long(argc, argv, "o:kh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'k':
			flags |= CKPT_CHECKPOINT_KILL;
			break;
		case 'h':
			fputs(usage_checkpoint, stdout);
			return EXIT_OK;
		default:
			usage_error(usage_checkpoint, "bad option");
		}
	}
	if (optind + 1 != argc)
		usage_error(usage_checkpoint, "expected one PID");
	if (parse_pid(argv[optind], &pid))
		usage_error(usage_checkpoint, "'%s' is not a PID", argv[optind]);
	if (!strcmp(out, "-")) {
		if (isatty(STDOUT_FILENO))
			usage_error(usage_checkpoint,
				    "refusing to write an image to a terminal; use -o FILE");
		fd = STDOUT_FILENO;
	} else {
		if (asprintf(&tmp, "%s.XXXXXX", out) < 0)
			return EXIT_FAIL;
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot create '%s': %s\n", prog, tmp, strerror(errno));
			free(tmp);
			return EXIT_FAIL;
		}
	}
	err = ckpt_checkpoint(pid, fd, flags);
	if (tmp) {
		if (close(fd) && !err)
			err = -errno;
		if (!err && rename(tmp, out)) {
			err = -errno;
			fprintf(stderr, "%s: cannot rename '%s' to '%s': %s\n", prog, tmp, out,
				strerror(errno));
		}
		if (err)
			unlink(tmp);
		free(tmp);
	}
	report("checkpoint", err);
	return exit_code_of(err);
}

static int open_input(const char *path, const char *usage)
{
	int fd;

	if (!strcmp(path, "-")) {
		if (isatty(STDIN_FILENO))
			usage_error(usage, "refusing to read an image from a terminal");
		return STDIN_FILENO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "%s: cannot open '%s': %s\n", prog, path, strerror(errno));
	return fd;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char *tmp;
	FILE *f;
	int err = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
	} else {
		fchmod(fd, 0644);
		fprintf(f, "%d\n", pid);
		if (fclose(f) || rename(tmp, path))
			err = -errno;
	}
	if (err) {
		fprintf(stderr, "%s: cannot write pidfile '%s': %s\n", prog, path, strerror(-err));
		unlink(tmp);
	}
	free(tmp);
	return err;
}

static int wait_root(pid_t pid)
{
	int status;

	forward_to = pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: cannot wait for pid %d: %s\n", prog, pid,
				strerror(errno));
			return EXIT_FAIL;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int cmd_restart(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pidfile", required_argument, NULL, 'p' },
		{ "wait", no_argument, NULL, 'w' },
		{ "pidns", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pidfile = NULL;
	bool wait = false, pidns = false;
	pid_t pid, child;
	int c, fd, err;

	while ((c = getopt_long(argc, argv, "p:wnh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidfile = optarg;
			break;
		case 'w':
			wait = true;
			break;
		case 'n':
			pidns = true;
			break;
		case 'h':
			fputs(usage_restart, stdout);
			return EXIT_OK;
		default:
			usage_error(usage_restart, "bad option");
		}
	}
	if (optind + 1 != argc)
		usage_error(usage_restart, "expected one image");
	fd = open_input(argv[optind], usage_restart);
	if (fd < 0)
		return EXIT_FAIL;
	/* child: the process to wait for, the root or the namespace's init */
	if (pidns)
		err = ckpt_restart_pidns(fd, 0, &child, &pid);
	else
		err = ckpt_restart(fd, 0, &pid);
	if (!err && !pidns)
		child = pid;
	if (fd != STDIN_FILENO)
		close(fd);
	report("restart", err);
	if (err)
		return exit_code_of(err);
	if (pidfile && write_pidfile(pidfile, pid))
		return wait ? wait_root(child) : EXIT_FAIL;
	return wait ? wait_root(child) : EXIT_OK;
}

static int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int flags = 0;
	int c, fd, err;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			flags |= CKPT_SHOW_JSON;
			break;
		case 'h':
			fputs(usage_show, stdout);
			return EXIT_OK;
		default:
			usage_error(usage_show, "bad option");
		}
	}
	if (optind + 1 != argc)
		usage_error(usage_show, "expected one image");
	signal(SIGPIPE, SIG_DFL); /* a filter: `ckpt show IMG | head` ends quietly */
	fd = open_input(argv[optind], usage_show);
	if (fd < 0)
		return EXIT_FAIL;
	err = ckpt_show(fd, stdout, flags);
	if (fd != STDIN_FILENO)
		close(fd);
	report("show", err);
	return exit_code_of(err);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "checkpoint", cmd_checkpoint },
		{ "restart", cmd_restart },
		{ "show", cmd_show },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbosity++;
			break;
		case 'V':
			printf("ckpt %s\n", ckpt_version());
			return EXIT_OK;
		case 'h':
			fputs(usage_main, stdout);
			return EXIT_OK;
		default:
			usage_error(usage_main, "bad option");
		}
	}
	if (optind >= argc)
		usage_error(usage_main, "expected a command");
	ckpt_set_log(log_sink, NULL,
		     verbosity >= 2 ? CKPT_LOG_DEBUG
		     : verbosity    ? CKPT_LOG_INFO
				    : CKPT_LOG_WARN);
	setup_signals();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[optind], cmds[i].name)) {
			argv[optind] = (char *)cmds[i].name;
			optind++;
			argc -= optind - 1;
			argv += optind - 1;
			optind = 0; /* a fresh scan, options and operands in any order */
			return cmds[i].fn(argc, argv);
		}
	}
	usage_error(usage_main, "unknown command '%s'", argv[optind]);
	return EXIT_USAGE;
}
