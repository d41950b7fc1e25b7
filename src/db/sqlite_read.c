/*
 * sqlite_read.c: the SQLite backend's reads: single records, a Canvas's records, a line's words,
 * full-text search (FTS5) with its filters and paging, and autocomplete from the terms table.
 */
#include "db/sqlite.h"

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

/* A WHERE clause being built, with the texts its "?" stand for, in order. */
struct db_sqlite_where {
	GString *sql;
	GPtrArray *args; /* g_free'd strings */
};

static void db_sqlite_where_init(struct db_sqlite_where *w, const char *start)
{
	w->sql = g_string_new(start);
	w->args = g_ptr_array_new_with_free_func(g_free);
}

static void db_sqlite_where_release(struct db_sqlite_where *w)
{
	g_string_free(w->sql, TRUE);
	g_ptr_array_unref(w->args);
}

static void db_sqlite_where_arg(struct db_sqlite_where *w, char *owned)
{
	g_ptr_array_add(w->args, owned);
}

/*
 * A Manifest, or a folder: the Manifest named like it (a folder can be one) and every one below.
 * "Below" is a range, not LIKE: LIKE ignores ASCII case and needs escaping; the range is exact,
 * byte-wise, and uses the index. Every string starting with "a/" lies in ["a/", "a0"), since '0'
 * follows '/'; so "a" never matches "ab/x" nor "a.b".
 */
static void db_sqlite_where_scope_only(struct db_sqlite_where *w, const struct db_query *q);

/* Leaves out q->exclude's Manifests and folders, each like a folder scope (see below). */
static void db_sqlite_where_exclude(struct db_sqlite_where *w, const struct db_query *q)
{
	for (const char *const *x = q ? q->exclude : NULL; x && *x; x++) {
		if (!**x) {
			g_string_append(w->sql, " AND 0");
			continue;
		}
		g_string_append(w->sql, " AND NOT (manifest = ? OR (manifest >= ? AND manifest < ?))");
		db_sqlite_where_arg(w, g_strdup(*x));
		db_sqlite_where_arg(w, g_strconcat(*x, "/", NULL));
		db_sqlite_where_arg(w, g_strconcat(*x, "0", NULL));
	}
}

static void db_sqlite_where_scope(struct db_sqlite_where *w, const struct db_query *q)
{
	db_sqlite_where_scope_only(w, q);
	db_sqlite_where_exclude(w, q);
}

static void db_sqlite_where_scope_only(struct db_sqlite_where *w, const struct db_query *q)
{
	const char *scope = q && q->scope ? q->scope : "";
	size_t len = strlen(scope);
	while (len && scope[len - 1] == '/')
		len--;
	if (!len)
		return;
	char *exact = g_strndup(scope, len);
	db_sqlite_where_arg(w, exact);
	if (!q->scope_is_folder) {
		g_string_append(w->sql, " AND manifest = ?");
		return;
	}
	/*
	 * A keyset page of a folder walks the primary key and stops after one page: on the manifest
	 * index ("+" keeps it off) the ranges' rows would all be gathered and sorted by rowid first.
	 */
	if (q->keyset)
		g_string_append(w->sql, " AND (+manifest = ? OR (+manifest >= ? AND +manifest < ?))");
	else
		g_string_append(w->sql, " AND (manifest = ? OR (manifest >= ? AND manifest < ?))");
	db_sqlite_where_arg(w, g_strconcat(exact, "/", NULL));
	db_sqlite_where_arg(w, g_strconcat(exact, "0", NULL));
}

static void db_sqlite_where_in(struct db_sqlite_where *w, const char *column,
			       const char *const *values)
{
	if (!values || !*values)
		return;
	g_string_append_printf(w->sql, " AND %s IN (", column);
	for (const char *const *v = values; *v; v++) {
		g_string_append(w->sql, v == values ? "?" : ", ?");
		db_sqlite_where_arg(w, g_strdup(*v));
	}
	g_string_append(w->sql, ")");
}

/* Ranges were checked by db.c: "start/end", 20 characters each side. */
static void db_sqlite_where_dates(struct db_sqlite_where *w, const char *const *ranges)
{
	if (!ranges || !*ranges)
		return;
	g_string_append(w->sql, " AND (");
	for (const char *const *r = ranges; *r; r++) {
		g_string_append(w->sql, r == ranges ? "created BETWEEN ? AND ?"
						    : " OR created BETWEEN ? AND ?");
		db_sqlite_where_arg(w, g_strndup(*r, 20));
		db_sqlite_where_arg(w, g_strdup(strchr(*r, '/') + 1));
	}
	g_string_append(w->sql, ")");
}

/*
 * Every part must match: each becomes an FTS5 string ("..."), in which nothing but '"' is special,
 * and db_query_parse() never leaves a '"' in a part. A string of several words is a phrase.
 */
static void db_sqlite_where_text(struct db_sqlite_where *w, const struct db_query_parts *parts)
{
	if (!parts->count)
		return;
	GString *match = g_string_new(NULL);
	for (size_t i = 0; i < parts->count; i++)
		g_string_append_printf(match, "%s\"%s\"", i ? " AND " : "", parts->items[i].text);
	g_string_append(w->sql, " AND rowid IN (SELECT rowid FROM annotations_fts"
				" WHERE annotations_fts MATCH ?)");
	db_sqlite_where_arg(w, g_string_free(match, FALSE));
}

static void db_sqlite_where_bind(sqlite3_stmt *stmt, const struct db_sqlite_where *w)
{
	for (guint i = 0; i < w->args->len; i++)
		sqlite3_bind_text(stmt, (int)i + 1, g_ptr_array_index(w->args, i), -1,
				  SQLITE_STATIC);
}

static int db_sqlite_read_count(struct db_sqlite_conn *conn, const struct db_sqlite_where *w,
				int64_t *total, struct iiifd_error *err)
{
	char *sql = g_strconcat("SELECT count(*) FROM annotations", w->sql->str, NULL);
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, sql, err);
	g_free(sql);
	if (!stmt)
		return -1;
	db_sqlite_where_bind(stmt, w);
	int rc = sqlite3_step(stmt) == SQLITE_ROW ? 0 : db_sqlite_fail(conn, "search count", err);
	*total = rc ? 0 : sqlite3_column_int64(stmt, 0);
	db_sqlite_done(stmt);
	return rc;
}

/*
 * Keyset page: records after q->after in rowid order, which the primary key (or the manifest
 * index, whose entries are in rowid order for one manifest) yields without sorting or counting.
 */
static int db_sqlite_read_keyset(struct db_sqlite_conn *conn, const struct db_sqlite_where *w,
				 const struct db_query *q, struct anno_list *out,
				 struct iiifd_error *err)
{
	char *sql = g_strconcat("SELECT " DB_SQLITE_COLUMNS ", rowid FROM annotations", w->sql->str,
				" AND rowid > ? ORDER BY rowid LIMIT ?", NULL);
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, sql, err);
	g_free(sql);
	if (!stmt)
		return -1;
	db_sqlite_where_bind(stmt, w);
	sqlite3_bind_int64(stmt, (int)w->args->len + 1, q->after);
	sqlite3_bind_int64(stmt, (int)w->args->len + 2, q->limit < 0 ? -1 : q->limit);
	int rc = 0, step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct anno_record *rec = anno_list_add(out);
		if (!rec || db_sqlite_record_read(stmt, rec)) {
			rc = iiifd_error_set(err, 500, "annotation store: out of memory");
			break;
		}
		if (q->next_after)
			*q->next_after =
				sqlite3_column_int64(stmt, sqlite3_column_count(stmt) - 1);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_sqlite_fail(conn, "search", err);
	db_sqlite_done(stmt);
	return rc;
}

static int db_sqlite_read_page(struct db_sqlite_conn *conn, const struct db_sqlite_where *w,
			       const struct db_query *q, struct anno_list *out,
			       struct iiifd_error *err)
{
	char *sql = g_strconcat("SELECT " DB_SQLITE_COLUMNS " FROM annotations", w->sql->str,
				" ORDER BY manifest, target_file, page, seq, rowid"
				" LIMIT ? OFFSET ?", NULL);
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, sql, err);
	g_free(sql);
	if (!stmt)
		return -1;
	db_sqlite_where_bind(stmt, w);
	sqlite3_bind_int64(stmt, (int)w->args->len + 1, q->limit < 0 ? -1 : q->limit);
	sqlite3_bind_int64(stmt, (int)w->args->len + 2, q->offset);
	int rc = db_sqlite_records_read(conn, stmt, out, err);
	db_sqlite_done(stmt);
	return rc;
}

static void db_sqlite_where_search(struct db_sqlite_where *w, const struct db_query *q,
				   const struct db_query_parts *parts)
{
	/* Georeference Annotations are not text: served on their Canvas, listed from the Manifest */
	db_sqlite_where_init(w, " WHERE granularity IS NOT 'word'"
				" AND motivation IS NOT 'georeferencing'");
	db_sqlite_where_scope(w, q);
	db_sqlite_where_in(w, "motivation", q->motivations);
	db_sqlite_where_in(w, "creator", q->users);
	db_sqlite_where_dates(w, q->dates);
	if (q->has_score) { /* the REAL column's affinity makes the text arguments numbers */
		char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
		g_string_append(w->sql, " AND score BETWEEN ? AND ?");
		db_sqlite_where_arg(w, g_strdup(g_ascii_dtostr(lo, sizeof lo, q->score_min)));
		db_sqlite_where_arg(w, g_strdup(g_ascii_dtostr(hi, sizeof hi, q->score_max)));
	}
	db_sqlite_where_text(w, parts);
}

int db_sqlite_read_search_count(struct db *db, const struct db_query *q,
				const struct db_query_parts *parts, int64_t *total,
				struct iiifd_error *err)
{
	struct db_sqlite_where w;
	db_sqlite_where_search(&w, q, parts);
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	int rc = conn ? db_sqlite_read_count(conn, &w, total, err) : -1;
	db_sqlite_release(db, conn);
	db_sqlite_where_release(&w);
	return rc;
}

int db_sqlite_read_search(struct db *db, const struct db_query *q,
			  const struct db_query_parts *parts, struct anno_list *out,
			  int64_t *total, struct iiifd_error *err)
{
	struct db_sqlite_where w;
	db_sqlite_where_search(&w, q, parts);
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	if (q->keyset) {
		int rc = conn && q->limit != 0 ? db_sqlite_read_keyset(conn, &w, q, out, err)
					       : (conn ? 0 : -1);
		db_sqlite_release(db, conn);
		db_sqlite_where_release(&w);
		return rc;
	}
	/* one read transaction: the page and the total see the same snapshot */
	int rc = conn ? db_sqlite_run(conn, DB_SQLITE_BEGIN_READ, err) : -1;
	if (!rc)
		rc = db_sqlite_read_count(conn, &w, total, err);
	if (!rc && q->limit != 0 && q->offset < *total)
		rc = db_sqlite_read_page(conn, &w, q, out, err);
	if (conn && !sqlite3_get_autocommit(conn->handle)) {
		struct iiifd_error ignored;
		db_sqlite_run(conn, DB_SQLITE_COMMIT, &ignored);
	}
	db_sqlite_release(db, conn);
	db_sqlite_where_release(&w);
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
static int db_sqlite_read_labels(struct db_sqlite_conn *conn, struct db_sqlite_where *w,
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
	struct db_sqlite_where w;
	db_sqlite_where_init(&w, " WHERE term >= ? AND term < ?");
	db_sqlite_where_arg(&w, g_strdup(prefix));
	db_sqlite_where_arg(&w, g_strconcat(prefix, DB_SQLITE_MAX_CHAR, NULL));
	db_sqlite_where_scope(&w, scope);
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
	db_sqlite_where_release(&w);
	g_free(sql);
	return rc;
}
