/*
 * test_taskstate.c: the fields of /proc/PID/stat that process state
 * beyond the basics relies on: the exit signal (field 38) of a process, of
 * a child cloned with no exit signal, and of a thread (-1).
 */
#include <errno.h>
#include <stdio.h>
#include "lib/unit.h"
#include "proc/proc.h"

static const char stat_fmt[] =
	"4242 (x y) Z 1 4242 4242 0 -1 4194828 165 0 0 0 1 2 0 0 20 0 1 0 "
	"123456 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 %s 1 0 0 0 0 0 0 0 0 0 0 0 0 "
	"%s\n";

TEST(exit_signal)
{
	static const char *const sigs[] = { "10", "0", "-1", "34" };
	static const int want[] = { 10, 0, -1, 34 };
	char text[512];
	struct proc_stat st;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(text, sizeof(text), stat_fmt, sigs[i], "137");
		T_EQ(proc_parse_stat(text, &st), 0);
		T_EQ(st.exit_signal, want[i]);
		T_EQ(st.state, 'Z');
		T_EQ(st.exit_code, 137);
		T_STR(st.comm, "x y");
	}
}

TEST(exit_signal_missing)
{
	struct proc_stat st;

	T_EQ(proc_parse_stat("4242 (x) S 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0 0 0 "
			     "0 0 0 0 0 0 0 0 0 0\n",
			     &st),
	     -EINVAL);
}

int main(void)
{
	unit_file = "unit/taskstate";
	RUN(exit_signal);
	RUN(exit_signal_missing);
	return unit_done();
}
