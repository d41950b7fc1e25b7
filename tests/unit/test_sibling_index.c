/*
 * test_sibling_index.c: the "base.EXT" entry path_resolve() infers for a name without extension
 * (sibling_find): exactly one entry with an allowed extension in any case, none when two, and
 * the folder as it is now, also after its names were remembered and the folder then changed.
 */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sibling_index.h"
#include "unit.h"

static const char *const exts[] = { "jpg", "png", "tif", NULL };
static char dir[PATH_MAX];

static void touch(const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	CHECK(g_file_set_contents(path, "x", 1, NULL), "write %s", name);
	g_free(path);
}

static void unlink_name(const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	CHECK(g_unlink(path) == 0, "unlink %s", name);
	g_free(path);
}

/* Sets the folder's mtime seconds back, so its names may be remembered. */
static void age(time_t seconds)
{
	struct timespec old[2] = { { time(NULL) - seconds, 0 }, { time(NULL) - seconds, 0 } };
	CHECK(utimensat(AT_FDCWD, dir, old, 0) == 0, "utimensat");
}

static void expect(const char *base, int want, const char *name)
{
	char match[256] = "";
	int got = sibling_find(dir, base, exts, match, sizeof match);
	CHECK(got == want, "%s: got %d, want %d", base, got, want);
	if (want == 1 && got == 1)
		CHECK_STR(match, name, base);
}

static void test_inferred_names(void)
{
	touch("page0.jpg");
	touch("page1.JPG");
	touch("page2.jpg");
	touch("page2.png");
	touch("page3.tar.jpg");
	touch("page4.txt");
	for (int round = 0; round < 2; round++) { /* read, then remembered */
		age(3600 + round);
		expect("page0", 1, "page0.jpg");
		expect("page1", 1, "page1.JPG");
		expect("page2", 0, NULL);
		expect("page3", 0, NULL);
		expect("page4", 0, NULL);
		expect("page9", 0, NULL);
	}
	touch("page9.tif");
	expect("page9", 1, "page9.tif");
	age(1800);
	expect("page9", 1, "page9.tif");
	unlink_name("page0.jpg");
	expect("page0", 0, NULL);
	unlink_name("page2.png");
	expect("page2", 1, "page2.jpg");
	char none[PATH_MAX + 8], m[64];
	snprintf(none, sizeof none, "%s/nope", dir);
	CHECK(sibling_find(none, "x", exts, m, sizeof m) == -1, "unreadable folder");
	const char *left[] = { "page1.JPG", "page2.jpg", "page3.tar.jpg", "page4.txt", "page9.tif" };
	for (size_t i = 0; i < sizeof left / sizeof *left; i++)
		unlink_name(left[i]);
}

static void test_settled(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	CHECK(!mtime_settled(now), "now is not settled");
	now.tv_sec -= 3;
	CHECK(mtime_settled(now), "3 s ago is");
}

int main(void)
{
	char tmpl[] = "/tmp/iiifd-test-siblings.XXXXXX";
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
		return 1;
	UNIT_RUN(test_inferred_names);
	UNIT_RUN(test_settled);
	g_rmdir(dir);
	return unit_report("sibling_index");
}
