/*
 * pg_search.c: full-text search on PostgreSQL over iiifd's own tokens (db_fold_terms(): the same
 * word splitting and folding as the terms of SQLite), so both backends find the same records in
 * the same order. A word is a lookup of its term in the tokens index; a phrase joins one token
 * row per word on consecutive positions. Filters (where.c), pages by offset or after a record
 * (keyset), found by gathering the hits or, when they are common, by walking the searchable
 * records in result order; and autocomplete.
 */
#include "db/pg.h"
#include "db/where.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Just past every string that starts with a given prefix: U+10FFFF, the last code point. */
#define DB_PG_MAX_CHAR "\xf4\x8f\xbf\xbf"

/* The order of search results, as SQLite's (NULL sorts first there). */
#define DB_PG_HIT_ORDER " ORDER BY manifest NULLS FIRST, target_file, page, seq, rowid"

/*
 * A walk in result order reads about this many records (index entries, and a tokens lookup
 * each) for what gathering every hit first costs per hit (reading its record to sort it).
 */
#define DB_PG_WALK_PER_HIT 3

static int db_pg_collect_term(const char *term, size_t len, const char *form, size_t form_len,
			      void *ctx)
{
	(void)form;
	(void)form_len;
	g_ptr_array_add(ctx, g_strndup(term, len));
	return 0;
}

/*
 * One part of q (a word, or a phrase of several): its first word's tokens, joined to one
 * token per further word at the following positions. As a set (probe false): "SELECT t0.anno
 * FROM ..." the records having it; as a test of the record a.rowid (probe true): "SELECT true
 * FROM ... LIMIT 1". false when its text gives no term (all of it too long to be one).
 */
static bool db_pg_part(struct db_where *w, const char *text, bool probe)
{
	GPtrArray *terms = g_ptr_array_new_with_free_func(g_free);
	db_fold_terms(text, db_pg_collect_term, terms);
	bool any = terms->len > 0;
	if (any)
		g_string_append(w->sql, probe ? "SELECT true FROM tokens t0" : "SELECT t0.anno FROM tokens t0");
	for (guint i = 1; i < terms->len; i++) {
		g_string_append_printf(w->sql, " JOIN tokens t%u ON t%u.anno = t0.anno AND t%u.pos"
					       " = t0.pos + %u AND t%u.term = ", i, i, i, i, i);
		db_where_arg(w, g_strdup(g_ptr_array_index(terms, i)));
	}
	if (any) {
		g_string_append(w->sql, " WHERE t0.term = ");
		db_where_arg(w, g_strdup(g_ptr_array_index(terms, 0)));
		g_string_append(w->sql, probe ? " AND t0.anno = a.rowid LIMIT 1" : "");
	}
	g_ptr_array_unref(terms);
	return any;
}

/* " AND ..." for every part of q: each a set of records, or a test of a.rowid (probe). */
static void db_pg_where_text(struct db_where *w, const struct db_query_parts *parts, bool probe)
{
	for (size_t i = 0; i < parts->count; i++) {
		g_string_append(w->sql, probe ? " AND (" : " AND rowid IN (");
		if (!db_pg_part(w, parts->items[i].text, probe))
			g_string_append(w->sql, probe ? "SELECT false" : "SELECT NULL::bigint");
		g_string_append(w->sql, ")");
	}
}

/*
 * The count of a text-only query, from the tokens index alone (no record is read): the
 * records in every part's set.
 */
static void db_pg_count_tokens(struct db_where *w, const struct db_query_parts *parts)
{
	db_where_init(w, "SELECT count(*) FROM (", true);
	for (size_t i = 0; i < parts->count; i++) {
		g_string_append(w->sql, i ? " INTERSECT " : "");
		if (!db_pg_part(w, parts->items[i].text, false))
			g_string_append(w->sql, "SELECT NULL::bigint WHERE false");
	}
	/* INTERSECT removes duplicates; one part alone needs DISTINCT */
	g_string_append(w->sql, parts->count == 1 ? " GROUP BY 1) x" : ") x");
}

static PGresult *db_pg_where_exec(struct db_pg_conn *conn, const char *sql,
				  const struct db_where *w, struct iiifd_error *err)
{
	return db_pg_exec_sql(conn, sql, (int)w->args->len, (const char *const *)w->args->pdata,
			      err);
}

/* The total of q's records; a text-only query counts tokens only. */
static int db_pg_count(struct db_pg_conn *conn, const struct db_query *q,
		       const struct db_query_parts *parts, int64_t *total, struct iiifd_error *err)
{
	struct db_where w;
	if (parts->count && db_where_text_only(q)) {
		db_pg_count_tokens(&w, parts);
	} else {
		db_where_init(&w, "SELECT count(*) FROM annotations WHERE", true);
		db_where_filters(&w, q, "manifest");
		db_pg_where_text(&w, parts, false);
	}
	PGresult *res = db_pg_where_exec(conn, w.sql->str, &w, err);
	db_where_release(&w);
	*total = res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return res ? 0 : -1;
}

int db_pg_search_count(struct db *db, const struct db_query *q,
		       const struct db_query_parts *parts, int64_t *total, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	int rc = conn ? db_pg_count(conn, q, parts, total, err) : -1;
	db_pg_release(db, conn);
	return rc;
}

/* Adds LIMIT (none when negative) as the next parameter. */
static void db_pg_where_limit(struct db_where *w, int64_t limit)
{
	g_string_append(w->sql, " LIMIT ");
	db_where_arg(w, limit < 0 ? NULL : g_strdup_printf("%" PRId64, limit));
}

/* Keyset page: the records after q->after in rowid (stored) order; nothing counted. */
static int db_pg_keyset(struct db_pg_conn *conn, const struct db_query *q,
			const struct db_query_parts *parts, struct anno_list *out,
			struct iiifd_error *err)
{
	struct db_where w;
	db_where_init(&w, "SELECT " DB_PG_COLUMNS ", rowid FROM annotations WHERE", true);
	db_where_filters(&w, q, "manifest");
	db_pg_where_text(&w, parts, false);
	g_string_append(w.sql, " AND rowid > ");
	db_where_arg(&w, g_strdup_printf("%" PRId64, q->after));
	g_string_append(w.sql, " ORDER BY rowid");
	db_pg_where_limit(&w, q->limit);
	PGresult *res = db_pg_where_exec(conn, w.sql->str, &w, err);
	db_where_release(&w);
	int rc = res ? db_pg_records_read(res, out, err) : -1;
	int n = res ? PQntuples(res) : 0;
	if (!rc && q->next_after && n > 0)
		*q->next_after = strtoll(PQgetvalue(res, n - 1, DB_PG_NCOLS), NULL, 10);
	PQclear(res);
	return rc;
}

/*
 * The sort key of q->page_after, the record a numbered page follows, when it is still there
 * with a Manifest (true); else false: the page is found by offset.
 */
static bool db_pg_page_key(struct db_pg_conn *conn, const struct db_query *q,
			   struct db_where_key *key)
{
	if (q->page_after <= 0)
		return false;
	char rowid[24];
	snprintf(rowid, sizeof rowid, "%" PRId64, q->page_after);
	const char *params[1] = { rowid };
	struct iiifd_error ignored;
	PGresult *res = db_pg_exec_sql(conn, "SELECT manifest, target_file, page, seq FROM"
					     " annotations WHERE rowid = $1 AND manifest IS NOT NULL",
				       1, params, &ignored);
	bool found = res && PQntuples(res) == 1;
	for (int i = 0; found && i < 4; i++)
		key->v[i] = g_strdup(PQgetvalue(res, 0, i));
	if (found)
		key->v[4] = g_strdup(rowid);
	PQclear(res);
	return found;
}

/* The searchable records (an estimate from the last ANALYZE or VACUUM; -1 unknown). */
static double db_pg_searchable(struct db_pg_conn *conn)
{
	struct iiifd_error ignored;
	PGresult *res = db_pg_exec_sql(conn, "SELECT reltuples FROM pg_class"
					     " WHERE oid = to_regclass('annotations_hits')",
				       0, NULL, &ignored);
	double n = res && PQntuples(res) == 1 ? strtod(PQgetvalue(res, 0, 0), NULL) : -1;
	PQclear(res);
	return n;
}

/*
 * Whether to walk the searchable records in result order, testing each for q's text, rather
 * than gather every hit and sort: when hits are common enough that the page is found after a
 * walk cheaper than reading them all.
 */
static bool db_pg_walk(struct db_pg_conn *conn, const struct db_query *q,
		       const struct db_query_parts *parts, int64_t skip, int64_t total)
{
	if (!parts->count || q->limit < 0 || total <= 0)
		return false;
	double searchable = db_pg_searchable(conn);
	double walk = (double)(skip + q->limit) * searchable / (double)total;
	return searchable > 0 && walk < DB_PG_WALK_PER_HIT * (double)total;
}

/*
 * One numbered page: after q->page_after when given (keyset: any page costs what the first
 * does), else at q->offset; the key of its last record in *q->page_last.
 */
static int db_pg_page(struct db_pg_conn *conn, const struct db_query *q,
		      const struct db_query_parts *parts, int64_t total, struct anno_list *out,
		      struct iiifd_error *err)
{
	struct db_where_key key = { 0 };
	bool after = db_pg_page_key(conn, q, &key);
	int64_t skip = after ? 0 : q->offset;
	bool walk = db_pg_walk(conn, q, parts, skip, total);
	struct db_where w;
	/* the walk reads the searchable records' index only, then the page's records */
	db_where_init(&w, walk ? "SELECT " DB_PG_COLUMNS ", rowid FROM annotations WHERE rowid IN"
				 " (SELECT rowid FROM annotations a WHERE"
			       : "SELECT " DB_PG_COLUMNS ", rowid FROM annotations WHERE", true);
	db_where_filters(&w, q, "manifest");
	if (after)
		db_where_after(&w, &key);
	db_where_key_release(&key);
	db_pg_where_text(&w, parts, walk);
	g_string_append(w.sql, DB_PG_HIT_ORDER);
	db_pg_where_limit(&w, q->limit);
	g_string_append(w.sql, " OFFSET ");
	db_where_arg(&w, g_strdup_printf("%" PRId64, skip));
	if (walk)
		g_string_append(w.sql, ")" DB_PG_HIT_ORDER);
	PGresult *res = db_pg_where_exec(conn, w.sql->str, &w, err);
	db_where_release(&w);
	int rc = res ? db_pg_records_read(res, out, err) : -1;
	int n = res ? PQntuples(res) : 0;
	if (!rc && q->page_last)
		*q->page_last = n ? strtoll(PQgetvalue(res, n - 1, DB_PG_NCOLS), NULL, 10) : 0;
	PQclear(res);
	return rc;
}

int db_pg_search(struct db *db, const struct db_query *q, const struct db_query_parts *parts,
		 struct anno_list *out, int64_t *total, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	int rc = conn ? 0 : -1;
	if (conn && q->keyset) {
		rc = q->limit != 0 ? db_pg_keyset(conn, q, parts, out, err) : 0;
	} else if (conn && q->known_total) { /* counted before, in this state of the store */
		*total = *q->known_total;
		if (q->limit != 0 && q->offset < *total)
			rc = db_pg_page(conn, q, parts, *total, out, err);
	} else if (conn) {
		/* one snapshot: the page and the total agree */
		rc = db_pg_simple(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
		if (!rc)
			rc = db_pg_count(conn, q, parts, total, err);
		if (!rc && q->limit != 0 && q->offset < *total)
			rc = db_pg_page(conn, q, parts, *total, out, err);
		if (!rc)
			rc = db_pg_simple(conn, "COMMIT", err);
	}
	db_pg_release(db, conn);
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
static void db_pg_where_terms(struct db_where *w, const char *prefix,
			      const struct db_query *scope)
{
	db_where_init(w, " WHERE term >= ", true);
	db_where_arg(w, g_strdup(prefix));
	g_string_append(w->sql, " AND term < ");
	db_where_arg(w, g_strconcat(prefix, DB_PG_MAX_CHAR, NULL));
	db_where_scope(w, scope, "manifest");
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
	struct db_where w;
	db_pg_where_terms(&w, prefix, scope);
	g_string_append(w.sql, " AND term <= ");
	db_where_arg(&w, g_strdup(out->items[out->count - 1].term));
	char *sql = g_strconcat("SELECT DISTINCT ON (term) term, form FROM (SELECT term, form,"
				" sum(count) AS n FROM term_forms", w.sql->str, " GROUP BY term, form)"
				" f ORDER BY term, n DESC, form", NULL);
	PGresult *res = db_pg_where_exec(conn, sql, &w, err);
	g_free(sql);
	db_where_release(&w);
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
	struct db_where w;
	db_pg_where_terms(&w, prefix, scope);
	g_string_append(w.sql, " GROUP BY term HAVING sum(count) >= ");
	db_where_arg(&w, g_strdup_printf("%" PRId64, min > 1 ? min : 1));
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
	db_where_release(&w);
	g_free(sql);
	return rc;
}
