/*
 * unit.h: a tiny table-friendly test harness. Each tests/unit/test_*.c is one program whose
 * main() calls UNIT_RUN(test_fn) for each test function (which uses the CHECK* macros) and ends
 * with `return unit_report("name");`. A test passes when all its checks pass; the report prints
 * the number of checks, then "name: N passed, N failed" over tests, and returns non-zero on
 * failure.
 */
#ifndef IIIFD_TESTS_UNIT_H
#define IIIFD_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;             /* checks */
static int unit_tests_passed, unit_tests_failed; /* test functions */

#define UNIT_RUN(fn)                                        \
	do {                                                \
		int unit_failed_before = unit_failed;       \
		fn();                                       \
		if (unit_failed == unit_failed_before)      \
			unit_tests_passed++;                \
		else                                        \
			unit_tests_failed++;                \
	} while (0)

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			unit_passed++;                                                     \
		} else {                                                                   \
			unit_failed++;                                                     \
			fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
		}                                                                          \
	} while (0)

#define CHECK_INT(got, want, ctx)                                                        \
	CHECK((long long)(got) == (long long)(want), "%s: got %lld, want %lld", (ctx), \
	      (long long)(got), (long long)(want))

#define CHECK_STR(got, want, ctx)                                                          \
	CHECK(strcmp((got), (want)) == 0, "%s: got '%s', want '%s'", (ctx), (got), (want))

static inline int unit_report(const char *name)
{
	printf("%s: %d checks, %d of them failed\n", name, unit_passed + unit_failed, unit_failed);
	printf("%s: %d passed, %d failed\n", name, unit_tests_passed, unit_tests_failed);
	return unit_failed || !unit_tests_passed ? 1 : 0;
}

#endif
