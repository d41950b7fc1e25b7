/*
 * test_db.c: the annotation store (src/db) against real SQLite files in a temporary folder:
 * folding, round trips of every function, search (text, filters, scopes, paging), autocomplete.
 * Concurrency, a killed import and the import rate are in test_db_load.c.
 */
#include "db_fixtures.h"

/* ---- folding ------------------------------------------------------------------------------- */

static void test_fold(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"Hello World", "hello world"},
		{"Café", "cafe"},
		{"CAFÉ", "cafe"},
		{"cafe\xcc\x81", "cafe"}, /* decomposed é */
		{"naïve Æsop Straße", "naive æsop straße"},
		{"ÉCOLE ŒUVRE", "ecole œuvre"},
		{"İstanbul", "istanbul"},
		{"한국어", "한국어"}, /* Hangul stays composed */
		{"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = db_fold(cases[i].in);
		CHECK(got && strcmp(got, cases[i].want) == 0, "fold '%s': got '%s', want '%s'",
		      cases[i].in, got ? got : "(null)", cases[i].want);
		free(got);
	}
	CHECK(db_fold("bad \xff utf8") == NULL, "invalid UTF-8 folds to NULL");
	CHECK(db_fold(NULL) == NULL, "NULL folds to NULL");
}

/* Appends "term|", or "term<form>|" when the term has a form. */
static int test_collect_term(const char *term, size_t len, const char *form, size_t form_len,
			     void *ctx)
{
	char *out = ctx;
	strncat(out, term, len);
	if (form) {
		strcat(out, "<");
		strncat(out, form, form_len);
		strcat(out, ">");
	}
	strcat(out, "|");
	return 0;
}

static void test_fold_terms(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* ASCII: case is not a form */
		{"Hello, World! 42x", "hello|world|42x|"},
		{"Ünïcödé — déjà-vu", "unicode<Ünïcödé>|deja<déjà>|vu|"},
		{"  ...  ", ""},
		{"a", "a|"},
		/* longer than DB_TERM_MAX: skipped */
		{"short aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa end",
		 "short|end|"},
		{"l'été", "l|ete<été>|"},
		/* decomposed input: the mark belongs to its word, the form is composed */
		{"Cafe\xcc\x81 noir", "cafe<Café>|noir|"},
		/* only the case changes: no form, in any script */
		{"Москва Ship", "москва|ship|"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char got[256] = "";
		int rc = db_fold_terms(cases[i].in, test_collect_term, got);
		CHECK(rc == 0 && strcmp(got, cases[i].want) == 0, "terms '%s': got '%s', want '%s'",
		      cases[i].in, got, cases[i].want);
	}
	char got[64] = "";
	CHECK(db_fold_terms("x \xc3", test_collect_term, got) == -1, "invalid UTF-8: -1");
}

/* ---- schema, open -------------------------------------------------------------------------- */

/* PostgreSQL: the schema version, tables and indexes; migrations run once. */
static void test_open_schema_pg(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	db_close(db);
	CHECK_INT(test_sql_int(path, "SELECT version FROM iiifd_schema"), 7, "schema version");
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM pg_class WHERE relnamespace ="
				     " current_schema()::regnamespace AND relname IN ('annotations',"
				     " 'tokens', 'terms', 'sources', 'annotations_target',"
				     " 'annotations_source', 'annotations_manifest',"
				     " 'annotations_line', 'tokens_term', 'tokens_anno',"
				     " 'activities', 'activity_state', 'annotations_runs')"),
		  13, "tables and indexes");
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM pg_roles WHERE rolname = current_user"
				     " AND NOT rolsuper"), 1, "not a superuser");
	db = test_reopen(path);
	db_close(db);
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM iiifd_schema"), 1, "one version row");
	CHECK_INT(test_sql_int(path, "SELECT version FROM iiifd_schema"), 7, "after reopen");
}

static void test_open_schema(void)
{
	char path[256];
	if (test_pg) {
		test_open_schema_pg();
		return;
	}
	struct db *db = test_open(path, sizeof path);
	db_close(db);
	int64_t version = test_sql_int(path, "PRAGMA user_version");
	CHECK(version >= 2, "user_version %lld: every migration applied", (long long)version);
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN"
				     " ('activities', 'activity_state')"), 2, "activity log tables");
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN"
				     " ('annotations', 'annotations_fts', 'terms', 'sources',"
				     " 'annotations_target', 'annotations_source',"
				     " 'annotations_manifest', 'annotations_line', 'term_forms')"),
		  9, "tables and indexes");
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name ="
				     " 'annotations_fts' AND sql LIKE '%remove_diacritics 2%'"),
		  1, "fts tokenizer");
	char mode[16] = "";
	sqlite3 *h;
	sqlite3_stmt *stmt;
	sqlite3_open(path, &h);
	sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &stmt, NULL);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		snprintf(mode, sizeof mode, "%s", sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(h);
	CHECK_STR(mode, "wal", "journal mode");
	/* reopening does not migrate twice */
	db = test_reopen(path);
	db_close(db);
	CHECK_INT(test_sql_int(path, "PRAGMA user_version"), version, "user_version after reopen");
	test_remove_db(path);
}

static void test_open_errors(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	db_close(db);
	CHECK_INT(test_sql_exec(path, test_pg ? "UPDATE iiifd_schema SET version = 99"
					      : "PRAGMA user_version = 99"), SQLITE_OK, "set version");
	struct iiifd_error err = {0};
	db = NULL;
	CHECK(db_open(path, &db, &err) == -1 && !db, "newer schema refused");
	CHECK_INT(err.http_status, 500, "newer schema status");
	CHECK(strstr(err.msg, "newer") != NULL, "newer schema message: %s", err.msg);
	test_remove_db(path);

	static const char *const bad[] = {"/nonexistent-dir/x/y.sqlite", ":memory:", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		db = NULL;
		CHECK(db_open(bad[i], &db, &err) == -1 && !db, "open '%s' fails", bad[i]);
		CHECK_INT(err.http_status, 500, bad[i]);
		CHECK(!*bad[i] || strstr(err.msg, bad[i]), "message names the location: %s",
		      err.msg);
	}
	/* a PostgreSQL server that is not there: 503 (try again), naming host and port */
	memset(&err, 0, sizeof err);
	db = NULL;
	CHECK(db_open("postgresql://iiifd@127.0.0.1:1/iiifd?connect_timeout=2", &db, &err) == -1 &&
	      !db, "unreachable PostgreSQL fails");
	CHECK_INT(err.http_status, 503, "unreachable PostgreSQL");
	CHECK(strstr(err.msg, "127.0.0.1") && strstr(err.msg, ":1"), "names the server: %s",
	      err.msg);
	db_close(NULL);
}

/* ---- single records ------------------------------------------------------------------------ */

static void test_fill_full(struct anno_record *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->manifest = anno_strdup("books/b1");
	rec->target_file = anno_strdup("books/b1/p1.jpg");
	rec->page = 2;
	rec->motivation = anno_strdup("commenting");
	rec->text = anno_strdup("Remarkable café illumination");
	rec->language = anno_strdup("en");
	rec->granularity = anno_strdup("paragraph");
	rec->has_xywh = true;
	rec->x = 1.5, rec->y = 2, rec->w = 300, rec->h = 40.25;
	rec->has_time = true;
	rec->start = 3.5, rec->end = 7;
	rec->has_score = true;
	rec->score = 0.875;
	rec->creator = anno_strdup("https://example.org/alice");
	rec->generator = anno_strdup("iiifd-test");
	rec->seq = 17;
}

static void test_check_same(const struct anno_record *a, const struct anno_record *b)
{
	CHECK_STR(b->id, a->id, "id");
	CHECK_STR(b->manifest, a->manifest, "manifest");
	CHECK_STR(b->target_file, a->target_file, "target_file");
	CHECK_INT(b->page, a->page, "page");
	CHECK_STR(b->motivation, a->motivation, "motivation");
	CHECK_STR(b->text, a->text, "text");
	CHECK_STR(b->language, a->language, "language");
	CHECK_STR(b->granularity, a->granularity, "granularity");
	CHECK(b->has_xywh && b->x == a->x && b->y == a->y && b->w == a->w && b->h == a->h,
	      "xywh %g,%g,%g,%g", b->x, b->y, b->w, b->h);
	CHECK(b->has_time && b->start == a->start && b->end == a->end, "time");
	CHECK(b->has_score && b->score == a->score, "score");
	CHECK_STR(b->creator, a->creator, "creator");
	CHECK_STR(b->generator, a->generator, "generator");
	CHECK(b->source == NULL, "API records have no source");
	CHECK_STR(b->created, a->created, "created");
	CHECK_INT(b->seq, a->seq, "seq");
	CHECK(b->line_id == NULL, "no line_id");
}

static void test_insert_get(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_record rec, got;
	struct iiifd_error err = {0};
	test_fill_full(&rec);
	CHECK(db_insert(db, &rec, &err) == 0, "insert: %s", err.msg);
	CHECK(rec.id && strlen(rec.id) == 32 && strspn(rec.id, "0123456789abcdef") == 32,
	      "id is 128-bit hex: %s", rec.id ? rec.id : "(null)");
	CHECK(rec.created && db_is_timestamp(rec.created, strlen(rec.created)), "created set");
	CHECK(db_get(db, rec.id, &got, &err) == 0, "get: %s", err.msg);
	test_check_same(&rec, &got);
	anno_record_release(&got);

	/* a minimal record: absent numbers stay absent */
	struct anno_record min = {0};
	min.target_file = anno_strdup("x.jpg");
	min.motivation = anno_strdup("tagging");
	CHECK(db_insert(db, &min, &err) == 0, "insert minimal: %s", err.msg);
	CHECK(db_get(db, min.id, &got, &err) == 0, "get minimal: %s", err.msg);
	CHECK(!got.has_xywh && !got.has_time && !got.has_score && !got.text && !got.manifest,
	      "absent fields stay absent");
	CHECK(strcmp(rec.id, min.id) != 0, "ids differ");
	anno_record_release(&got);
	anno_record_release(&min);

	memset(&err, 0, sizeof err);
	CHECK(db_get(db, "0123456789abcdef0123456789abcdef", &got, &err) == -1, "unknown id");
	CHECK_INT(err.http_status, 404, "get unknown");
	struct anno_record bad = {0};
	bad.target_file = anno_strdup("x.jpg");
	CHECK(db_insert(db, &bad, &err) == -1 && err.http_status == 400, "no motivation: 400");
	bad.motivation = anno_strdup("tagging");
	bad.created = anno_strdup("yesterday");
	CHECK(db_insert(db, &bad, &err) == -1 && err.http_status == 400, "bad created: 400");
	anno_record_release(&bad);
	anno_record_release(&rec);
	db_close(db);
	test_remove_db(path);
}

static void test_update_delete(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_record rec, got;
	struct iiifd_error err = {0};
	test_fill_full(&rec);
	db_insert(db, &rec, &err);
	CHECK_INT(test_total(db, "", false, "illumination"), 1, "found before update");
	CHECK_INT(test_term_count(path, "books/b1", "illumination"), 1, "term before update");

	free(rec.text);
	rec.text = anno_strdup("A different gloss");
	char *created = rec.created;
	rec.created = NULL; /* keeps the stored one */
	CHECK(db_update(db, &rec, &err) == 0, "update: %s", err.msg);
	rec.created = created;
	CHECK(db_get(db, rec.id, &got, &err) == 0, "get after update: %s", err.msg);
	test_check_same(&rec, &got);
	anno_record_release(&got);
	CHECK_INT(test_total(db, "", false, "illumination"), 0, "old text gone from search");
	CHECK_INT(test_total(db, "", false, "gloss"), 1, "new text searchable");
	CHECK_INT(test_term_count(path, "books/b1", "illumination"), 0, "old term gone");
	CHECK_INT(test_term_count(path, "books/b1", "gloss"), 1, "new term counted");
	test_fts_ok(path, "after update");

	/* turning it into a word takes it out of search and terms */
	free(rec.granularity);
	rec.granularity = anno_strdup("word");
	CHECK(db_update(db, &rec, &err) == 0, "update to word: %s", err.msg);
	CHECK_INT(test_total(db, "", false, "gloss"), 0, "word not searchable");
	CHECK_INT(test_term_count(path, "books/b1", "gloss"), 0, "word not counted");
	free(rec.granularity);
	rec.granularity = anno_strdup("line");
	CHECK(db_update(db, &rec, &err) == 0, "update back: %s", err.msg);
	CHECK_INT(test_total(db, "", false, "gloss"), 1, "line searchable again");

	CHECK(db_delete(db, rec.id, &err) == 0, "delete: %s", err.msg);
	CHECK(db_get(db, rec.id, &got, &err) == -1 && err.http_status == 404, "gone");
	CHECK_INT(test_total(db, "", false, "gloss"), 0, "deleted not searchable");
	CHECK_INT(test_term_count(path, "*", "gloss"), 0, "deleted term uncounted");
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM terms"), 0, "no terms left");
	test_fts_ok(path, "after delete");

	memset(&err, 0, sizeof err);
	CHECK(db_delete(db, rec.id, &err) == -1 && err.http_status == 404, "delete twice: 404");
	memset(&err, 0, sizeof err);
	CHECK(db_update(db, &rec, &err) == -1 && err.http_status == 404, "update gone: 404");
	anno_record_release(&rec);
	db_close(db);
	test_remove_db(path);
}

/* ---- imports ------------------------------------------------------------------------------- */

/* Two lines of OCR with their words: line 0 "Quick brown fox", line 4 "lazy Café". */
static void test_ocr_list(struct anno_list *list, const char *manifest, const char *target,
			  const char *first_word)
{
	test_add(list, manifest, target, 0, "supplementing", "Quick brown fox", "line", 0);
	const char *words[] = {first_word, "brown", "fox"};
	for (int i = 0; i < 3; i++) {
		struct anno_record *w = test_add(list, manifest, target, 0, "supplementing",
						 words[i], "word", 1 + i);
		w->line_id = anno_strdup("#0");
	}
	test_add(list, manifest, target, 0, "supplementing", "lazy Café", "line", 4);
	struct anno_record *w = test_add(list, manifest, target, 0, "supplementing", "Café",
					 "word", 6);
	w->line_id = anno_strdup("#4");
	w = test_add(list, manifest, target, 0, "supplementing", "lazy", "word", 5);
	w->line_id = anno_strdup("#4");
}

static void test_replace_basic(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_list list = {0};
	struct iiifd_error err = {0};
	test_ocr_list(&list, "m", "m/p1.jpg", "Quick");
	CHECK(db_replace_source(db, "m/p1.xml", &list, &err) == 0, "import: %s", err.msg);
	for (size_t i = 0; i < list.count; i++)
		CHECK(list.items[i].id && list.items[i].created && list.items[i].source &&
			      strcmp(list.items[i].source, "m/p1.xml") == 0,
		      "record %zu got id, created, source", i);
	CHECK_STR(list.items[1].line_id, list.items[0].id, "#0 rewritten");
	CHECK_STR(list.items[5].line_id, list.items[4].id, "#4 rewritten");
	CHECK_INT(test_source_count(path, "m/p1.xml"), 7, "stored");

	struct anno_list words = {0};
	CHECK(db_line_words(db, list.items[4].id, &words, &err) == 0, "words: %s", err.msg);
	CHECK_INT(words.count, 2, "words of line 4");
	if (words.count == 2) {
		CHECK_STR(words.items[0].text, "lazy", "reading order (seq)");
		CHECK_STR(words.items[1].text, "Café", "reading order (seq)");
		CHECK_STR(words.items[1].line_id, list.items[4].id, "stored line_id");
	}
	anno_list_release(&words);
	CHECK(db_line_words(db, "nope", &words, &err) == 0 && words.count == 0, "no words");

	/* words are never search results; lines are */
	CHECK_INT(test_total(db, "", false, "brown"), 1, "only the line matches");
	CHECK_INT(test_total(db, "", false, ""), 2, "empty q: both lines, no words");
	CHECK_INT(test_term_count(path, "m", "brown"), 1, "terms from lines only");
	CHECK_INT(test_term_count(path, "m", "cafe"), 1, "folded term");
	anno_list_release(&list);
	db_close(db);
	test_remove_db(path);
}

static void test_replace_again(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_list a = {0}, a2 = {0}, b = {0}, other = {0};
	struct iiifd_error err = {0};
	test_ocr_list(&a, "m", "m/p1.jpg", "Quick");
	test_ocr_list(&a2, "m", "m/p1.jpg", "Quick");
	test_ocr_list(&other, "m", "m/p2.jpg", "Quick");
	CHECK(db_replace_source(db, "m/p2.xml", &other, &err) == 0, "other: %s", err.msg);
	CHECK(db_replace_source(db, "m/p1.xml", &a, &err) == 0, "first: %s", err.msg);
	CHECK(db_replace_source(db, "m/p1.xml", &a2, &err) == 0, "same again: %s", err.msg);
	CHECK_INT(test_source_count(path, "m/p1.xml"), 7, "no duplicates on re-import");
	CHECK_INT(test_term_count(path, "m", "brown"), 2, "terms not doubled");
	CHECK(strcmp(a.items[0].id, a2.items[0].id) != 0, "fresh ids on re-import");

	test_add(&b, "m", "m/p1.jpg", 0, "supplementing", "Slow green turtle", "line", 0);
	CHECK(db_replace_source(db, "m/p1.xml", &b, &err) == 0, "replace: %s", err.msg);
	CHECK_INT(test_source_count(path, "m/p1.xml"), 1, "replaced");
	CHECK_INT(test_source_count(path, "m/p2.xml"), 7, "other source untouched");
	CHECK_INT(test_total(db, "", false, "turtle"), 1, "new text found");
	CHECK_INT(test_total(db, "", false, "brown"), 1, "old text of p1 gone, p2 stays");
	CHECK_INT(test_term_count(path, "m", "brown"), 1, "term count after replace");
	CHECK_INT(test_term_count(path, "m", "turtle"), 1, "new term");
	test_fts_ok(path, "after replace");

	/* a bad list changes nothing */
	struct anno_list bad = {0};
	test_add(&bad, "m", "m/p1.jpg", 0, "supplementing", "x", "word", 0)->line_id =
		anno_strdup("#7");
	memset(&err, 0, sizeof err);
	CHECK(db_replace_source(db, "m/p1.xml", &bad, &err) == -1 && err.http_status == 400,
	      "dangling #N: 400");
	CHECK_INT(test_source_count(path, "m/p1.xml"), 1, "bad list stored nothing");

	struct anno_list empty = {0};
	CHECK(db_replace_source(db, "m/p1.xml", &empty, &err) == 0, "empty: %s", err.msg);
	CHECK_INT(test_source_count(path, "m/p1.xml"), 0, "empty list removes the source");
	CHECK_INT(test_term_count(path, "m", "turtle"), 0, "its terms removed");
	CHECK_INT(test_sql_int(path, "SELECT count(*) FROM terms WHERE count <= 0"), 0,
		  "no zero counts kept");
	anno_list_release(&a);
	anno_list_release(&a2);
	anno_list_release(&b);
	anno_list_release(&bad);
	anno_list_release(&other);
	db_close(db);
	test_remove_db(path);
}

static void test_fingerprint(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct iiifd_error err = {0};
	CHECK(!db_source_is_current(db, "a.xml", "1|2"), "unknown source is not current");
	CHECK(db_source_set_fingerprint(db, "a.xml", "1|2", &err) == 0, "set: %s", err.msg);
	CHECK(db_source_is_current(db, "a.xml", "1|2"), "current");
	CHECK(!db_source_is_current(db, "a.xml", "1|3"), "changed file is not current");
	CHECK(db_source_set_fingerprint(db, "a.xml", "1|3", &err) == 0, "reset: %s", err.msg);
	CHECK(db_source_is_current(db, "a.xml", "1|3"), "updated fingerprint");
	CHECK(!db_source_is_current(db, "b.xml", "1|3"), "other source");
	db_close(db);
	db = test_reopen(path);
	CHECK(db_source_is_current(db, "a.xml", "1|3"), "kept across reopen");
	db_close(db);
	test_remove_db(path);
}

/* ---- a Canvas's records -------------------------------------------------------------------- */

static void test_list_target(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_list list = {0}, out = {0};
	struct iiifd_error err = {0};
	test_add(&list, "m", "m/a.tif", 0, "supplementing", "third", "line", 3);
	test_add(&list, "m", "m/a.tif", 0, "tagging", "first", NULL, 1);
	test_add(&list, "m", "m/a.tif", 0, "supplementing", "second", "word", 2);
	test_add(&list, "m", "m/a.tif", 0, "supplementing", "second too", "word", 2);
	test_add(&list, "m", "m/a.tif", 1, "commenting", "other page", NULL, 0);
	test_add(&list, "m", "m/b.tif", 0, "commenting", "other file", NULL, 0);
	CHECK(db_replace_source(db, "m/a.csv", &list, &err) == 0, "import: %s", err.msg);

	CHECK(db_list_target(db, "m/a.tif", 0, NULL, &out, &err) == 0, "list: %s", err.msg);
	const char *want[] = {"first", "second", "second too", "third"};
	CHECK_INT(out.count, 4, "records on page 0, words included");
	for (size_t i = 0; i < out.count && i < 4; i++)
		CHECK_STR(out.items[i].text, want[i], "seq, then insertion order");
	anno_list_release(&out);
	CHECK(db_list_target(db, "m/a.tif", 0, "supplementing", &out, &err) == 0, "filtered");
	CHECK_INT(out.count, 3, "supplementing only");
	anno_list_release(&out);
	CHECK(db_list_target(db, "m/a.tif", 5, NULL, &out, &err) == 0 && out.count == 0,
	      "empty page");

	char **mot = NULL;
	size_t n = 0;
	CHECK(db_target_motivations(db, "m/a.tif", 0, &mot, &n, &err) == 0, "motivations");
	/* pages: one per motivation, OCR words apart from the lines (DB_PAGE_WORDS) */
	CHECK_INT(n, 3, "distinct pages");
	if (n == 3) {
		CHECK_STR(mot[0], "supplementing", "sorted");
		CHECK_STR(mot[1], "tagging", "sorted");
		CHECK_STR(mot[2], DB_PAGE_WORDS, "sorted");
	}
	for (size_t i = 0; i < n; i++)
		free(mot[i]);
	free(mot);
	CHECK(db_target_motivations(db, "nothing.jpg", 0, &mot, &n, &err) == 0 && n == 0 && !mot,
	      "no motivations");
	anno_list_release(&list);
	db_close(db);
	test_remove_db(path);
}

/* ---- search -------------------------------------------------------------------------------- */

static void test_insert_one(struct db *db, const char *manifest, int page, const char *mot,
			    const char *text, const char *granularity, const char *creator,
			    const char *created)
{
	struct anno_record rec = {0};
	char target[128];
	snprintf(target, sizeof target, "%s/f.jpg", manifest);
	rec.manifest = anno_strdup(manifest);
	rec.target_file = anno_strdup(target);
	rec.page = page;
	rec.motivation = anno_strdup(mot);
	rec.text = anno_strdup(text);
	rec.granularity = anno_strdup(granularity);
	rec.creator = anno_strdup(creator);
	rec.created = anno_strdup(created);
	struct iiifd_error err = {0};
	CHECK(db_insert(db, &rec, &err) == 0, "insert '%s': %s", text, err.msg);
	anno_record_release(&rec);
}

static struct db *test_search_store(char *path, size_t n)
{
	struct db *db = test_open(path, n);
	test_insert_one(db, "a", 0, "supplementing", "The quick brown fox", "line", "alice",
			"2021-03-01T10:00:00Z");
	test_insert_one(db, "a", 1, "commenting", "Café society", NULL, "bob",
			"2022-06-15T12:00:00Z");
	test_insert_one(db, "a/b", 0, "supplementing", "cafe au lait brown", "line", "alice",
			"2023-01-01T00:00:00Z");
	test_insert_one(db, "ab/c", 0, "tagging", "brown bear", NULL, "carol",
			"2021-03-02T00:00:00Z");
	test_insert_one(db, "A/x", 0, "tagging", "BROWN", NULL, "dave", NULL);
	test_insert_one(db, "a.b", 0, "commenting", "brown owl", NULL, "erin", NULL);
	test_insert_one(db, "a", 0, "supplementing", "brown", "word", "alice", NULL);
	return db;
}

static void test_search_text(void)
{
	char path[256];
	struct db *db = test_search_store(path, sizeof path);
	static const struct {
		const char *q;
		int64_t want;
	} cases[] = {
		{"brown", 5},          {"BROWN", 5},         {"Brown", 5},
		{"cafe", 2},           {"café", 2},          {"CAFÉ", 2},
		{"cafe\xcc\x81", 2},   {"quick fox", 1},     {"quick bear", 0},
		{"\"quick brown\"", 1}, {"\"brown quick\"", 0}, {"\"au lait\" cafe", 1},
		{"\"au lait\" fox", 0}, {"  brown   owl ", 1}, {"\"lait brown", 1},
		{"!!!", 0},            {"\"\"", 6},          {"", 6},
		{"   ", 6},            {"bear\" OR \"quick", 0}, {"quick OR bear", 0},
		{"NEAR(brown bear)", 0}, {"brown*", 5},      {"text:brown", 0},
		{"-brown", 5},         {"^brown", 5},        {"brown AND", 0},
		{"(", 0},              {"'", 0},             {"a\\b", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = test_total(db, "", false, cases[i].q);
		CHECK(got == cases[i].want, "q '%s': got %lld, want %lld", cases[i].q,
		      (long long)got, (long long)cases[i].want);
	}
	struct db_query q = {.scope = "", .q = NULL, .limit = 100};
	CHECK_INT(test_query(db, &q, NULL, NULL), 6, "q NULL: every non-word record");

	/* ordered by manifest, target, page, seq */
	struct anno_list out = {0};
	test_query(db, &q, &out, NULL);
	for (size_t i = 1; i < out.count; i++) {
		const struct anno_record *a = &out.items[i - 1], *b = &out.items[i];
		int c = strcmp(a->manifest, b->manifest);
		c = c ? c : strcmp(a->target_file, b->target_file);
		c = c ? c : a->page - b->page;
		CHECK(c <= 0, "order: %s p%d before %s p%d", a->manifest, a->page, b->manifest,
		      b->page);
	}
	anno_list_release(&out);
	db_close(db);
	test_remove_db(path);
}

static void test_search_scope(void)
{
	char path[256];
	struct db *db = test_search_store(path, sizeof path);
	static const struct {
		const char *scope;
		bool folder;
		int64_t want;
	} cases[] = {
		{"a", false, 1},   {"a", true, 2},    {"a/", true, 2},   {"a/b", false, 1},
		{"a/b", true, 1},  {"ab", true, 1},   {"ab/c", false, 1}, {"A", true, 1},
		{"a.b", false, 1}, {"", true, 5},     {"", false, 5},    {"zz", true, 0},
		{"a%", true, 0},   {"a_", true, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = test_total(db, cases[i].scope, cases[i].folder, "brown");
		CHECK(got == cases[i].want, "scope '%s' (%s): got %lld, want %lld",
		      cases[i].scope, cases[i].folder ? "folder" : "manifest", (long long)got,
		      (long long)cases[i].want);
	}
	db_close(db);
	test_remove_db(path);
}

static void test_search_filters(void)
{
	char path[256];
	struct db *db = test_search_store(path, sizeof path);
	const char *tagging[] = {"tagging", NULL}, *two[] = {"tagging", "supplementing", NULL};
	const char *alice[] = {"alice", NULL}, *bob[] = {"bob", NULL};
	const char *y2021[] = {"2021-01-01T00:00:00Z/2021-12-31T23:59:59Z", NULL};
	const char *ranges[] = {"2021-01-01T00:00:00Z/2021-12-31T23:59:59Z",
				"2023-01-01T00:00:00Z/2023-01-01T00:00:00Z", NULL};
	struct db_query q = {.scope = "", .q = "brown", .limit = 10, .motivations = tagging};
	CHECK_INT(test_query(db, &q, NULL, NULL), 2, "motivation tagging");
	q.motivations = two;
	CHECK_INT(test_query(db, &q, NULL, NULL), 4, "two motivations");
	q.motivations = NULL;
	q.users = alice;
	CHECK_INT(test_query(db, &q, NULL, NULL), 2, "user alice (her word excluded)");
	q.q = NULL;
	q.users = bob;
	CHECK_INT(test_query(db, &q, NULL, NULL), 1, "user bob, no q");
	q.users = NULL;
	q.dates = y2021;
	CHECK_INT(test_query(db, &q, NULL, NULL), 2, "created in 2021");
	q.dates = ranges;
	CHECK_INT(test_query(db, &q, NULL, NULL), 3, "two ranges, ends inclusive");
	q.users = alice;
	q.motivations = two;
	q.q = "cafe";
	CHECK_INT(test_query(db, &q, NULL, NULL), 1, "everything at once");

	static const char *const bad[] = {
		"2021-01-01/2021-12-31", "2021-13-01T00:00:00Z/2021-12-31T23:59:59Z",
		"x", "2021-01-01T00:00:00Z", "2022-01-01T00:00:00Z/2021-01-01T00:00:00Z",
		"2021-01-01T00:00:00Z/2021-12-31T23:59:59+01:00", "'; DROP TABLE terms; --/x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *dates[] = {y2021[0], bad[i], NULL};
		struct db_query bq = {.scope = "", .q = "brown", .limit = 10, .dates = dates};
		int status = 0;
		CHECK(test_query(db, &bq, NULL, &status) == -1 && status == 400,
		      "date '%s': status %d, want 400", bad[i], status);
	}
	db_close(db);
	test_remove_db(path);
}

static void test_search_paging(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_list list = {0};
	struct iiifd_error err = {0};
	for (int i = 0; i < 25; i++) {
		char m[16], t[32];
		snprintf(m, sizeof m, "m%d", (i * 7) % 3);
		snprintf(t, sizeof t, "%s/%d.jpg", m, (i * 5) % 4);
		test_add(&list, m, t, i % 2, "supplementing", "paging text", "line", 25 - i);
	}
	CHECK(db_replace_source(db, "p.csv", &list, &err) == 0, "import: %s", err.msg);
	struct anno_list all = {0}, page = {0};
	struct db_query q = {.scope = "", .q = "paging", .limit = -1};
	CHECK_INT(test_query(db, &q, &all, NULL), 25, "total, no limit");
	CHECK_INT(all.count, 25, "no limit: everything");
	for (int64_t off = 0; off < 25 && all.count == 25; off += 10) {
		q.offset = off;
		q.limit = 10;
		CHECK_INT(test_query(db, &q, &page, NULL), 25, "total on every page");
		CHECK_INT(page.count, off == 20 ? 5 : 10, "page size");
		for (size_t i = 0; i < page.count; i++)
			CHECK_STR(page.items[i].id, all.items[off + (int64_t)i].id,
				  "pages follow the full order");
		anno_list_release(&page);
	}
	q.offset = 30;
	CHECK(test_query(db, &q, &page, NULL) == 25 && page.count == 0, "past the end");
	q.offset = 0;
	q.limit = 0;
	CHECK(test_query(db, &q, &page, NULL) == 25 && page.count == 0, "limit 0: total only");
	q.offset = -1;
	int status = 0;
	CHECK(test_query(db, &q, &page, &status) == -1 && status == 400, "negative offset");
	anno_list_release(&page);
	anno_list_release(&all);
	anno_list_release(&list);
	db_close(db);
	test_remove_db(path);
}

/* ---- autocomplete -------------------------------------------------------------------------- */

static void test_ac_check(struct db *db, const char *scope, bool folder, const char *prefix,
			  int64_t min, int64_t limit, const char *want)
{
	struct db_query q = {.scope = scope, .scope_is_folder = folder};
	struct db_terms terms = {0};
	struct iiifd_error err = {0};
	char got[512] = "";
	int rc = db_autocomplete(db, &q, prefix, min, limit, &terms, &err);
	for (size_t i = 0; i < terms.count; i++) {
		size_t n = strlen(got);
		const char *label = terms.items[i].label;
		snprintf(got + n, sizeof got - n, "%s%s%s%s:%lld ", terms.items[i].term,
			 label ? "[" : "", label ? label : "", label ? "]" : "",
			 (long long)terms.items[i].count);
	}
	CHECK(rc == 0 && strcmp(got, want) == 0, "autocomplete '%s' in '%s'%s min %lld limit %lld:"
						 " got '%s', want '%s' %s", prefix, scope,
	      folder ? "/" : "", (long long)min, (long long)limit, got, want, err.msg);
	db_terms_release(&terms);
}

static void test_autocomplete(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	test_insert_one(db, "m1", 0, "supplementing", "Cafe cafeteria caffeine", NULL, NULL, NULL);
	test_insert_one(db, "m1", 1, "supplementing", "café, CAFÉ! café", NULL, NULL, NULL);
	test_insert_one(db, "m2", 0, "supplementing", "cafe calm", NULL, NULL, NULL);
	test_insert_one(db, "m1/sub", 0, "supplementing", "cabbage", NULL, NULL, NULL);
	test_insert_one(db, "m1", 0, "supplementing", "cafeword", "word", NULL, NULL);
	test_insert_one(db, "m10", 0, "supplementing", "cargo", NULL, NULL, NULL);

	test_ac_check(db, "", false, "caf", 1, 10, "cafe[café]:5 cafeteria:1 caffeine:1 ");
	test_ac_check(db, "", false, "CAF", 1, 10, "cafe[café]:5 cafeteria:1 caffeine:1 ");
	test_ac_check(db, "", false, "Café", 1, 10, "cafe[café]:5 cafeteria:1 ");
	test_ac_check(db, "", false, "caf", 2, 10, "cafe[café]:5 ");
	test_ac_check(db, "", false, "caf", 0, 2, "cafe[café]:5 cafeteria:1 ");
	test_ac_check(db, "", false, "cafeteria", 1, 10, "cafeteria:1 ");
	test_ac_check(db, "", false, "zz", 1, 10, "");
	test_ac_check(db, "m2", false, "ca", 1, 10, "cafe:1 calm:1 ");
	test_ac_check(db, "m1", false, "ca", 1, 10, "cafe[café]:4 cafeteria:1 caffeine:1 ");
	test_ac_check(db, "m1", true, "ca", 1, 10,
		      "cabbage:1 cafe[café]:4 cafeteria:1 caffeine:1 ");
	test_ac_check(db, "m1", true, "ca", 1, -1,
		      "cabbage:1 cafe[café]:4 cafeteria:1 caffeine:1 ");
	test_ac_check(db, "", false, "", 1, 3, "cabbage:1 cafe[café]:5 cafeteria:1 ");
	db_close(db);
	test_remove_db(path);
}

/*
 * A SQLite store made before term_forms: opening it counts the forms of the records it holds
 * (PostgreSQL: forms are counted from the start).
 */
static void test_forms_migration(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	test_insert_one(db, "m1", 0, "supplementing", "Été été ete", NULL, NULL, NULL);
	if (test_pg) { /* PostgreSQL stores have term_forms from their first version */
		test_ac_check(db, "", false, "et", 1, 10, "ete[Été]:3 ");
		db_close(db);
		return;
	}
	db_close(db);
	CHECK(test_sql_exec(path, "DROP TABLE term_forms; DELETE FROM terms;"
				  " ALTER TABLE annotations DROP COLUMN polygon;"
				  " DROP TABLE activities; DROP TABLE activity_state;"
				  " DROP TRIGGER activity_mark_insert; DROP TRIGGER activity_mark_update;"
				  " DROP TRIGGER activity_mark_delete;"
				  " PRAGMA user_version = 1") == 0, "made a version 1 store");
	db = test_reopen(path);
	test_ac_check(db, "", false, "et", 1, 10, "ete[Été]:3 ");
	db_close(db);
	test_remove_db(path);
}

int main(void)
{
	if (test_setup())
		return 1;
	UNIT_RUN(test_fold);
	UNIT_RUN(test_fold_terms);
	UNIT_RUN(test_open_schema);
	UNIT_RUN(test_open_errors);
	UNIT_RUN(test_insert_get);
	UNIT_RUN(test_update_delete);
	UNIT_RUN(test_replace_basic);
	UNIT_RUN(test_replace_again);
	UNIT_RUN(test_fingerprint);
	UNIT_RUN(test_list_target);
	UNIT_RUN(test_search_text);
	UNIT_RUN(test_search_scope);
	UNIT_RUN(test_search_filters);
	UNIT_RUN(test_search_paging);
	UNIT_RUN(test_autocomplete);
	UNIT_RUN(test_forms_migration);
	rmdir(test_dir);
	return unit_report("db");
}
