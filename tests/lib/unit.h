/*
 * unit.h: a minimal unit test harness. A test file defines TEST(name)
 * functions and a main that RUNs them; failed checks print both values,
 * and the file ends with unit_done(), which prints the counts and adds them
 * to $RESULT_FILE for tests/run-all.sh.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_pass, unit_fail, unit_failed_now;
static const char *unit_file;

#define TEST(name) static void name(void)

#define RUN(name)                                                                                  \
	do {                                                                                       \
		unit_failed_now = 0;                                                               \
		name();                                                                            \
		if (unit_failed_now) {                                                             \
			unit_fail++;                                                               \
			printf("FAIL  %s: %s\n", unit_file, #name);                                \
		} else {                                                                           \
			unit_pass++;                                                               \
			printf("PASS  %s: %s\n", unit_file, #name);                                \
		}                                                                                  \
	} while (0)

#define T_FAIL(...)                                                                                \
	do {                                                                                       \
		printf("      %s:%d: ", __FILE__, __LINE__);                                       \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		unit_failed_now = 1;                                                               \
	} while (0)

#define T_OK(cond)                                                                                 \
	do {                                                                                       \
		if (!(cond))                                                                       \
			T_FAIL("expected %s", #cond);                                              \
	} while (0)

#define T_EQ(a, b)                                                                                 \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			T_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);                          \
	} while (0)

#define T_EQX(a, b)                                                                                \
	do {                                                                                       \
		unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b);     \
		if (_a != _b)                                                                      \
			T_FAIL("%s == %s: 0x%llx != 0x%llx", #a, #b, _a, _b);                      \
	} while (0)

#define T_STR(a, b)                                                                                \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b))                                                  \
			T_FAIL("%s == %s: '%s' != '%s'", #a, #b, _a ? _a : "(null)",               \
			       _b ? _b : "(null)");                                                \
	} while (0)

static inline int unit_done(void)
{
	const char *rf = getenv("RESULT_FILE");

	if (rf) {
		FILE *f = fopen(rf, "a");

		if (f) {
			fprintf(f, "%d %d\n", unit_pass, unit_fail);
			fclose(f);
		}
	}
	return unit_fail ? 1 : 0;
}

#endif
