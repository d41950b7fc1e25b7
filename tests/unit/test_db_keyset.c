/*
 * test_db_keyset.c: db_search in keyset mode (a search without q pages by record key, never
 * counting or skipping) and db_search_count, which gives the total such a search leaves out.
 */
#include "db_fixtures.h"

/* 30 line records and 30 word records over two manifests. */
static struct db *test_keyset_store(char *path, size_t n)
{
	struct db *db = test_open(path, n);
	struct anno_list list = {0};
	struct iiifd_error err = {0};
	for (int i = 0; i < 30; i++) {
		const char *m = i % 3 ? "a" : "b";
		char t[32];
		snprintf(t, sizeof t, "%s/%d.jpg", m, i % 4);
		test_add(&list, m, t, 0, i % 5 ? "supplementing" : "commenting", "keyset text",
			 "line", 30 - i);
		test_add(&list, m, t, 0, "supplementing", "keyset", "word", 30 - i);
	}
	CHECK(db_replace_source(db, "k.csv", &list, &err) == 0, "import: %s", err.msg);
	anno_list_release(&list);
	return db;
}

/* Follows next_after from the start in pages of size; returns the records visited. */
static int64_t test_walk(struct db *db, struct db_query q, int64_t size, struct anno_list *all)
{
	struct iiifd_error err = {0};
	int64_t total = 0, end = 0, pages = 0;
	q.keyset = true;
	q.limit = size;
	q.next_after = &end;
	for (q.after = 0;; q.after = end) {
		struct anno_list page = {0};
		CHECK(db_search(db, &q, &page, &total, &err) == 0, "keyset page: %s", err.msg);
		CHECK_INT(total, -1, "a keyset page counts nothing");
		CHECK((int64_t)page.count <= size, "page of at most %lld", (long long)size);
		for (size_t i = 0; i < page.count; i++) {
			struct anno_record *r = anno_list_add(all);
			*r = page.items[i];
			memset(&page.items[i], 0, sizeof page.items[i]);
		}
		bool last = (int64_t)page.count < size;
		anno_list_release(&page);
		if (last || ++pages > 100)
			break;
		CHECK(end > q.after, "next_after moves forward");
	}
	return (int64_t)all->count;
}

static void test_keyset_visits_each_once(void)
{
	char path[256];
	struct db *db = test_keyset_store(path, sizeof path);
	struct iiifd_error err = {0};
	static const char *const commenting[] = {"commenting", NULL};
	struct {
		struct db_query q;
		int64_t want;
	} cases[] = {
		{{.scope = ""}, 30},
		{{.scope = "a"}, 20},
		{{.scope = "a", .scope_is_folder = true}, 20},
		{{.scope = "", .motivations = commenting}, 6},
		{{.scope = "b", .motivations = commenting}, 2},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct anno_list all = {0};
		int64_t total = 0;
		int64_t visited = test_walk(db, cases[c].q, 7, &all);
		CHECK(visited == cases[c].want, "case %zu: visited %lld", c, (long long)visited);
		CHECK(db_search_count(db, &cases[c].q, &total, &err) == 0, "count: %s", err.msg);
		CHECK(total == cases[c].want, "case %zu: db_search_count %lld", c, (long long)total);
		for (size_t i = 0; i < all.count; i++) {
			CHECK(strcmp(all.items[i].granularity, "word") != 0, "no words in search");
			for (size_t j = 0; j < i; j++)
				CHECK(strcmp(all.items[i].id, all.items[j].id) != 0,
				      "case %zu: %s twice", c, all.items[i].id);
		}
		anno_list_release(&all);
	}
	/* a key past the end: an empty page, not an error */
	struct anno_list none = {0};
	int64_t total = 0, end = 5;
	struct db_query q = {.scope = "", .keyset = true, .after = 1000000, .limit = 10,
			     .next_after = &end};
	CHECK(db_search(db, &q, &none, &total, &err) == 0 && none.count == 0 && end == 0,
	      "after the last key: nothing, next_after 0");
	anno_list_release(&none);
	db_close(db);
	test_remove_db(path);
}

/*
 * Numbered pages of a search with q (page_after, page_last): each page started after the
 * last record of the one before gives the same records as the same page by offset. Run before
 * and after ANALYZE: on PostgreSQL, statistics make a common word's page a walk of the
 * searchable records in result order (a rare one gathers its hits first).
 */
static void test_numbered_pages_by_key_match_offsets(void)
{
	char path[256];
	struct db *db = test_keyset_store(path, sizeof path);
	const char *queries[] = { "text", "\"keyset text\"", "keyset" };
	const char *const comments[] = { "commenting", NULL };
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			test_sql_exec(path, "ANALYZE annotations");
			if (test_pg)
				CHECK(test_sql_int(path, "SELECT reltuples::bigint FROM pg_class WHERE"
							 " oid = to_regclass('annotations_hits')") == 30,
				      "ANALYZE counted the searchable records");
		}
		for (int k = 0; k < 4; k++) {
			struct db_query q = { .q = queries[k % 3], .limit = 4,
					      .motivations = k == 3 ? comments : NULL };
			struct anno_list by_offset = { 0 }, by_key = { 0 };
			struct iiifd_error err = { 0 };
			int64_t total = 0, last = 0;
			for (q.offset = 0; q.offset == 0 || q.offset < total; q.offset += q.limit)
				CHECK(db_search(db, &q, &by_offset, &total, &err) == 0, "%s", err.msg);
			CHECK(total == (k == 3 ? 6 : 30), "total of %s: %lld", q.q, (long long)total);
			q.page_last = &last;
			for (q.offset = 0; q.offset == 0 || q.offset < total; q.offset += q.limit) {
				q.page_after = last;
				CHECK(db_search(db, &q, &by_key, &total, &err) == 0, "%s", err.msg);
				CHECK(last > 0, "page_last is set");
			}
			CHECK((int64_t)by_key.count == total, "every hit once by key (%s)", q.q);
			for (size_t i = 0; i < by_key.count && i < by_offset.count; i++)
				CHECK(strcmp(by_key.items[i].id, by_offset.items[i].id) == 0,
				      "round %d, %s: hit %zu by key is hit %zu by offset", round, q.q, i, i);
			anno_list_release(&by_offset);
			anno_list_release(&by_key);
		}
	}
	db_close(db);
}

int main(void)
{
	if (test_setup())
		return 1;
	UNIT_RUN(test_keyset_visits_each_once);
	UNIT_RUN(test_numbered_pages_by_key_match_offsets);
	rmdir(test_dir);
	return unit_report("db_keyset");
}
