/*
 * unit.h: a tiny table-friendly test harness. Each tests/unit/test_*.c is one program that uses
 * CHECK* macros inside test functions and ends main() with `return unit_report("name");`, which
 * prints "name: N passed, N failed" and returns non-zero on failure.
 */
#ifndef IIIFD_TESTS_UNIT_H
#define IIIFD_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

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
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
