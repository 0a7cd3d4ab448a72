/*
 * scen.h: the scenario protocol. A scenario program builds some state,
 * calls scen_ready() (the runner then checkpoints it), and scen_wait(),
 * which returns once the runner sends SIGTERM after the restart: then the
 * program checks its state and ends with scen_pass() or a failed CHECK,
 * which prints the reason to stderr and exits 1.
 *
 * Scenarios that finish by themselves (a sleep that must complete) do not
 * wait for SIGTERM: they check and exit when their work is done.
 */
#ifndef SCEN_H
#define SCEN_H

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* Installs the SIGTERM handler (no SA_RESTART), unbuffers stdio. */
void scen_init(void);
/* Tells the runner the state is built (creates the file "ready"). */
void scen_ready(void);
/* Blocks until SIGTERM; returns immediately if it already came. */
void scen_wait(void);
/* Whether SIGTERM came: an EINTR is legitimate only then. */
bool scen_told(void);
__attribute__((noreturn)) void scen_pass(void);
__attribute__((noreturn, format(printf, 1, 2))) void scen_fail(const char *fmt, ...);
/* Prints "FAIL: ..." like scen_fail, and returns (for checks that go on). */
__attribute__((format(printf, 1, 2))) void scen_report(const char *fmt, ...);
/* Moves descriptor fd (checked: a failed open fails the scenario) to
 * number target. */
void scen_move_fd(int fd, int target);
/* The first 64 signals of a set, as the kernel's mask word, and the bit of
 * one signal in it. */
uint64_t scen_sigset_word(const sigset_t *s);
static inline uint64_t scen_sigbit(int sig)
{
	return 1ULL << (sig - 1);
}
/* Monotonic time in nanoseconds. */
uint64_t scen_now_ns(void);
/* Which PID namespace the process is in (the inode of /proc/self/ns/pid):
 * a copy restarted with --pidns is in another one than the original. */
uint64_t scen_pidns(void);

/* Runs fn in a child process (another lock owner than the caller, say),
 * which fails the caller's scenario if fn fails. */
void scen_in_child(void (*fn)(void));
/* How many locks /proc/locks lists on the file open at fd, of this kind
 * ("POSIX", "OFDLCK", "FLOCK") and type ("READ", "WRITE"), in the name of
 * pid (any when 0). */
int scen_count_locks(int fd, const char *kind, const char *type, pid_t pid);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			scen_fail("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);           \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			scen_fail("%s:%d: %s == %s failed: %lld != %lld", __FILE__, __LINE__, #a,  \
				  #b, _a, _b);                                                     \
	} while (0)

#define CHECK_SYS(call)                                                                            \
	do {                                                                                       \
		if ((call) < 0)                                                                    \
			scen_fail("%s:%d: %s: %m", __FILE__, __LINE__, #call);                     \
	} while (0)

#endif
