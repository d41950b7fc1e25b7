/*
 * db_fixtures.h: helpers shared by test_db.c and test_db_load.c: stores in a temporary folder,
 * records, direct SQL checks on the file, searches, and generated OCR-like imports.
 *
 * One suite, two backends: with IIIFD_TEST_PG set to a postgresql:// URI (tests/http/
 * test_db_postgresql.py does so) every store is a fresh schema of that database instead of a
 * SQLite file, and the direct SQL checks run there. test_pg tells the few checks that differ.
 */
#ifndef IIIFD_TESTS_DB_FIXTURES_H
#define IIIFD_TESTS_DB_FIXTURES_H

#include "db/backend.h"
#include "db/db.h"
#include "unit.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char test_dir[64];
static int test_serial;
static const char *test_pg; /* IIIFD_TEST_PG, or NULL: SQLite */

/* Runs sql on the PostgreSQL store at uri: the first column of the first row, -1 on error. */
static inline int64_t test_pg_int(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *res = PQexec(c, sql);
	int64_t v = -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (PQresultStatus(res) == PGRES_COMMAND_OK)
		v = 0;
	PQclear(res);
	PQfinish(c);
	return v;
}

/* A fresh schema of IIIFD_TEST_PG's database, as a URI whose search_path is that schema. */
static inline void test_pg_store(char *path, size_t n)
{
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE SCHEMA s%d_%d", (int)getpid(), test_serial);
	CHECK(test_pg_int(test_pg, sql) == 0, "%s", sql);
	snprintf(path, n, "%s%soptions=-csearch_path%%3Ds%d_%d", test_pg,
		 strchr(test_pg, '?') ? "&" : "?", (int)getpid(), test_serial);
}

static inline struct db *test_open(char *path, size_t n)
{
	++test_serial;
	if (test_pg)
		test_pg_store(path, n);
	else
		snprintf(path, n, "%s/db%d.sqlite", test_dir, test_serial);
	struct db *db = NULL;
	struct iiifd_error err = {0};
	int rc = db_open(path, &db, &err);
	CHECK(rc == 0 && db, "db_open %s: %s", path, err.msg);
	return db;
}

static inline struct db *test_reopen(const char *path)
{
	struct db *db = NULL;
	struct iiifd_error err = {0};
	int rc = db_open(path, &db, &err);
	CHECK(rc == 0 && db, "db_open %s again: %s", path, err.msg);
	return db;
}

static inline struct anno_record *test_add(struct anno_list *list, const char *manifest,
				    const char *target, int page, const char *motivation,
				    const char *text, const char *granularity, int64_t seq)
{
	struct anno_record *rec = anno_list_add(list);
	rec->manifest = anno_strdup(manifest);
	rec->target_file = anno_strdup(target);
	rec->page = page;
	rec->motivation = anno_strdup(motivation);
	rec->text = anno_strdup(text);
	rec->granularity = anno_strdup(granularity);
	rec->seq = seq;
	return rec;
}

/* The first column of the first row of sql, run on its own connection; -1 on error. */
static inline int64_t test_sql_int(const char *path, const char *sql)
{
	if (test_pg)
		return test_pg_int(path, sql);
	sqlite3 *h;
	sqlite3_stmt *stmt = NULL;
	int64_t v = -1;
	if (sqlite3_open(path, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(h);
	return v;
}

static inline int test_sql_exec(const char *path, const char *sql)
{
	if (test_pg)
		return test_pg_int(path, sql) < 0 ? SQLITE_ERROR : SQLITE_OK;
	sqlite3 *h;
	int rc = sqlite3_open(path, &h);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

/*
 * FTS5's own consistency check of the full-text index; on PostgreSQL: no token of a record that
 * is gone or not indexed, and every indexed record with a letter has tokens.
 */
static inline void test_fts_ok(const char *path, const char *ctx)
{
	if (test_pg) {
		int64_t stray = test_pg_int(path, "SELECT count(*) FROM tokens t LEFT JOIN annotations"
						  " a ON a.rowid = t.anno WHERE a.rowid IS NULL OR"
						  " a.granularity = 'word' OR a.text IS NULL");
		int64_t bare = test_pg_int(path, "SELECT count(*) FROM annotations a WHERE text ~"
						 " '[a-z]' AND granularity IS DISTINCT FROM 'word'"
						 " AND granularity IS DISTINCT FROM 'block'"
						 " AND motivation IS DISTINCT FROM"
						 " 'georeferencing'"
						 " AND NOT EXISTS (SELECT 1 FROM tokens WHERE"
						 " anno = a.rowid)");
		CHECK(stray == 0 && bare == 0, "%s: tokens: %lld stray, %lld records without",
		      ctx, (long long)stray, (long long)bare);
		return;
	}
	int rc = test_sql_exec(path, "INSERT INTO annotations_fts(annotations_fts)"
				     " VALUES ('integrity-check')");
	CHECK(rc == SQLITE_OK, "%s: fts integrity-check: %d", ctx, rc);
}

static inline int64_t test_term_count(const char *path, const char *manifest, const char *term)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT coalesce(sum(count), 0) FROM terms WHERE term = '%s'"
		 " AND ('%s' = '*' OR manifest = '%s')",
		 term, manifest, manifest);
	return test_sql_int(path, sql);
}

/* The records imported from source (on PostgreSQL, a row may hold a line's words: pg_runs.c). */
static inline int64_t test_source_count(const char *path, const char *source)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*)%s FROM annotations WHERE source = '%s'",
		 test_pg ? " + coalesce(sum(more_count), 0)" : "", source);
	return test_sql_int(path, sql);
}

/* Runs q; returns the total (-1 on error, with the status in *status if given). */
static inline int64_t test_query(struct db *db, const struct db_query *q, struct anno_list *out,
			  int *status)
{
	struct anno_list tmp = {0};
	struct iiifd_error err = {0};
	int64_t total = -1;
	int rc = db_search(db, q, out ? out : &tmp, &total, &err);
	if (status)
		*status = rc ? err.http_status : 0;
	else
		CHECK(rc == 0, "search '%s': %s", q->q ? q->q : "", err.msg);
	anno_list_release(&tmp);
	return rc ? -1 : total;
}

static inline int64_t test_total(struct db *db, const char *scope, bool folder, const char *q)
{
	struct db_query query = {.scope = scope, .scope_is_folder = folder, .q = q, .limit = 100};
	return test_query(db, &query, NULL, NULL);
}

static inline void test_remove_db(const char *path)
{
	char p[300];
	if (test_pg)
		return; /* the schema goes with the test database */
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static inline double test_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
/* ---- generated stores ---------------------------------------------------------------------- */

/* Word number k of a 5,000-word vocabulary of pronounceable words, some with diacritics. */
static inline void test_vocab(unsigned k, char *out, size_t n)
{
	static const char *const syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo",
					  "be", "da", "fu", "go", "hi", "jo", "pe", "zu"};
	k %= 5000;
	snprintf(out, n, "%s%s%s%s", syl[k % 16], syl[(k / 16) % 16], syl[(k / 256) % 16],
		 k % 50 == 0 ? "é" : "");
}

/* lines lines of OCR, each with 9 word records after it: 10 * lines records. */
static inline void test_gen(struct anno_list *list, const char *prefix, size_t lines, unsigned seed,
		     const char *always)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t l = 0; l < lines; l++) {
		char m[64], t[128], text[512] = "", word[9][32], ref[32];
		snprintf(m, sizeof m, "%s/m%zu", prefix, (l / 500) % 10);
		snprintf(t, sizeof t, "%s/p%zu.jpg", m, l / 50);
		for (int w = 0; w < 9; w++) {
			x = x * 1664525u + 1013904223u;
			test_vocab(w == 0 && always ? 0 : x >> 16, word[w], sizeof word[w]);
			size_t len = strlen(text);
			snprintf(text + len, sizeof text - len, "%s%s", w ? " " : "",
				 w == 0 && always ? always : word[w]);
		}
		size_t line_index = list->count;
		struct anno_record *line = test_add(list, m, t, 0, "supplementing", text, "line",
						    (int64_t)l * 10);
		line->has_xywh = true, line->x = 10, line->y = (double)l, line->w = 500;
		line->h = 20;
		snprintf(ref, sizeof ref, "#%zu", line_index);
		for (int w = 0; w < 9; w++) {
			struct anno_record *rec = test_add(list, m, t, 0, "supplementing",
							   w == 0 && always ? always : word[w],
							   "word", (int64_t)l * 10 + 1 + w);
			rec->line_id = anno_strdup(ref);
			rec->has_score = true, rec->score = 0.9;
		}
	}
}

/* Makes the temporary folder the stores go to; 0 or -1. */
static inline int test_setup(void)
{
	test_pg = getenv("IIIFD_TEST_PG");
	if (test_pg && !*test_pg)
		test_pg = NULL;
	snprintf(test_dir, sizeof test_dir, "/tmp/iiifd-test-db.XXXXXX");
	if (mkdtemp(test_dir))
		return 0;
	perror("mkdtemp");
	return -1;
}

#endif
