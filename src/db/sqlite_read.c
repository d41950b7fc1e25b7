/*
 * sqlite_read.c: the SQLite backend's reads: single records, a Canvas's records, a line's words,
 * full-text search (FTS5) with its filters and paging, and autocomplete from the terms table.
 */
#include "db/sqlite.h"
#include "db/where.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Just past every string that starts with a given prefix: U+10FFFF, the last code point. */
#define DB_SQLITE_MAX_CHAR "\xf4\x8f\xbf\xbf"

int db_sqlite_read_get(struct db *db, const char *id, struct anno_record *out,
		       struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_GET, err) : NULL;
	int rc = -1;
	if (stmt) {
		sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
		int step = sqlite3_step(stmt);
		if (step == SQLITE_ROW)
			rc = db_sqlite_record_read(stmt, out)
				     ? iiifd_error_set(err, 500, "annotation store: out of memory")
				     : 0;
		else if (step == SQLITE_DONE)
			rc = iiifd_error_set(err, 404, "annotation %.64s not found", id);
		else
			rc = db_sqlite_fail(conn, "get", err);
	}
	if (rc)
		anno_record_release(out);
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

/* Runs a cached statement with up to three text parameters (NULL = not bound) into out. */
static int db_sqlite_read_rows(struct db *db, enum db_sqlite_stmt which, const char *a,
			       const int *page, const char *c, struct anno_list *out,
			       struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, which, err) : NULL;
	int rc = -1;
	if (stmt) {
		sqlite3_bind_text(stmt, 1, a, -1, SQLITE_STATIC);
		if (page)
			sqlite3_bind_int(stmt, 2, *page);
		if (c)
			sqlite3_bind_text(stmt, 3, c, -1, SQLITE_STATIC);
		rc = db_sqlite_records_read(conn, stmt, out, err);
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_read_list_target(struct db *db, const char *target_file, int page,
			       const char *motivation, struct anno_list *out,
			       struct iiifd_error *err)
{
	enum db_sqlite_stmt which =
		motivation ? DB_SQLITE_LIST_TARGET_MOTIVATION : DB_SQLITE_LIST_TARGET;
	return db_sqlite_read_rows(db, which, target_file, &page, motivation, out, err);
}

/*
 * Binds a Canvas and one of its pages (a motivation, or DB_PAGE_WORDS: supplementing words) to
 * ?1..?3 and ?7 and, when at is given, a position to ?4 and ?5.
 */
static void db_sqlite_bind_target(sqlite3_stmt *stmt, const char *target_file, int page,
				  const char *name, const struct db_cursor *at)
{
	bool words = strcmp(name, DB_PAGE_WORDS) == 0;
	sqlite3_bind_text(stmt, 1, target_file, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, page);
	sqlite3_bind_text(stmt, 3, words ? "supplementing" : name, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 7, words);
	if (at) {
		sqlite3_bind_int64(stmt, 4, at->seq);
		sqlite3_bind_int64(stmt, 5, at->rowid);
	}
}

int db_sqlite_read_list_target_after(struct db *db, const char *target_file, int page,
				     const char *motivation, struct db_cursor *cursor, int64_t limit,
				     struct anno_list *out, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_LIST_TARGET_AFTER, err) : NULL;
	int rc = stmt ? 0 : -1, step = SQLITE_DONE;
	if (stmt) {
		db_sqlite_bind_target(stmt, target_file, page, motivation, cursor);
		sqlite3_bind_int64(stmt, 6, limit);
	}
	int ncols = stmt ? sqlite3_column_count(stmt) : 0;
	while (rc == 0 && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct anno_record *rec = anno_list_add(out);
		if (!rec || db_sqlite_record_read(stmt, rec) < 0)
			rc = iiifd_error_set(err, 500, "annotation store: out of memory");
		cursor->seq = sqlite3_column_int64(stmt, ncols - 2);
		cursor->rowid = sqlite3_column_int64(stmt, ncols - 1);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_sqlite_fail(conn, "list a Canvas", err);
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_read_cursor_back(struct db *db, const char *target_file, int page,
			       const char *motivation, const struct db_cursor *from, int64_t n,
			       struct db_cursor *out, bool *found, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_LIST_TARGET_BACK, err) : NULL;
	int rc = -1;
	*found = false;
	if (stmt) {
		db_sqlite_bind_target(stmt, target_file, page, motivation, from);
		sqlite3_bind_int64(stmt, 6, n);
		int step = sqlite3_step(stmt);
		if (step == SQLITE_ROW) {
			*found = true;
			*out = (struct db_cursor){ sqlite3_column_int64(stmt, 0),
						   sqlite3_column_int64(stmt, 1) };
		}
		rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0
							       : db_sqlite_fail(conn, "page back", err);
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_read_count_target(struct db *db, const char *target_file, int page,
				const char *motivation, int64_t *count, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_COUNT_TARGET, err) : NULL;
	int rc = -1;
	if (stmt) {
		db_sqlite_bind_target(stmt, target_file, page, motivation, NULL);
		rc = sqlite3_step(stmt) == SQLITE_ROW ? 0 : db_sqlite_fail(conn, "count", err);
		*count = rc ? 0 : sqlite3_column_int64(stmt, 0);
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_read_line_words(struct db *db, const char *line_id, struct anno_list *out,
			      struct iiifd_error *err)
{
	return db_sqlite_read_rows(db, DB_SQLITE_LINE_WORDS, line_id, NULL, NULL, out, err);
}

static int db_sqlite_read_strings(struct db_sqlite_conn *conn, sqlite3_stmt *stmt, char ***out,
				  size_t *count, struct iiifd_error *err)
{
	int step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		char **grown = realloc(*out, (*count + 1) * sizeof *grown);
		const unsigned char *text = sqlite3_column_text(stmt, 0);
		if (grown)
			*out = grown;
		if (!grown || !text || !(grown[*count] = strdup((const char *)text)))
			return iiifd_error_set(err, 500, "annotation store: out of memory");
		(*count)++;
	}
	return step == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "motivations", err);
}

int db_sqlite_read_sources(struct db *db, const char *folder, char ***out, size_t *count,
			   struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_SOURCES_BELOW, err) : NULL;
	char *prefix = *folder ? g_strdup_printf("%s/", folder) : g_strdup("");
	int rc = -1;
	if (stmt) {
		sqlite3_bind_text(stmt, 1, prefix, -1, SQLITE_STATIC);
		rc = db_sqlite_read_strings(conn, stmt, out, count, err);
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	g_free(prefix);
	return rc;
}

int db_sqlite_read_motivations(struct db *db, const char *target_file, int page, char ***out,
			       size_t *count, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_MOTIVATIONS, err) : NULL;
	int rc = -1;
	if (stmt) {
		sqlite3_bind_text(stmt, 1, target_file, -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 2, page);
		rc = db_sqlite_read_strings(conn, stmt, out, count, err);
	}
	if (rc) {
		for (size_t i = 0; i < *count; i++)
			free((*out)[i]);
		free(*out);
		*out = NULL;
		*count = 0;
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

/*
 * Every part must match: each becomes an FTS5 string ("..."), in which nothing but '"' is special,
 * and db_query_parse() never leaves a '"' in a part. A string of several words is a phrase.
 */
static void db_sqlite_where_text(struct db_where *w, const struct db_query_parts *parts)
{
	if (!parts->count)
		return;
	GString *match = g_string_new(NULL);
	for (size_t i = 0; i < parts->count; i++)
		g_string_append_printf(match, "%s\"%s\"", i ? " AND " : "", parts->items[i].text);
	g_string_append(w->sql, " AND rowid IN (SELECT rowid FROM annotations_fts"
				" WHERE annotations_fts MATCH ");
	db_where_arg(w, g_string_free(match, FALSE));
	g_string_append(w->sql, ")");
}

static void db_sqlite_where_bind(sqlite3_stmt *stmt, const struct db_where *w)
{
	for (guint i = 0; i < w->args->len; i++)
		sqlite3_bind_text(stmt, (int)i + 1, g_ptr_array_index(w->args, i), -1,
				  SQLITE_STATIC);
}

/*
 * "SELECT <what> FROM annotations WHERE" and q's conditions. A keyset page of a folder walks
 * the primary key and stops after one page: on the manifest index ("+" keeps it off) the
 * ranges' rows would all be gathered and sorted by rowid first.
 */
static void db_sqlite_where_search(struct db_where *w, const char *what,
				   const struct db_query *q, const struct db_query_parts *parts)
{
	char *start = g_strconcat("SELECT ", what, " FROM annotations WHERE", NULL);
	db_where_init(w, start, false);
	g_free(start);
	db_where_filters(w, q, q->keyset && q->scope_is_folder ? "+manifest" : "manifest");
	db_sqlite_where_text(w, parts);
}

static int db_sqlite_read_count(struct db_sqlite_conn *conn, const struct db_query *q,
				const struct db_query_parts *parts, int64_t *total,
				struct iiifd_error *err)
{
	struct db_where w;
	db_sqlite_where_search(&w, "count(*)", q, parts);
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, w.sql->str, err);
	int rc = -1;
	if (stmt) { /* the bound texts are w's: it lives until the statement is done */
		db_sqlite_where_bind(stmt, &w);
		rc = sqlite3_step(stmt) == SQLITE_ROW ? 0 : db_sqlite_fail(conn, "search count", err);
		*total = rc ? 0 : sqlite3_column_int64(stmt, 0);
	}
	db_sqlite_done(stmt);
	db_where_release(&w);
	return rc;
}

/*
 * Runs stmt (bound), appending its records to out; the last column is the record's key, the
 * last one read goes to *last (when not NULL; 0 when there are no rows).
 */
static int db_sqlite_read_keyed(struct db_sqlite_conn *conn, sqlite3_stmt *stmt,
				struct anno_list *out, int64_t *last, struct iiifd_error *err)
{
	int rc = 0, step;
	if (last)
		*last = 0;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct anno_record *rec = anno_list_add(out);
		if (!rec || db_sqlite_record_read(stmt, rec)) {
			rc = iiifd_error_set(err, 500, "annotation store: out of memory");
			break;
		}
		if (last)
			*last = sqlite3_column_int64(stmt, sqlite3_column_count(stmt) - 1);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_sqlite_fail(conn, "search", err);
	return rc;
}

/*
 * Keyset page: records after q->after in rowid order, which the primary key (or the manifest
 * index, whose entries are in rowid order for one manifest) yields without sorting or counting.
 */
static int db_sqlite_read_keyset(struct db_sqlite_conn *conn, const struct db_query *q,
				 const struct db_query_parts *parts, struct anno_list *out,
				 struct iiifd_error *err)
{
	struct db_where w;
	db_sqlite_where_search(&w, DB_SQLITE_COLUMNS ", rowid", q, parts);
	g_string_append(w.sql, " AND rowid > ? ORDER BY rowid LIMIT ?");
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, w.sql->str, err);
	if (stmt) {
		db_sqlite_where_bind(stmt, &w);
		sqlite3_bind_int64(stmt, (int)w.args->len + 1, q->after);
		sqlite3_bind_int64(stmt, (int)w.args->len + 2, q->limit < 0 ? -1 : q->limit);
	}
	int rc = stmt ? db_sqlite_read_keyed(conn, stmt, out, q->next_after, err) : -1;
	db_sqlite_done(stmt);
	db_where_release(&w);
	return rc;
}

/*
 * The sort key of q->page_after, the record a numbered page follows, when it is still there
 * with a Manifest (true); else false: the page is found by offset.
 */
static bool db_sqlite_page_key(struct db_sqlite_conn *conn, const struct db_query *q,
			       struct db_where_key *key)
{
	struct iiifd_error ignored;
	if (q->page_after <= 0)
		return false;
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, "SELECT manifest, target_file, page, seq,"
						     " rowid FROM annotations WHERE rowid = ?"
						     " AND manifest IS NOT NULL", &ignored);
	if (!stmt)
		return false;
	sqlite3_bind_int64(stmt, 1, q->page_after);
	bool found = sqlite3_step(stmt) == SQLITE_ROW;
	for (int i = 0; found && i < 5; i++)
		key->v[i] = g_strdup((const char *)sqlite3_column_text(stmt, i));
	db_sqlite_done(stmt);
	return found;
}

/* One numbered page: after q->page_after when that record is there, else at q->offset. */
static int db_sqlite_read_page(struct db_sqlite_conn *conn, const struct db_query *q,
			       const struct db_query_parts *parts, struct anno_list *out,
			       struct iiifd_error *err)
{
	struct db_where_key key = { 0 };
	bool after = db_sqlite_page_key(conn, q, &key);
	struct db_where w;
	db_sqlite_where_search(&w, DB_SQLITE_COLUMNS ", rowid", q, parts);
	if (after)
		db_where_after(&w, &key);
	db_where_key_release(&key);
	g_string_append(w.sql, " ORDER BY manifest, target_file, page, seq, rowid LIMIT ? OFFSET ?");
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, w.sql->str, err);
	if (stmt) {
		db_sqlite_where_bind(stmt, &w);
		sqlite3_bind_int64(stmt, (int)w.args->len + 1, q->limit < 0 ? -1 : q->limit);
		sqlite3_bind_int64(stmt, (int)w.args->len + 2, after ? 0 : q->offset);
	}
	int rc = stmt ? db_sqlite_read_keyed(conn, stmt, out, q->page_last, err) : -1;
	db_sqlite_done(stmt);
	db_where_release(&w);
	return rc;
}

int db_sqlite_read_search_count(struct db *db, const struct db_query *q,
				const struct db_query_parts *parts, int64_t *total,
				struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	int rc = conn ? db_sqlite_read_count(conn, q, parts, total, err) : -1;
	db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_read_search(struct db *db, const struct db_query *q,
			  const struct db_query_parts *parts, struct anno_list *out,
			  int64_t *total, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	if (q->keyset) {
		int rc = conn && q->limit != 0 ? db_sqlite_read_keyset(conn, q, parts, out, err)
					       : (conn ? 0 : -1);
		db_sqlite_release(db, conn);
		return rc;
	}
	/* one read transaction: the page and the total see the same snapshot */
	int rc = conn ? db_sqlite_run(conn, DB_SQLITE_BEGIN_READ, err) : -1;
	if (!rc && q->known_total) /* counted before, in this state of the store */
		*total = *q->known_total;
	else if (!rc)
		rc = db_sqlite_read_count(conn, q, parts, total, err);
	if (!rc && q->limit != 0 && q->offset < *total)
		rc = db_sqlite_read_page(conn, q, parts, out, err);
	if (conn && !sqlite3_get_autocommit(conn->handle)) {
		struct iiifd_error ignored;
		db_sqlite_run(conn, DB_SQLITE_COMMIT, &ignored);
	}
	db_sqlite_release(db, conn);
	return rc;
}

static int db_sqlite_read_terms(struct db_sqlite_conn *conn, sqlite3_stmt *stmt,
				struct db_terms *out, struct iiifd_error *err)
{
	int step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct db_term *grown = realloc(out->items, (out->count + 1) * sizeof *grown);
		const unsigned char *term = sqlite3_column_text(stmt, 0);
		if (grown)
			out->items = grown;
		if (!grown || !term || !(grown[out->count].term = strdup((const char *)term)))
			return iiifd_error_set(err, 500, "annotation store: out of memory");
		grown[out->count].label = NULL;
		grown[out->count++].count = sqlite3_column_int64(stmt, 1);
	}
	return step == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "autocomplete", err);
}

/*
 * Gives each term of out its most frequent form within w's conditions (the terms' own: prefix
 * range and scope), reading the forms of the terms up to the last one of out only.
 */
static int db_sqlite_read_labels(struct db_sqlite_conn *conn, struct db_where *w,
				 struct db_terms *out, struct iiifd_error *err)
{
	if (!out->count)
		return 0;
	char *sql = g_strconcat("SELECT term, form, sum(count) AS n FROM term_forms", w->sql->str,
				" AND term <= ? GROUP BY term, form ORDER BY term, n DESC, form", NULL);
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, sql, err);
	g_free(sql);
	if (!stmt)
		return -1;
	db_sqlite_where_bind(stmt, w);
	sqlite3_bind_text(stmt, (int)w->args->len + 1, out->items[out->count - 1].term, -1,
			  SQLITE_STATIC);
	size_t i = 0;
	int step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *term = (const char *)sqlite3_column_text(stmt, 0);
		while (i < out->count && strcmp(out->items[i].term, term) < 0)
			i++;
		/* the first row of a term is its most frequent form */
		if (i < out->count && !out->items[i].label && !strcmp(out->items[i].term, term) &&
		    !(out->items[i].label = strdup((const char *)sqlite3_column_text(stmt, 1)))) {
			db_sqlite_done(stmt);
			return iiifd_error_set(err, 500, "annotation store: out of memory");
		}
	}
	db_sqlite_done(stmt);
	return step == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "autocomplete", err);
}

int db_sqlite_read_autocomplete(struct db *db, const struct db_query *scope, const char *prefix,
				int64_t min, int64_t limit, struct db_terms *out,
				struct iiifd_error *err)
{
	struct db_where w;
	db_where_init(&w, " WHERE term >= ", false);
	db_where_arg(&w, g_strdup(prefix));
	g_string_append(w.sql, " AND term < ");
	db_where_arg(&w, g_strconcat(prefix, DB_SQLITE_MAX_CHAR, NULL));
	db_where_scope(&w, scope, "manifest");
	char *sql = g_strconcat("SELECT term, sum(count) AS n FROM terms", w.sql->str,
				" GROUP BY term HAVING n >= ? ORDER BY term LIMIT ?", NULL);
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_prepare(conn, sql, err) : NULL;
	int rc = -1;
	if (stmt) {
		db_sqlite_where_bind(stmt, &w);
		sqlite3_bind_int64(stmt, (int)w.args->len + 1, min > 1 ? min : 1);
		sqlite3_bind_int64(stmt, (int)w.args->len + 2, limit < 0 ? -1 : limit);
		rc = db_sqlite_read_terms(conn, stmt, out, err);
		db_sqlite_done(stmt);
	}
	if (!rc)
		rc = db_sqlite_read_labels(conn, &w, out, err);
	if (rc)
		db_terms_release(out);
	db_sqlite_release(db, conn);
	db_where_release(&w);
	g_free(sql);
	return rc;
}
