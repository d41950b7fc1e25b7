/*
 * test_manifest_of.c: which Manifest a file belongs to (pres_manifest_of_file): its folder's,
 * unless that folder is a Collection (has a sub-folder with content), as the folder is now,
 * also after the answer was remembered for an unchanged folder and a sub-folder then changed.
 */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "presentation/canvas_index.h"
#include "unit.h"

static char root[PATH_MAX];

static void touch(const char *rel)
{
	char *path = g_build_filename(root, rel, NULL);
	CHECK(g_file_set_contents(path, "x", 1, NULL), "write %s", rel);
	g_free(path);
}

/* Sets rel's mtime seconds back, so the folder's state may be remembered. */
static void age(const char *rel, time_t seconds)
{
	char *path = g_build_filename(root, rel, NULL);
	struct timespec old[2] = { { time(NULL) - seconds, 0 }, { time(NULL) - seconds, 0 } };
	CHECK(utimensat(AT_FDCWD, path, old, 0) == 0, "utimensat %s", rel);
	g_free(path);
}

static void expect(const char *file, const char *manifest, bool folder, const char *ctx)
{
	bool is_folder = !folder;
	char *m = pres_manifest_of_file(root, file, &is_folder);
	CHECK_STR(m, manifest, ctx);
	CHECK(is_folder == folder, "%s: is_folder %d", ctx, is_folder);
	g_free(m);
}

static void test_folder_becomes_a_collection_and_back(void)
{
	char *book = g_build_filename(root, "book", NULL), *sub = g_build_filename(book, "sub", NULL);
	CHECK(g_mkdir(book, 0755) == 0 && g_mkdir(sub, 0755) == 0, "folders");
	touch("book/a.jpg");
	age("book/sub", 3600);
	age("book", 3600);
	expect("book/a.jpg", "book", true, "a folder of images: one Manifest");
	expect("book/a.jpg", "book", true, "asked again (remembered)");
	touch("book/sub/x.jpg"); /* book's own mtime does not change */
	expect("book/a.jpg", "book/a.jpg", false, "a sub-folder got an image: a Collection");
	age("book/sub", 1800);
	expect("book/a.jpg", "book/a.jpg", false, "remembered as a Collection");
	char *x = g_build_filename(sub, "x.jpg", NULL);
	CHECK(g_unlink(x) == 0, "unlink");
	expect("book/a.jpg", "book", true, "the sub-folder emptied: a Manifest again");
	CHECK(g_rmdir(sub) == 0, "rmdir");
	expect("book/a.jpg", "book", true, "the sub-folder gone");
	expect("top.jpg", "top.jpg", false, "a file at the root: a Manifest of its own");
	char *a = g_build_filename(book, "a.jpg", NULL);
	g_unlink(a);
	g_free(a);
	g_rmdir(book);
	g_free(x);
	g_free(sub);
	g_free(book);
}

int main(void)
{
	char tmpl[] = "/tmp/iiifd-test-manifest.XXXXXX";
	if (!mkdtemp(tmpl) || !realpath(tmpl, root))
		return 1;
	UNIT_RUN(test_folder_becomes_a_collection_and_back);
	g_rmdir(root);
	return unit_report("manifest_of");
}
