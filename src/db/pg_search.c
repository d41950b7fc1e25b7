/*
 * pg_search.c: full-text search on PostgreSQL over iiifd's own tokens (db_fold_terms(): the same
 * word splitting and folding as the terms of SQLite), so both backends find the same records in
 * the same order. A word is a lookup of its term in the tokens index; a phrase joins one token
 * row per word on consecutive positions. Filters, offset or keyset paging, and autocomplete.
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Just past every string that starts with a given prefix: U+10FFFF, the last code point. */
#define DB_PG_MAX_CHAR "\xf4\x8f\xbf\xbf"

/* A WHERE clause being built, with the values of its $N, in order. */
struct db_pg_where {
	GString *sql;
	GPtrArray *args; /* g_free'd strings */
};

static void db_pg_where_init(struct db_pg_where *w, const char *start)
{
	w->sql = g_string_new(start);
	w->args = g_ptr_array_new_with_free_func(g_free);
}

static void db_pg_where_release(struct db_pg_where *w)
{
	g_string_free(w->sql, TRUE);
	g_ptr_array_unref(w->args);
}

/* Adds owned as the next parameter and appends its "$N" to the SQL. */
static void db_pg_where_arg(struct db_pg_where *w, char *owned)
{
	g_ptr_array_add(w->args, owned);
	g_string_append_printf(w->sql, "$%u", w->args->len);
}

static void db_pg_where_scope_only(struct db_pg_where *w, const struct db_query *q);

/* Leaves out q->exclude's Manifests and folders (access control), each like a folder scope. */
static void db_pg_where_exclude(struct db_pg_where *w, const struct db_query *q)
{
	for (const char *const *x = q ? q->exclude : NULL; x && *x; x++) {
		if (!**x) {
			g_string_append(w->sql, " AND false");
			continue;
		}
		g_string_append(w->sql, " AND NOT (manifest = ");
		db_pg_where_arg(w, g_strdup(*x));
		g_string_append(w->sql, " OR (manifest >= ");
		db_pg_where_arg(w, g_strconcat(*x, "/", NULL));
		g_string_append(w->sql, " AND manifest < ");
		db_pg_where_arg(w, g_strconcat(*x, "0", NULL));
		g_string_append(w->sql, "))");
	}
}

static void db_pg_where_scope(struct db_pg_where *w, const struct db_query *q)
{
	db_pg_where_scope_only(w, q);
	db_pg_where_exclude(w, q);
}

/* The same scope as SQLite's: a Manifest, or a folder's Manifest and every one below it. */
static void db_pg_where_scope_only(struct db_pg_where *w, const struct db_query *q)
{
	const char *scope = q && q->scope ? q->scope : "";
	size_t len = strlen(scope);
	while (len && scope[len - 1] == '/')
		len--;
	if (!len)
		return;
	char *exact = g_strndup(scope, len);
	g_string_append(w->sql, " AND (manifest = ");
	db_pg_where_arg(w, exact);
	if (q->scope_is_folder) {
		g_string_append(w->sql, " OR (manifest >= ");
		db_pg_where_arg(w, g_strconcat(exact, "/", NULL));
		g_string_append(w->sql, " AND manifest < ");
		db_pg_where_arg(w, g_strconcat(exact, "0", NULL));
		g_string_append(w->sql, ")");
	}
	g_string_append(w->sql, ")");
}

static void db_pg_where_in(struct db_pg_where *w, const char *column, const char *const *values)
{
	if (!values || !*values)
		return;
	g_string_append_printf(w->sql, " AND %s IN (", column);
	for (const char *const *v = values; *v; v++) {
		g_string_append(w->sql, v == values ? "" : ", ");
		db_pg_where_arg(w, g_strdup(*v));
	}
	g_string_append(w->sql, ")");
}

/* Ranges were checked by db.c: "start/end", 20 characters each side. */
static void db_pg_where_dates(struct db_pg_where *w, const char *const *ranges)
{
	if (!ranges || !*ranges)
		return;
	g_string_append(w->sql, " AND (");
	for (const char *const *r = ranges; *r; r++) {
		g_string_append(w->sql, r == ranges ? "created BETWEEN " : " OR created BETWEEN ");
		db_pg_where_arg(w, g_strndup(*r, 20));
		g_string_append(w->sql, " AND ");
		db_pg_where_arg(w, g_strdup(strchr(*r, '/') + 1));
	}
	g_string_append(w->sql, ")");
}

static int db_pg_collect_term(const char *term, size_t len, const char *form, size_t form_len,
			      void *ctx)
{
	(void)form;
	(void)form_len;
	g_ptr_array_add(ctx, g_strndup(term, len));
	return 0;
}

/*
 * One part of q (a word, or a phrase of several) as a subquery: the records having its terms
 * at consecutive positions. false when its text gives no term (all of it too long to be one).
 */
static bool db_pg_part(struct db_pg_where *w, const char *text)
{
	GPtrArray *terms = g_ptr_array_new_with_free_func(g_free);
	db_fold_terms(text, db_pg_collect_term, terms);
	bool any = terms->len > 0;
	if (any)
		g_string_append(w->sql, "SELECT t0.anno FROM tokens t0");
	for (guint i = 1; i < terms->len; i++) {
		g_string_append_printf(w->sql, " JOIN tokens t%u ON t%u.anno = t0.anno AND t%u.pos"
					       " = t0.pos + %u AND t%u.term = ", i, i, i, i, i);
		db_pg_where_arg(w, g_strdup(g_ptr_array_index(terms, i)));
	}
	if (any) {
		g_string_append(w->sql, " WHERE t0.term = ");
		db_pg_where_arg(w, g_strdup(g_ptr_array_index(terms, 0)));
	}
	g_ptr_array_unref(terms);
	return any;
}

static void db_pg_where_part(struct db_pg_where *w, const char *text)
{
	g_string_append(w->sql, " AND rowid IN (");
	if (!db_pg_part(w, text))
		g_string_append(w->sql, "SELECT NULL::bigint");
	g_string_append(w->sql, ")");
}

/*
 * Only words and phrases: nothing but the tokens decides (only searchable records have any:
 * no words, blocks or Georeference Annotations).
 */
static bool db_pg_text_only(const struct db_query *q, const struct db_query_parts *parts)
{
	const char *scope = q->scope ? q->scope + strspn(q->scope, "/") : "";
	return parts->count && !*scope && !(q->motivations && *q->motivations) &&
	       !(q->users && *q->users) && !(q->dates && *q->dates) && !q->has_score &&
	       !(q->exclude && *q->exclude);
}

/*
 * The count of a text-only query, from the tokens index alone (no record is read): the
 * records in every part's set.
 */
static void db_pg_count_tokens(struct db_pg_where *w, const struct db_query_parts *parts)
{
	db_pg_where_init(w, "SELECT count(*) FROM (");
	for (size_t i = 0; i < parts->count; i++) {
		g_string_append(w->sql, i ? " INTERSECT " : "");
		if (!db_pg_part(w, parts->items[i].text))
			g_string_append(w->sql, "SELECT NULL::bigint WHERE false");
	}
	/* INTERSECT removes duplicates; one part alone needs DISTINCT */
	g_string_append(w->sql, parts->count == 1 ? " GROUP BY 1) x" : ") x");
}

static void db_pg_where_search(struct db_pg_where *w, const struct db_query *q,
			       const struct db_query_parts *parts)
{
	/* as SQLite's: Georeference Annotations are not text */
	db_pg_where_init(w, " WHERE granularity IS DISTINCT FROM 'word'"
			    " AND motivation IS DISTINCT FROM 'georeferencing'");
	db_pg_where_scope(w, q);
	db_pg_where_in(w, "motivation", q->motivations);
	db_pg_where_in(w, "creator", q->users);
	db_pg_where_dates(w, q->dates);
	if (q->has_score) {
		char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
		g_string_append(w->sql, " AND score BETWEEN ");
		db_pg_where_arg(w, g_strdup(g_ascii_dtostr(lo, sizeof lo, q->score_min)));
		g_string_append(w->sql, "::float8 AND ");
		db_pg_where_arg(w, g_strdup(g_ascii_dtostr(hi, sizeof hi, q->score_max)));
		g_string_append(w->sql, "::float8");
	}
	for (size_t i = 0; i < parts->count; i++)
		db_pg_where_part(w, parts->items[i].text);
}

static PGresult *db_pg_where_exec(struct db_pg_conn *conn, const char *sql,
				  const struct db_pg_where *w, struct iiifd_error *err)
{
	return db_pg_exec_sql(conn, sql, (int)w->args->len, (const char *const *)w->args->pdata,
			      err);
}

/* The total of w's records; a text-only query (see db_pg_text_only) counts tokens only. */
static int db_pg_count(struct db_pg_conn *conn, const struct db_pg_where *w,
		       const struct db_query *q, const struct db_query_parts *parts,
		       int64_t *total, struct iiifd_error *err)
{
	struct db_pg_where tw = { 0 };
	char *sql;
	if (db_pg_text_only(q, parts)) {
		db_pg_count_tokens(&tw, parts);
		w = &tw;
		sql = g_strdup(tw.sql->str);
	} else {
		sql = g_strconcat("SELECT count(*) FROM annotations", w->sql->str, NULL);
	}
	PGresult *res = db_pg_where_exec(conn, sql, w, err);
	g_free(sql);
	if (tw.sql)
		db_pg_where_release(&tw);
	*total = res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return res ? 0 : -1;
}

int db_pg_search_count(struct db *db, const struct db_query *q,
		       const struct db_query_parts *parts, int64_t *total, struct iiifd_error *err)
{
	struct db_pg_where w;
	db_pg_where_search(&w, q, parts);
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	int rc = conn ? db_pg_count(conn, &w, q, parts, total, err) : -1;
	db_pg_release(db, conn);
	db_pg_where_release(&w);
	return rc;
}

/* Adds LIMIT (none when negative) as the next parameter. */
static void db_pg_where_limit(struct db_pg_where *w, int64_t limit)
{
	g_string_append(w->sql, " LIMIT ");
	db_pg_where_arg(w, limit < 0 ? NULL : g_strdup_printf("%" PRId64, limit));
}

/* Keyset page: the records after q->after in rowid (stored) order; nothing counted. */
static int db_pg_keyset(struct db_pg_conn *conn, struct db_pg_where *w, const struct db_query *q,
			struct anno_list *out, struct iiifd_error *err)
{
	g_string_append(w->sql, " AND rowid > ");
	db_pg_where_arg(w, g_strdup_printf("%" PRId64, q->after));
	g_string_append(w->sql, " ORDER BY rowid");
	db_pg_where_limit(w, q->limit);
	char *sql = g_strconcat("SELECT " DB_PG_COLUMNS ", rowid FROM annotations", w->sql->str,
				NULL);
	PGresult *res = db_pg_where_exec(conn, sql, w, err);
	g_free(sql);
	int rc = res ? db_pg_records_read(res, out, err) : -1;
	int n = res ? PQntuples(res) : 0;
	if (!rc && q->next_after && n > 0)
		*q->next_after = strtoll(PQgetvalue(res, n - 1, DB_PG_NCOLS), NULL, 10);
	PQclear(res);
	return rc;
}

static int db_pg_page(struct db_pg_conn *conn, struct db_pg_where *w, const struct db_query *q,
		      struct anno_list *out, struct iiifd_error *err)
{
	g_string_append(w->sql, " ORDER BY manifest NULLS FIRST, target_file, page, seq, rowid");
	db_pg_where_limit(w, q->limit);
	g_string_append(w->sql, " OFFSET ");
	db_pg_where_arg(w, g_strdup_printf("%" PRId64, q->offset));
	char *sql = g_strconcat("SELECT " DB_PG_COLUMNS " FROM annotations", w->sql->str, NULL);
	PGresult *res = db_pg_where_exec(conn, sql, w, err);
	g_free(sql);
	int rc = res ? db_pg_records_read(res, out, err) : -1;
	PQclear(res);
	return rc;
}

int db_pg_search(struct db *db, const struct db_query *q, const struct db_query_parts *parts,
		 struct anno_list *out, int64_t *total, struct iiifd_error *err)
{
	struct db_pg_where w;
	db_pg_where_search(&w, q, parts);
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	int rc = conn ? 0 : -1;
	if (conn && q->keyset) {
		rc = q->limit != 0 ? db_pg_keyset(conn, &w, q, out, err) : 0;
	} else if (conn) {
		/* one snapshot: the page and the total agree */
		rc = db_pg_simple(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
		if (!rc)
			rc = db_pg_count(conn, &w, q, parts, total, err);
		if (!rc && q->limit != 0 && q->offset < *total)
			rc = db_pg_page(conn, &w, q, out, err);
		if (!rc)
			rc = db_pg_simple(conn, "COMMIT", err);
	}
	db_pg_release(db, conn);
	db_pg_where_release(&w);
	return rc;
}

static int db_pg_terms_read(const PGresult *res, struct db_terms *out, struct iiifd_error *err)
{
	int n = PQntuples(res);
	out->items = n ? calloc((size_t)n, sizeof *out->items) : NULL;
	if (n && !out->items)
		return iiifd_error_set(err, 500, "annotation store: out of memory");
	for (int i = 0; i < n; i++) {
		if (!(out->items[i].term = strdup(PQgetvalue(res, i, 0))))
			return iiifd_error_set(err, 500, "annotation store: out of memory");
		out->items[i].count = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		out->count++;
	}
	return 0;
}

/* Terms in [prefix, prefix + U+10FFFF) within scope, of terms or term_forms. */
static void db_pg_where_terms(struct db_pg_where *w, const char *prefix,
			      const struct db_query *scope)
{
	db_pg_where_init(w, " WHERE term >= ");
	db_pg_where_arg(w, g_strdup(prefix));
	g_string_append(w->sql, " AND term < ");
	db_pg_where_arg(w, g_strconcat(prefix, DB_PG_MAX_CHAR, NULL));
	db_pg_where_scope(w, scope);
}

/*
 * Gives each term of out its most frequent original form within the prefix and scope, reading
 * the forms of the terms up to the last one of out only.
 */
static int db_pg_labels(struct db_pg_conn *conn, const char *prefix,
			const struct db_query *scope, struct db_terms *out,
			struct iiifd_error *err)
{
	if (!out->count)
		return 0;
	struct db_pg_where w;
	db_pg_where_terms(&w, prefix, scope);
	g_string_append(w.sql, " AND term <= ");
	db_pg_where_arg(&w, g_strdup(out->items[out->count - 1].term));
	char *sql = g_strconcat("SELECT DISTINCT ON (term) term, form FROM (SELECT term, form,"
				" sum(count) AS n FROM term_forms", w.sql->str, " GROUP BY term, form)"
				" f ORDER BY term, n DESC, form", NULL);
	PGresult *res = db_pg_where_exec(conn, sql, &w, err);
	g_free(sql);
	db_pg_where_release(&w);
	size_t i = 0;
	for (int row = 0; res && row < PQntuples(res); row++) {
		const char *term = PQgetvalue(res, row, 0);
		while (i < out->count && strcmp(out->items[i].term, term) < 0)
			i++;
		if (i < out->count && strcmp(out->items[i].term, term) == 0 &&
		    !(out->items[i].label = strdup(PQgetvalue(res, row, 1)))) {
			PQclear(res);
			return iiifd_error_set(err, 500, "annotation store: out of memory");
		}
	}
	PQclear(res);
	return res ? 0 : -1;
}

int db_pg_autocomplete(struct db *db, const struct db_query *scope, const char *prefix,
		       int64_t min, int64_t limit, struct db_terms *out, struct iiifd_error *err)
{
	struct db_pg_where w;
	db_pg_where_terms(&w, prefix, scope);
	g_string_append(w.sql, " GROUP BY term HAVING sum(count) >= ");
	db_pg_where_arg(&w, g_strdup_printf("%" PRId64, min > 1 ? min : 1));
	g_string_append(w.sql, " ORDER BY term");
	db_pg_where_limit(&w, limit);
	char *sql = g_strconcat("SELECT term, sum(count) FROM terms", w.sql->str, NULL);
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	PGresult *res = conn ? db_pg_where_exec(conn, sql, &w, err) : NULL;
	int rc = res ? db_pg_terms_read(res, out, err) : -1;
	if (!rc)
		rc = db_pg_labels(conn, prefix, scope, out, err);
	if (rc)
		db_terms_release(out);
	PQclear(res);
	db_pg_release(db, conn);
	db_pg_where_release(&w);
	g_free(sql);
	return rc;
}
