/*
 * proc_identity.c: what /proc says the process is survives restart. The
 * list gives the program arguments; at start it adds an environment
 * variable and executes itself again. After restart /proc/self/cmdline,
 * /proc/self/environ, /proc/self/auxv and the target of /proc/self/exe
 * read the same as before, and still agree with argv, environ and
 * getauxval; the mm fields of /proc/self/stat (start and end of code,
 * data, arguments and environment, the stack start and start_brk) are
 * the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "lib/scen.h"

#define ENV_NAME "SCEN_IDENTITY"
#define ENV_VALUE "value with spaces = and an equals sign"
#define NSTAT 10

static const char *const expected_args[] = {"alpha", "beta-2", "--gamma=3", "δ"};
#define NARGS (sizeof(expected_args) / sizeof(expected_args[0]))

/* stat fields: startcode endcode startstack startdata enddata startbrk
 * argstart argend envstart envend */
static const int stat_fields[NSTAT] = {26, 27, 28, 45, 46, 47, 48, 49, 50, 51};

struct ident {
	char cmdline[8192], environ_[65536], auxv[4096], exe[PATH_MAX];
	size_t cmdline_len, environ_len, auxv_len;
	unsigned long stat[NSTAT];
};

static char text[1 << 16];

static size_t slurp(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		scen_fail("open %s: %m", path);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			scen_fail("read %s: %m", path);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1)
			scen_fail("%s is too big", path);
	}
	buf[len] = '\0';
	close(fd);
	return len;
}

static void read_ident(struct ident *id)
{
	ssize_t n;
	char *p;

	id->cmdline_len = slurp("/proc/self/cmdline", id->cmdline, sizeof(id->cmdline));
	id->environ_len = slurp("/proc/self/environ", id->environ_, sizeof(id->environ_));
	id->auxv_len = slurp("/proc/self/auxv", id->auxv, sizeof(id->auxv));
	n = readlink("/proc/self/exe", id->exe, sizeof(id->exe) - 1);
	CHECK_SYS(n);
	id->exe[n] = '\0';
	slurp("/proc/self/stat", text, sizeof(text));
	p = strrchr(text, ')');
	CHECK(p);
	p += 2;
	for (int field = 3, k = 0; k < NSTAT; field++) {
		if (field == stat_fields[k])
			id->stat[k++] = strtoul(p, NULL, 10);
		if (k == NSTAT)
			break;
		p = strchr(p, ' ');
		if (!p)
			scen_fail("/proc/self/stat has no field %d", field + 1);
		p++;
	}
	for (int k = 0; k < NSTAT; k++)
		if (!id->stat[k])
			scen_fail("/proc/self/stat field %d is 0", stat_fields[k]);
}

/* /proc agrees with the process's own view of itself. */
static void agree(const struct ident *id, int argc, char **argv)
{
	size_t off = 0;
	char self[PATH_MAX];
	extern char **environ;
	bool found = false;

	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;

		if (off + len > id->cmdline_len || memcmp(id->cmdline + off, argv[i], len))
			scen_fail("/proc/self/cmdline does not hold argv[%d] '%s' at %zu", i,
				  argv[i], off);
		off += len;
	}
	CHECK_EQ(off, id->cmdline_len);
	off = 0;
	for (char **e = environ; *e; e++) {
		size_t len = strlen(*e) + 1;

		if (off + len > id->environ_len || memcmp(id->environ_ + off, *e, len))
			scen_fail("/proc/self/environ does not hold '%s' at %zu", *e, off);
		off += len;
		if (!strcmp(*e, ENV_NAME "=" ENV_VALUE))
			found = true;
	}
	CHECK_EQ(off, id->environ_len);
	CHECK(found);
	CHECK(!strcmp(getenv(ENV_NAME), ENV_VALUE));
	for (size_t a = 0; a + 16 <= id->auxv_len; a += 16) {
		unsigned long type, val;

		memcpy(&type, id->auxv + a, 8);
		memcpy(&val, id->auxv + a + 8, 8);
		if (type == AT_NULL)
			break;
		if (type == AT_SYSINFO_EHDR || type == AT_ENTRY || type == AT_PHDR ||
		    type == AT_RANDOM || type == AT_EXECFN || type == AT_PAGESZ)
			if (getauxval(type) != val)
				scen_fail("auxv type %lu: /proc says %lx, getauxval %lx", type, val,
					  getauxval(type));
	}
	CHECK(realpath(argv[0], self));
	if (strcmp(self, id->exe))
		scen_fail("/proc/self/exe is '%s', argv[0] is '%s'", id->exe, self);
}

int main(int argc, char **argv)
{
	static struct ident before, after;

	if (!getenv(ENV_NAME)) {
		if (setenv(ENV_NAME, ENV_VALUE, 1))
			scen_fail("setenv: %m");
		execv("/proc/self/exe", argv);
		scen_fail("execv: %m");
	}
	scen_init();
	if (argc != (int)NARGS + 1)
		scen_fail("started with %d arguments, expected %zu", argc - 1, NARGS);
	for (size_t i = 0; i < NARGS; i++)
		if (strcmp(argv[i + 1], expected_args[i]))
			scen_fail("argument %zu is '%s', expected '%s'", i + 1, argv[i + 1],
				  expected_args[i]);
	read_ident(&before);
	agree(&before, argc, argv);
	scen_ready();
	scen_wait();

	read_ident(&after);
	if (after.cmdline_len != before.cmdline_len ||
	    memcmp(after.cmdline, before.cmdline, before.cmdline_len))
		scen_fail("/proc/self/cmdline changed (%zu bytes, were %zu)", after.cmdline_len,
			  before.cmdline_len);
	if (after.environ_len != before.environ_len ||
	    memcmp(after.environ_, before.environ_, before.environ_len))
		scen_fail("/proc/self/environ changed (%zu bytes, were %zu)", after.environ_len,
			  before.environ_len);
	if (after.auxv_len != before.auxv_len || memcmp(after.auxv, before.auxv, before.auxv_len))
		scen_fail("/proc/self/auxv changed (%zu bytes, were %zu)", after.auxv_len,
			  before.auxv_len);
	if (strcmp(after.exe, before.exe))
		scen_fail("/proc/self/exe was '%s', is '%s'", before.exe, after.exe);
	for (int k = 0; k < NSTAT; k++)
		if (after.stat[k] != before.stat[k])
			scen_fail("/proc/self/stat field %d was %lu, is %lu", stat_fields[k],
				  before.stat[k], after.stat[k]);
	agree(&after, argc, argv);
	scen_pass();
}
