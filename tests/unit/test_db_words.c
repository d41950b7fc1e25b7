/*
 * test_db_words.c: OCR words of imported lines, which the PostgreSQL store keeps one row per
 * line (pg_runs.c) and SQLite one row per word: both must list, page, count, find, change and
 * delete every word as if each were a row of its own, also where two sources' words interleave
 * on one Canvas and where a page of words starts inside a line.
 */
#include "db_fixtures.h"

#include <glib.h>

#define TARGET "m/p.jpg"

/* A line at seq `seq` and its words at the seqs given (in list order), with fields to keep. */
static void test_line(struct anno_list *list, int64_t seq, const int64_t *word_seqs, size_t n,
		      const char *tag)
{
	size_t line_index = list->count;
	test_add(list, "m", TARGET, 0, "supplementing", tag, "line", seq);
	char ref[32];
	snprintf(ref, sizeof ref, "#%zu", line_index);
	for (size_t i = 0; i < n; i++) {
		char text[64];
		snprintf(text, sizeof text, "%s-%lld", tag, (long long)word_seqs[i]);
		struct anno_record *w = test_add(list, "m", TARGET, 0, "supplementing", text, "word",
						 word_seqs[i]);
		w->line_id = anno_strdup(ref);
		w->has_xywh = true, w->x = (double)word_seqs[i] + 0.25, w->y = 7, w->w = 3.5;
		w->h = 1.0 / 3;
		if (i % 2)
			w->has_score = true, w->score = 0.125 * (double)i;
		if (i == 1)
			w->language = anno_strdup("fr");
	}
}

/*
 * Source a: two lines (words listed out of reading order); source b: a line whose words'
 * seqs fall between a's, and one whose words share a seq; plus a word
 * written through the API and a line record (not a word) of the words' page.
 */
static struct db *test_words_store(char *path, size_t n, size_t *words)
{
	struct db *db = test_open(path, n);
	struct anno_list a = {0}, b = {0};
	struct iiifd_error err = {0};
	test_line(&a, 10, (const int64_t[]){ 13, 11, 12, 14, 15 }, 5, "a0");
	test_line(&a, 20, (const int64_t[]){ 21, 22, 23 }, 3, "a1");
	struct anno_record *odd = &a.items[a.count - 1];
	free(odd->text);
	odd->text = anno_strdup("tab\there\nnew \\N line \\ back");
	odd->has_time = true, odd->start = 1.5, odd->end = 2.25;
	odd->polygon = anno_strdup("1,2 3,4 5,6");
	test_line(&b, 11, (const int64_t[]){ 12, 14, 16, 18 }, 4, "b0");
	test_line(&b, 30, (const int64_t[]){ 31, 31, 32 }, 3, "b1");
	CHECK(db_replace_source(db, "m/a.xml", &a, &err) == 0, "import a: %s", err.msg);
	CHECK(db_replace_source(db, "m/b.xml", &b, &err) == 0, "import b: %s", err.msg);
	for (size_t i = 0; i < a.count; i++)
		if (a.items[i].line_id) {
			char prefix[80];
			snprintf(prefix, sizeof prefix, "%s.", a.items[i].line_id);
			CHECK(strncmp(a.items[i].id, prefix, strlen(prefix)) == 0,
			      "word id %s is its line's id and a number", a.items[i].id);
		}
	struct anno_record api = {0};
	api.target_file = anno_strdup(TARGET);
	api.motivation = anno_strdup("supplementing");
	api.granularity = anno_strdup("word");
	api.text = anno_strdup("api word");
	api.seq = 13;
	CHECK(db_insert(db, &api, &err) == 0, "api word: %s", err.msg);
	anno_record_release(&api);
	*words = 5 + 3 + 4 + 3 + 1;
	anno_list_release(&a);
	anno_list_release(&b);
	return db;
}

/* Every word of the Canvas one page of `size` at a time, with the key after each record. */
static size_t test_pages(struct db *db, int64_t size, struct anno_list *all,
			 struct db_cursor *keys, size_t max)
{
	struct db_cursor at = { 0, 0 };
	struct iiifd_error err = {0};
	for (int guard = 0; guard < 100; guard++) {
		struct anno_list page = {0};
		struct db_cursor before = at;
		CHECK(db_list_target_after(db, TARGET, 0, DB_PAGE_WORDS, &at, size, &page, &err) == 0,
		      "page: %s", err.msg);
		CHECK(size < 0 || (int64_t)page.count <= size, "at most %lld", (long long)size);
		if (!page.count) {
			CHECK(at.seq == before.seq && at.rowid == before.rowid, "cursor kept at end");
			break;
		}
		for (size_t i = 0; i < page.count; i++) {
			if (all->count < max && keys && i == page.count - 1)
				keys[all->count] = at;
			struct anno_record *r = anno_list_add(all);
			*r = page.items[i];
			memset(&page.items[i], 0, sizeof page.items[i]);
		}
		anno_list_release(&page);
	}
	return all->count;
}

static void test_words_page_in_order(void)
{
	char path[256];
	size_t words;
	struct db *db = test_words_store(path, sizeof path, &words);
	struct anno_list whole = {0};
	size_t n = test_pages(db, -1, &whole, NULL, 0);
	CHECK_INT(n, words, "every word once, no line");
	for (size_t i = 1; i < n; i++)
		CHECK(whole.items[i - 1].seq <= whole.items[i].seq, "reading order at %zu", i);
	for (size_t i = 0; i < n; i++)
		CHECK_STR(whole.items[i].granularity, "word", "only words");
	int64_t count = -1;
	struct iiifd_error err = {0};
	CHECK(db_count_target(db, TARGET, 0, DB_PAGE_WORDS, &count, &err) == 0, "count");
	CHECK_INT(count, words, "counted as rows of their own");
	for (int64_t size = 1; size <= 7; size++) {
		struct anno_list paged = {0};
		CHECK(test_pages(db, size, &paged, NULL, 0) == n, "pages of %lld", (long long)size);
		for (size_t i = 0; i < n && i < paged.count; i++)
			CHECK(strcmp(paged.items[i].id, whole.items[i].id) == 0,
			      "pages of %lld, record %zu", (long long)size, i);
		anno_list_release(&paged);
	}
	struct anno_list lines = {0};
	CHECK(db_list_target(db, TARGET, 0, "supplementing", &lines, &err) == 0, "all records");
	CHECK_INT(lines.count, words + 4, "words and lines");
	anno_list_release(&lines);
	if (test_pg)
		CHECK(test_sql_int(path, "SELECT count(*) FROM annotations WHERE more IS NOT NULL") == 4,
		      "each line's words kept in one row");
	anno_list_release(&whole);
	db_close(db);
	test_remove_db(path);
}

static void test_cursor_back_counts_words(void)
{
	char path[256];
	size_t words;
	struct db *db = test_words_store(path, sizeof path, &words);
	struct anno_list all = {0};
	struct db_cursor keys[32];
	size_t n = test_pages(db, 1, &all, keys, 32);
	CHECK_INT(n, words, "pages of one");
	struct iiifd_error err = {0};
	for (size_t p = 0; p < n; p++) {
		for (int64_t back = 0; back <= 6; back++) {
			struct db_cursor out = { -1, -1 };
			bool found = false;
			CHECK(db_cursor_back(db, TARGET, 0, DB_PAGE_WORDS, &keys[p], back, &out, &found,
					     &err) == 0, "back: %s", err.msg);
			bool want = (int64_t)p >= back;
			CHECK(found == want, "from %zu back %lld: found %d", p, (long long)back, found);
			if (found && want)
				CHECK(out.seq == keys[p - (size_t)back].seq &&
					      out.rowid == keys[p - (size_t)back].rowid,
				      "from %zu back %lld", p, (long long)back);
		}
	}
	anno_list_release(&all);
	db_close(db);
	test_remove_db(path);
}

static void test_same_word(const struct anno_record *a, const struct anno_record *b)
{
	CHECK_STR(a->id, b->id, "id");
	CHECK_STR(a->text, b->text, "text");
	CHECK(a->seq == b->seq && a->has_xywh == b->has_xywh && a->x == b->x && a->y == b->y &&
		      a->w == b->w && a->h == b->h, "box and seq of %s", a->id);
	CHECK(a->has_score == b->has_score && a->score == b->score, "score of %s", a->id);
	CHECK(a->has_time == b->has_time && a->start == b->start && a->end == b->end,
	      "times of %s", a->id);
	CHECK_STR(a->language ? a->language : "-", b->language ? b->language : "-", "language");
	CHECK_STR(a->polygon ? a->polygon : "-", b->polygon ? b->polygon : "-", "polygon");
	CHECK_STR(a->line_id ? a->line_id : "-", b->line_id ? b->line_id : "-", "line");
	CHECK_STR(a->source ? a->source : "-", b->source ? b->source : "-", "source");
	CHECK_STR(a->created, b->created, "created");
	CHECK_STR(a->target_file, b->target_file, "target");
}

static void test_each_word_by_id_and_line(void)
{
	char path[256];
	size_t words;
	struct db *db = test_words_store(path, sizeof path, &words);
	struct anno_list all = {0};
	size_t n = test_pages(db, -1, &all, NULL, 0);
	struct iiifd_error err = {0};
	bool odd_seen = false;
	for (size_t i = 0; i < n; i++) {
		struct anno_record got = {0};
		CHECK(db_get(db, all.items[i].id, &got, &err) == 0, "get %s: %s", all.items[i].id,
		      err.msg);
		test_same_word(&got, &all.items[i]);
		odd_seen |= got.text && strstr(got.text, "\\N line") != NULL;
		anno_record_release(&got);
		if (!all.items[i].line_id)
			continue;
		struct anno_list line = {0};
		CHECK(db_line_words(db, all.items[i].line_id, &line, &err) == 0, "line words");
		size_t at = 0;
		while (at < line.count && strcmp(line.items[at].id, all.items[i].id) != 0)
			at++;
		CHECK(at < line.count, "%s among its line's words", all.items[i].id);
		for (size_t j = 1; j < line.count; j++)
			CHECK(line.items[j - 1].seq <= line.items[j].seq, "line in reading order");
		anno_list_release(&line);
	}
	CHECK(odd_seen, "text with tab, newline and backslashes kept");
	struct anno_record none = {0};
	char missing[128];
	snprintf(missing, sizeof missing, "%s.99", all.items[0].line_id);
	CHECK(db_get(db, missing, &none, &err) == -1 && err.http_status == 404, "no word 99");
	CHECK(db_get(db, "nope.1", &none, &err) == -1 && err.http_status == 404, "no line");
	anno_list_release(&all);
	db_close(db);
	test_remove_db(path);
}

static size_t test_find(const struct anno_list *all, const char *text)
{
	size_t i = 0;
	while (i < all->count && !(all->items[i].text && strcmp(all->items[i].text, text) == 0))
		i++;
	return i;
}

/* The ids of the Canvas's words, in order, joined by spaces (g_free). */
static char *test_order(struct db *db)
{
	struct anno_list all = {0};
	test_pages(db, -1, &all, NULL, 0);
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < all.count; i++)
		g_string_append_printf(s, "%s ", all.items[i].id);
	anno_list_release(&all);
	return g_string_free(s, FALSE);
}

static void test_change_one_word_of_a_line(void)
{
	char path[256];
	size_t words;
	struct db *db = test_words_store(path, sizeof path, &words);
	struct anno_list all = {0};
	test_pages(db, -1, &all, NULL, 0);
	char *before = test_order(db);
	struct iiifd_error err = {0};
	/* a0's words at seq 12 and 14, inside their line's run */
	size_t k = test_find(&all, "a0-12"), other = test_find(&all, "a0-14");
	CHECK(k < all.count && other < all.count, "a0-12 and a0-14 listed");
	if (k == all.count || other == all.count)
		return;
	struct anno_record rec = {0}, got = {0};
	CHECK(db_get(db, all.items[k].id, &rec, &err) == 0, "get");
	free(rec.text);
	rec.text = anno_strdup("changed");
	CHECK(db_update(db, &rec, &err) == 0, "update a word of a run: %s", err.msg);
	CHECK(db_get(db, rec.id, &got, &err) == 0 && strcmp(got.text, "changed") == 0,
	      "the change is read back");
	anno_record_release(&got);
	char *after = test_order(db);
	CHECK_STR(after, before, "same words in the same order");
	g_free(after);
	for (size_t i = 0; i < all.count; i++) {
		if (i == k)
			continue;
		CHECK(db_get(db, all.items[i].id, &got, &err) == 0, "others kept");
		test_same_word(&got, &all.items[i]);
		anno_record_release(&got);
	}
	/* delete another word of the same line */
	CHECK(db_delete(db, all.items[other].id, &err) == 0, "delete: %s", err.msg);
	CHECK(db_get(db, all.items[other].id, &got, &err) == -1 && err.http_status == 404,
	      "deleted");
	int64_t count = 0;
	CHECK(db_count_target(db, TARGET, 0, DB_PAGE_WORDS, &count, &err) == 0 &&
		      count == (int64_t)words - 1, "one word fewer");
	struct anno_list line = {0};
	CHECK(db_line_words(db, rec.line_id, &line, &err) == 0 && line.count == 4,
	      "its line has four words left");
	anno_list_release(&line);
	anno_record_release(&rec);
	g_free(before);
	anno_list_release(&all);
	db_close(db);
	test_remove_db(path);
}

/*
 * A store from before runs (PostgreSQL schema 5: one row per word, ids of any form) opened by
 * this version: migrated in place, its word rows read as they are next to the runs of a later
 * import, and one of them changed. On SQLite every word is a row: the same checks hold.
 */
static void test_rows_from_before_runs(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	db_close(db);
	const char *old_rows =
		"INSERT INTO annotations (id, manifest, target_file, page, motivation, text,"
		" granularity, seq, line_id, source, created) VALUES"
		" ('old-line', 'm', '" TARGET "', 0, 'supplementing', 'old line', 'line', 100, NULL,"
		" 'm/old.xml', '2026-01-01T00:00:00Z'),"
		" ('old-w1', 'm', '" TARGET "', 0, 'supplementing', 'old', 'word', 101, 'old-line',"
		" 'm/old.xml', '2026-01-01T00:00:00Z'),"
		" ('old-w2', 'm', '" TARGET "', 0, 'supplementing', 'line', 'word', 102, 'old-line',"
		" 'm/old.xml', '2026-01-01T00:00:00Z')";
	if (test_pg) /* back to schema 5, as an older iiifd left it */
		CHECK(test_sql_exec(path, "DROP INDEX annotations_runs; ALTER TABLE annotations"
					  " DROP COLUMN more, DROP COLUMN more_count, DROP COLUMN"
					  " last_seq; DROP INDEX tokens_term; CREATE INDEX tokens_term"
					  " ON tokens (term, anno, pos); UPDATE iiifd_schema SET"
					  " version = 5") == SQLITE_OK, "schema 5");
	CHECK(test_sql_exec(path, old_rows) == SQLITE_OK, "rows of an older version");
	db = test_reopen(path);
	if (test_pg)
		CHECK_INT(test_sql_int(path, "SELECT version FROM iiifd_schema"), 7, "migrated");
	struct anno_list list = {0}, all = {0}, line = {0};
	struct iiifd_error err = {0};
	test_line(&list, 10, (const int64_t[]){ 11, 12, 13 }, 3, "new");
	CHECK(db_replace_source(db, "m/new.xml", &list, &err) == 0, "import: %s", err.msg);
	CHECK_INT(test_pages(db, 2, &all, NULL, 0), 5, "old and new words, in pages of 2");
	const char *want[] = { "new-11", "new-12", "new-13", "old", "line" };
	for (size_t i = 0; i < all.count && i < 5; i++)
		CHECK_STR(all.items[i].text, want[i], "reading order");
	CHECK(db_line_words(db, "old-line", &line, &err) == 0 && line.count == 2, "old line's words");
	struct anno_record rec = {0};
	CHECK(db_get(db, "old-w2", &rec, &err) == 0, "old word by id: %s", err.msg);
	free(rec.text);
	rec.text = anno_strdup("changed");
	CHECK(db_update(db, &rec, &err) == 0, "old word updated: %s", err.msg);
	anno_record_release(&rec);
	CHECK(db_get(db, "old-w2", &rec, &err) == 0 && strcmp(rec.text, "changed") == 0, "read back");
	anno_record_release(&rec);
	anno_list_release(&line);
	anno_list_release(&all);
	anno_list_release(&list);
	db_close(db);
	test_remove_db(path);
}

int main(void)
{
	if (test_setup())
		return 1;
	UNIT_RUN(test_words_page_in_order);
	UNIT_RUN(test_cursor_back_counts_words);
	UNIT_RUN(test_each_word_by_id_and_line);
	UNIT_RUN(test_change_one_word_of_a_line);
	UNIT_RUN(test_rows_from_before_runs);
	rmdir(test_dir);
	return unit_report("db_words");
}
