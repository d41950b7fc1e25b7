/*
 * test_manifest_of.c: which Manifest a file belongs to (pres_manifest_of_file): its folder's,
 * unless that folder is a Collection (has a sub-folder with content), as the folder is now,
 * also after the answer was remembered for an unchanged folder and a sub-folder then changed;
 * and whether a folder has a sidecar (tree_has_companion) as its listing would say.
 */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "presentation/canvas_index.h"
#include "presentation/tree.h"
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

static void test_companion_as_listed(void)
{
	char *dir = g_build_filename(root, "c", NULL), *sub = g_build_filename(dir, "folder.yml", NULL);
	CHECK(g_mkdir(dir, 0755) == 0 && g_mkdir(sub, 0755) == 0, "folders");
	touch("c/manifest.yml");
	touch("c/notes.txt");
	char *outside = g_strdup_printf("%s.outside.yml", root), *link = g_build_filename(dir, "l.yml", NULL);
	CHECK(g_file_set_contents(outside, "x", 1, NULL) && symlink(outside, link) == 0, "link out");
	CHECK(tree_has_companion(root, dir, "manifest.yml"), "a sidecar file");
	CHECK(!tree_has_companion(root, dir, "missing.yml"), "no such file");
	CHECK(!tree_has_companion(root, dir, "folder.yml"), "a folder is no sidecar");
	CHECK(!tree_has_companion(root, dir, "notes.txt"), "not a companion kind");
	CHECK(!tree_has_companion(root, dir, "l.yml"), "a symlink out of the root");
	struct tree_listing l;
	CHECK(tree_list(root, dir, &l, NULL) == 0, "listed");
	bool listed = false, linked = false;
	for (size_t i = 0; i < l.companion_count; i++) {
		listed |= strcmp(l.companions[i], "manifest.yml") == 0;
		linked |= strcmp(l.companions[i], "l.yml") == 0;
	}
	CHECK(listed && !linked, "the listing agrees");
	tree_listing_release(&l);
	g_unlink(link);
	g_unlink(outside);
	char *f = g_build_filename(dir, "manifest.yml", NULL), *n = g_build_filename(dir, "notes.txt", NULL);
	g_unlink(f);
	g_unlink(n);
	g_rmdir(sub);
	g_rmdir(dir);
	g_free(f);
	g_free(n);
	g_free(link);
	g_free(outside);
	g_free(sub);
	g_free(dir);
}

int main(void)
{
	char tmpl[] = "/tmp/iiifd-test-manifest.XXXXXX";
	if (!mkdtemp(tmpl) || !realpath(tmpl, root))
		return 1;
	UNIT_RUN(test_folder_becomes_a_collection_and_back);
	UNIT_RUN(test_companion_as_listed);
	g_rmdir(root);
	return unit_report("manifest_of");
}
