/*
 * test_tree_remote.c: what a folder of a bucket offers the Presentation API, from listings given
 * by a fake lister (tree_list_with): the same rules as for a local folder (sub-folders without
 * anything servable left out, companions apart, natural order), each listing asked for once per
 * folder looked at, and a failure of the storage reported, not taken for an empty folder.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "presentation/tree.h"
#include "storage/root.h"
#include "unit.h"

/* A bucket as "folder location" -> names ("name/" for a sub-folder), NULL-terminated. */
struct fake_folder {
	const char *location;
	const char *names[8];
};

static const struct fake_folder fake_bucket[] = {
	{ "s3://b/lib", { "page10.png", "page2.png", "page1.png", "notes.docx", "manifest.yml",
			  "sub/", "empty/", "onlytext/" } },
	{ "s3://b/lib/sub", { "a.tif", NULL } },
	{ "s3://b/lib/empty", { NULL } },
	{ "s3://b/lib/onlytext", { "readme.txt", "x.yml", NULL } },
	{ "s3://b/down", { NULL } },
};

struct fake_lister {
	int calls;
	int fail_status; /* for "s3://b/down": the storage's answer */
};

static int fake_list(void *ctx, const char *location, struct storage_listing *out,
		     struct iiifd_error *err)
{
	struct fake_lister *f = ctx;
	memset(out, 0, sizeof *out);
	f->calls++;
	if (!strcmp(location, "s3://b/down"))
		return iiifd_error_set(err, f->fail_status, "the storage failed");
	for (size_t i = 0; i < G_N_ELEMENTS(fake_bucket); i++) {
		if (strcmp(fake_bucket[i].location, location))
			continue;
		out->entries = g_new0(struct storage_entry, 8);
		for (size_t k = 0; k < 8 && fake_bucket[i].names[k]; k++) {
			const char *n = fake_bucket[i].names[k];
			size_t len = strlen(n);
			bool dir = n[len - 1] == '/';
			out->entries[out->count++] = (struct storage_entry){
				.name = g_strndup(n, dir ? len - 1 : len), .st = { .is_dir = dir } };
		}
		return 0;
	}
	return iiifd_error_set(err, 404, "no such folder");
}

static void test_listing_rules(void)
{
	struct fake_lister f = { 0 };
	struct tree_listing l;
	struct iiifd_error err = { 0 };
	CHECK_INT(tree_list_with("s3://b/lib", fake_list, &f, &l, &err), 0, "list");
	const char *want[] = { "page1.png", "page2.png", "page10.png", "sub" };
	CHECK_INT(l.count, 4, "entries: images in natural order, then the folder with an image");
	for (size_t i = 0; i < l.count && i < 4; i++)
		CHECK_STR(l.entries[i].name, want[i], "entry");
	CHECK(l.count == 4 && l.entries[3].kind == TREE_FOLDER, "sub is a folder");
	CHECK(l.has_subfolders, "a folder with sub-folders is a Collection");
	CHECK_INT(l.companion_count, 1, "companions");
	CHECK(l.companion_count == 1 && !strcmp(l.companions[0], "manifest.yml"), "the sidecar");
	CHECK_INT(l.unservable_count, 1, "notes.docx cannot be served");
	CHECK_INT(f.calls, 4, "one listing of the folder and one of each sub-folder");
	tree_listing_release(&l);
}

static void test_missing_and_failing(void)
{
	struct fake_lister f = { .fail_status = 503 };
	struct tree_listing l;
	struct iiifd_error err = { 0 };
	CHECK_INT(tree_list_with("s3://b/none", fake_list, &f, &l, &err), -1, "missing");
	CHECK_INT(err.http_status, 404, "a missing folder is 404");
	CHECK_INT(l.count, 0, "released");
	err = (struct iiifd_error){ 0 };
	CHECK_INT(tree_list_with("s3://b/down", fake_list, &f, &l, &err), -1, "down");
	CHECK_INT(err.http_status, 503, "the storage's failure is kept, not a 404");
	CHECK_STR(err.msg, "the storage failed", "its reason");
}

int main(void)
{
	UNIT_RUN(test_listing_rules);
	UNIT_RUN(test_missing_and_failing);
	return unit_report("test_tree_remote");
}
