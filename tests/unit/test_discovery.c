/*
 * test_discovery.c: Change Discovery's parts: the stream's URL grammar and documents
 * (discovery/stream.c), the activity log in SQLite (db/sqlite_activity.c), fingerprints of a
 * scan (discovery/scan.c) and syncs of a real folder (discovery/log.c): Create, Update, Move,
 * Delete, nothing twice, Refresh.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>

#include "unit.h"
#include "annotation/record.h"
#include "db/activity.h"
#include "db/db.h"
#include "discovery/log.h"
#include "discovery/scan.h"
#include "discovery/stream.h"

static void test_parse(void)
{
	static const struct { const char *path; int ok; bool collection; long long page; } cases[] = {
		{ "all-changes", 1, true, -1 },   { "page/0", 1, false, 0 },
		{ "page/7", 1, false, 7 },        { "page/999999999999999", 1, false, 999999999999999 },
		{ "page/1000000000000000", 0, false, 0 },   { "page/01", 0, false, 0 },   { "page/", 0, false, 0 },
		{ "page/-1", 0, false, 0 },                 { "page/1/", 0, false, 0 },   { "page/1x", 0, false, 0 },
		{ "page/+1", 0, false, 0 },                 { "page/ 1", 0, false, 0 },   { "all-changes/", 0, false, 0 },
		{ "", 0, false, 0 },                        { "page", 0, false, 0 },      { "PAGE/1", 0, false, 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct discovery_target t;
		struct iiifd_error err = { 0 };
		int rc = discovery_stream_parse(cases[i].path, &t, &err);
		CHECK_INT(rc == 0, cases[i].ok, cases[i].path);
		if (rc == 0) {
			CHECK_INT(t.collection, cases[i].collection, cases[i].path);
			CHECK_INT(t.page, cases[i].page, cases[i].path);
		} else {
			CHECK_INT(err.http_status, 404, cases[i].path);
		}
	}
	CHECK_INT(discovery_stream_pages(0, 10), 1, "an empty stream has one page");
	CHECK_INT(discovery_stream_pages(10, 10), 1, "exactly full");
	CHECK_INT(discovery_stream_pages(11, 10), 2, "one more");
}

static void test_documents(void)
{
	json_t *c = discovery_stream_collection("https://x.org", 21, 10);
	CHECK_STR(json_string_value(json_object_get(c, "id")),
		  "https://x.org/iiif/discovery/activity/all-changes", "collection id");
	CHECK_STR(json_string_value(json_object_get(json_object_get(c, "last"), "id")),
		  "https://x.org/iiif/discovery/activity/page/2", "last page");
	CHECK_INT(json_integer_value(json_object_get(c, "totalItems")), 21, "totalItems");
	json_decref(c);
	struct db_activity move = { .type = "Move", .object_type = "Manifest", .path = "a b/c",
				    .target_path = "d", .version = 2, .label = "{\"en\":[\"C\"]}",
				    .end_time = "2026-01-01T00:00:00.000Z" };
	json_t *p = discovery_stream_page("https://x.org", 1, 10, 21, &move, 1);
	CHECK_INT(json_integer_value(json_object_get(p, "startIndex")), 10, "startIndex");
	CHECK(json_object_get(p, "prev") && json_object_get(p, "next"), "a middle page links both");
	json_t *a = json_array_get(json_object_get(p, "orderedItems"), 0);
	json_t *obj = json_object_get(a, "object"), *target = json_object_get(a, "target");
	CHECK_STR(json_string_value(json_object_get(obj, "id")),
		  "https://x.org/iiif/presentation-v2/a%20b/c/manifest", "v2 object id, encoded");
	CHECK_STR(json_string_value(json_object_get(obj, "canonical")),
		  "https://x.org/view/a%20b/c/manifest", "canonical");
	CHECK_STR(json_string_value(json_object_get(target, "id")),
		  "https://x.org/iiif/presentation-v2/d/manifest", "Move target");
	CHECK(json_object_get(obj, "label") != NULL, "label kept");
	json_decref(p);
	struct db_activity refresh = { .type = "Refresh", .start_time = "2026-01-01T00:00:00.000Z" };
	json_t *r = discovery_stream_activity("", &refresh);
	CHECK(!json_object_get(r, "object") && !json_object_get(r, "endTime") &&
		      json_object_get(r, "startTime"), "a Refresh has only a startTime");
	json_decref(r);
}

static char *tmp_dir(void)
{
	return g_dir_make_tmp("iiifd-discovery-XXXXXX", NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything below it, then frees the name. */
static void rm_tree(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	g_free(dir);
}

static void touch(const char *dir, const char *rel, const char *text)
{
	char *path = g_build_filename(dir, rel, NULL), *parent = g_path_get_dirname(path);
	g_mkdir_with_parents(parent, 0755);
	g_file_set_contents(path, text, -1, NULL);
	g_free(parent);
	g_free(path);
}

static void test_store(void)
{
	char *dir = tmp_dir(), *path = g_build_filename(dir, "a.sqlite", NULL);
	struct db *db = NULL;
	struct iiifd_error err = { 0 };
	CHECK(db_open(path, &db, &err) == 0, "open: %s", err.msg);
	struct db_activity acts[] = {
		{ .type = "Create", .object_type = "Manifest", .path = "m", .version = 3,
		  .end_time = "2026-01-01T00:00:00.000Z" },
		{ .type = "Create", .object_type = "Manifest", .path = "m", .version = 2,
		  .end_time = "2026-01-01T00:00:00.000Z" },
	};
	struct db_resource_state st = { .path = "m", .type = "Manifest", .fingerprint = "f",
					.content = "c" };
	struct db_activity_batch b = { .activities = acts, .activity_count = 2, .states = &st,
				       .state_count = 1 };
	CHECK(db_activity_append(db, &b, &err) == 0, "append: %s", err.msg);
	CHECK(db_activity_append(db, &b, &err) == 0, "append again: %s", err.msg);
	int64_t n = 0;
	CHECK(db_activity_count(db, &n, &err) == 0 && n == 4, "count %lld", (long long)n);
	struct db_activity *items;
	size_t got;
	CHECK(db_activity_range(db, 1, 10, &items, &got, &err) == 0 && got == 3, "range");
	CHECK_INT(items[0].index, 1, "first index");
	CHECK_INT(items[2].version, 2, "version");
	db_activity_list_free(items, got);
	struct db_activity bad = { .type = "Create", .path = "m" };
	struct db_activity_batch bb = { .activities = &bad, .activity_count = 1 };
	CHECK(db_activity_append(db, &bb, &err) < 0, "an incomplete activity is refused");
	CHECK(db_activity_mark(db, "m", &err) == 0 && db_activity_mark(db, "nope", &err) == 0,
	      "mark");
	db_close(db);
	g_free(path);
	rm_tree(dir);
}

static struct discovery_resource *find(struct discovery_scan *s, const char *path)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->items[i].path, path) == 0)
			return &s->items[i];
	return NULL;
}

static void test_scan(void)
{
	char *root = tmp_dir();
	touch(root, "books/b1/p1.png", "x");
	touch(root, "books/b1/p2.png", "yy");
	touch(root, "loose.png", "zzz");
	touch(root, "loose.png.yml", "label: L\n");
	struct discovery_scan a, b;
	struct iiifd_error err = { 0 };
	CHECK(discovery_scan_tree(root, &a, &err) == 0, "scan: %s", err.msg);
	CHECK_INT(a.count, 4, "root, books, b1, loose.png");
	CHECK(find(&a, "") && find(&a, "")->collection, "the root is a Collection");
	CHECK(find(&a, "books/b1") && find(&a, "books/b1")->is_folder, "a folder Manifest");
	CHECK(find(&a, "loose.png") && !find(&a, "loose.png")->is_folder, "a file Manifest");
	char *from = g_build_filename(root, "books/b1", NULL), *to = g_build_filename(root, "books/b2", NULL);
	char *f1 = g_build_filename(root, "loose.png", NULL), *f2 = g_build_filename(root, "l2.png", NULL);
	char *s1 = g_build_filename(root, "loose.png.yml", NULL), *s2 = g_build_filename(root, "l2.png.yml", NULL);
	CHECK(rename(from, to) == 0 && rename(f1, f2) == 0 && rename(s1, s2) == 0, "renames");
	CHECK(discovery_scan_tree(root, &b, &err) == 0, "scan: %s", err.msg);
	CHECK(find(&b, "books/b2") && !strcmp(find(&b, "books/b2")->content,
					      find(&a, "books/b1")->content), "a moved folder keeps its content");
	CHECK(find(&b, "l2.png") && !strcmp(find(&b, "l2.png")->content,
					    find(&a, "loose.png")->content), "a moved file keeps its content");
	CHECK(strcmp(find(&b, "books")->fingerprint, find(&a, "books")->fingerprint) != 0,
	      "the parent's document changed");
	discovery_scan_release(&a);
	discovery_scan_release(&b);
	g_free(from); g_free(to); g_free(f1); g_free(f2); g_free(s1); g_free(s2);
	rm_tree(root);
}

/* The types of activities index from.. as "Create:path,..." (v3 only). */
static char *types_since(struct db *db, int64_t from)
{
	struct iiifd_error err = { 0 };
	struct db_activity *items;
	size_t n;
	GString *out = g_string_new(NULL);
	if (db_activity_range(db, from, 1000, &items, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (items[i].version != 2)
				g_string_append_printf(out, "%s%s:%s%s%s", out->len ? "," : "", items[i].type,
						       items[i].path ? items[i].path : "",
						       items[i].target_path ? ">" : "",
						       items[i].target_path ? items[i].target_path : "");
		db_activity_list_free(items, n);
	}
	return g_string_free(out, FALSE);
}

static void sync_expect(struct db *db, const char *root, const char *lock, bool refresh,
			const char *want, const char *what)
{
	struct discovery_sync_result res;
	struct iiifd_error err = { 0 };
	int64_t before = 0;
	db_activity_count(db, &before, &err);
	CHECK(discovery_log_sync(db, root, lock, refresh, &res, &err) == 0, "%s: %s", what, err.msg);
	char *got = types_since(db, before);
	CHECK_STR(got, want, what);
	g_free(got);
}

static void test_sync(void)
{
	char *root = tmp_dir(), *data = tmp_dir();
	char *path = g_build_filename(data, "a.sqlite", NULL), *lock = g_build_filename(data, "l", NULL);
	struct db *db = NULL;
	struct iiifd_error err = { 0 };
	CHECK(db_open(path, &db, &err) == 0, "open: %s", err.msg);
	touch(root, "c/m1/p.png", "1");
	touch(root, "c/m2/p.png", "22");
	sync_expect(db, root, lock, false, "Create:,Create:c,Create:c/m1,Create:c/m2", "first sync");
	sync_expect(db, root, lock, false, "", "nothing changed: nothing recorded");
	touch(root, "c/m1/p.png", "changed");
	sync_expect(db, root, lock, false, "Update:,Update:c,Update:c/m1", "an edit (the Collections above show its thumbnail)");
	char *from = g_build_filename(root, "c/m2", NULL), *to = g_build_filename(root, "c/m3", NULL);
	CHECK(rename(from, to) == 0, "rename");
	sync_expect(db, root, lock, false, "Update:,Update:c,Move:c/m2>c/m3", "a move");
	db_activity_mark(db, "c/m3", &err);
	sync_expect(db, root, lock, false, "Update:c/m3", "a marked Manifest");
	sync_expect(db, root, lock, false, "", "marked once, reported once");
	/* the store marks a write-API change in the same transaction (no call needed) */
	struct anno_record rec = { .manifest = g_strdup("c/m3"), .target_file = g_strdup("c/m3/p.png"),
				   .motivation = g_strdup("commenting"), .text = g_strdup("a note") };
	CHECK(db_insert(db, &rec, &err) == 0, "insert: %s", err.msg);
	sync_expect(db, root, lock, false, "Update:c/m3", "a write-API insert");
	CHECK(db_delete(db, rec.id, &err) == 0, "delete: %s", err.msg);
	sync_expect(db, root, lock, false, "Update:c/m3", "a write-API delete");
	anno_record_release(&rec);
	char *m1 = g_build_filename(root, "c/m1/p.png", NULL), *m1d = g_build_filename(root, "c/m1", NULL);
	g_unlink(m1);
	g_rmdir(m1d);
	sync_expect(db, root, lock, false, "Update:,Update:c,Delete:c/m1", "a delete");
	sync_expect(db, root, lock, true, "Refresh:,Update:,Update:c,Update:c/m3", "a refresh");
	db_close(db);
	g_free(from); g_free(to); g_free(m1); g_free(m1d); g_free(path); g_free(lock);
	rm_tree(root);
	rm_tree(data);
}

/* Imports one line (and with words, a word of it) from source onto c/m's page; ok: commits. */
static void import_lines(struct db *db, const char *text, bool words, bool ok)
{
	struct db_import *imp = NULL;
	struct iiifd_error err = { 0 };
	CHECK(db_import_begin(db, "c/m/p.xml", &imp, &err) == 0, "import: %s", err.msg);
	struct anno_list list = { 0 };
	for (int i = 0; i < (words ? 2 : 1); i++) {
		struct anno_record *r = anno_list_add(&list);
		*r = (struct anno_record){ .manifest = g_strdup("c/m"), .target_file = g_strdup("c/m/p.png"),
					   .motivation = g_strdup("supplementing"), .text = g_strdup(text),
					   .granularity = g_strdup(i ? "word" : "line"),
					   .source = g_strdup("c/m/p.xml") };
	}
	CHECK(db_import_add(imp, &list, &err) == 0, "import add: %s", err.msg);
	anno_list_release(&list);
	CHECK(db_import_end(imp, ok, "v", &err) == 0 || !ok, "import end: %s", err.msg);
}

/*
 * An import marks the Manifests whose listed pages it changed, not the others: a replaced OCR
 * file that lists the same pages is the scan's Update (of the file), not a second one.
 */
static void test_import_marks(void)
{
	char *root = tmp_dir(), *data = tmp_dir();
	char *path = g_build_filename(data, "a.sqlite", NULL), *lock = g_build_filename(data, "l", NULL);
	struct db *db = NULL;
	struct iiifd_error err = { 0 };
	CHECK(db_open(path, &db, &err) == 0, "open: %s", err.msg);
	touch(root, "c/m/p.png", "1");
	touch(root, "c/n/p.png", "2");
	sync_expect(db, root, lock, false, "Create:,Create:c,Create:c/m,Create:c/n", "first sync");
	import_lines(db, "zebra", false, true);
	sync_expect(db, root, lock, false, "Update:c/m", "a first import: the Canvas lists a page");
	import_lines(db, "okapi", false, true);
	sync_expect(db, root, lock, false, "", "a re-import listing the same pages");
	import_lines(db, "okapi", true, true);
	sync_expect(db, root, lock, false, "Update:c/m", "a re-import adding the word level");
	import_lines(db, "gnu", false, false);
	sync_expect(db, root, lock, false, "", "an import rolled back");
	import_lines(db, "gnu", false, true);
	sync_expect(db, root, lock, false, "Update:c/m", "a re-import without the word level");
	db_close(db);
	g_free(path);
	g_free(lock);
	rm_tree(root);
	rm_tree(data);
}

int main(void)
{
	UNIT_RUN(test_parse);
	UNIT_RUN(test_documents);
	UNIT_RUN(test_store);
	UNIT_RUN(test_scan);
	UNIT_RUN(test_sync);
	UNIT_RUN(test_import_marks);
	return unit_report("discovery");
}
