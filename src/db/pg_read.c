/*
 * pg_read.c: the PostgreSQL backend's reads: single records, a Canvas's records (keyset pages),
 * a line's words, sources and fingerprints, and the store's change counter.
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a fixed statement on a pooled connection; the result or NULL with err set. */
static PGresult *db_pg_query(struct db *db, enum db_pg_stmt which, int n,
			     const char *const *params, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	PGresult *res = conn ? db_pg_exec(conn, which, n, params, err) : NULL;
	db_pg_release(db, conn);
	return res;
}

/* Rows of a statement that may hold runs, expanded into k (unsorted). */
static int db_pg_keyed_query(struct db *db, enum db_pg_stmt which, int n,
			     const char *const *params, struct db_pg_keyed *k,
			     struct iiifd_error *err)
{
	PGresult *res = db_pg_query(db, which, n, params, err);
	int rc = res ? db_pg_keyed_read(res, k, err) : -1;
	PQclear(res);
	return rc;
}

/* A word kept in its line's run (not a row of its own): found through the line. */
static int db_pg_read_run_word(struct db *db, const char *id, struct anno_record *out,
			       struct iiifd_error *err)
{
	char *line = db_pg_word_line(id);
	struct db_pg_keyed k = {0};
	const char *params[1] = { line };
	int rc = line ? db_pg_keyed_query(db, DB_PG_LINE_WORDS, 1, params, &k, err) : 0;
	size_t i = 0;
	while (!rc && i < k.list.count && strcmp(k.list.items[i].id, id) != 0)
		i++;
	if (!rc && i == k.list.count)
		rc = iiifd_error_set(err, 404, "annotation %.64s not found", id);
	if (!rc) {
		*out = k.list.items[i];
		memset(&k.list.items[i], 0, sizeof k.list.items[i]);
	}
	db_pg_keyed_release(&k);
	g_free(line);
	return rc;
}

int db_pg_read_get(struct db *db, const char *id, struct anno_record *out,
		   struct iiifd_error *err)
{
	const char *params[1] = { id };
	PGresult *res = db_pg_query(db, DB_PG_GET, 1, params, err);
	int rc = -1;
	if (res && PQntuples(res) == 0)
		rc = db_pg_read_run_word(db, id, out, err);
	else if (res)
		rc = db_pg_record_read(res, 0, out) ? iiifd_error_set(err, 500, "annotation store:"
									     " out of memory")
						    : 0;
	if (rc)
		anno_record_release(out);
	PQclear(res);
	return rc;
}

bool db_pg_read_is_current(struct db *db, const char *source, const char *fingerprint)
{
	struct iiifd_error err;
	const char *params[1] = { source };
	PGresult *res = db_pg_query(db, DB_PG_FINGERPRINT_GET, 1, params, &err);
	bool current = res && PQntuples(res) && strcmp(PQgetvalue(res, 0, 0), fingerprint) == 0;
	PQclear(res);
	return current;
}

/* Every record of rows that may hold runs, in key order, appended to out. */
static int db_pg_rows(struct db *db, enum db_pg_stmt which, int n, const char *const *params,
		      struct anno_list *out, struct iiifd_error *err)
{
	struct db_pg_keyed k = {0};
	int rc = db_pg_keyed_query(db, which, n, params, &k, err);
	if (!rc)
		rc = db_pg_keyed_move_all(&k, out, err);
	db_pg_keyed_release(&k);
	return rc;
}

int db_pg_read_list_target(struct db *db, const char *target_file, int page,
			   const char *motivation, struct anno_list *out, struct iiifd_error *err)
{
	char page_s[16];
	snprintf(page_s, sizeof page_s, "%d", page);
	const char *params[3] = { target_file, page_s, motivation };
	return motivation ? db_pg_rows(db, DB_PG_LIST_TARGET_MOTIVATION, 3, params, out, err)
			  : db_pg_rows(db, DB_PG_LIST_TARGET, 2, params, out, err);
}

/* A Canvas, one of its pages and a position, as $1..$6 (see DB_PG_PAGE_WORDS). */
struct db_pg_target {
	const char *v[7];
	char page[16], seq[24], rowid[24], n[24];
};

static void db_pg_target(struct db_pg_target *t, const char *target_file, int page,
			 const char *name, const struct db_cursor *at, int64_t n)
{
	bool words = strcmp(name, DB_PAGE_WORDS) == 0;
	snprintf(t->page, sizeof t->page, "%d", page);
	snprintf(t->seq, sizeof t->seq, "%" PRId64, at ? at->seq : 0);
	snprintf(t->rowid, sizeof t->rowid, "%" PRId64, at ? at->rowid : 0);
	snprintf(t->n, sizeof t->n, "%" PRId64, n);
	t->v[0] = target_file;
	t->v[1] = t->page;
	t->v[2] = words ? "supplementing" : name;
	t->v[3] = words ? "true" : "false";
	t->v[4] = t->seq;
	t->v[5] = t->rowid;
	t->v[6] = n < 0 ? NULL : t->n; /* LIMIT NULL: no limit */
}

/*
 * The rows after *cursor (a page's worth) and the runs reaching past it hold the page's records:
 * any other row starts after the last of those rows, so its records come later.
 */
int db_pg_read_list_target_after(struct db *db, const char *target_file, int page,
				 const char *motivation, struct db_cursor *cursor, int64_t limit,
				 struct anno_list *out, struct iiifd_error *err)
{
	struct db_pg_target t;
	db_pg_target(&t, target_file, page, motivation, cursor, limit);
	struct db_pg_keyed k = {0};
	int rc = db_pg_keyed_query(db, DB_PG_LIST_TARGET_AFTER, 7, t.v, &k, err);
	if (!rc)
		db_pg_keyed_sort(&k);
	int64_t taken = 0;
	for (size_t i = 0; !rc && i < k.list.count && (limit < 0 || taken < limit); i++) {
		if (db_pg_keyed_cmp(&k, i, cursor) <= 0)
			continue;
		*cursor = (struct db_cursor){ k.list.items[i].seq, k.rowids[i] };
		rc = db_pg_keyed_move(&k, i, out, err);
		taken++;
	}
	db_pg_keyed_release(&k);
	return rc;
}

/* Appends the keys of k's records at or before c to keys, k released. */
static void db_pg_keys_upto(struct db_pg_keyed *k, const struct db_cursor *c, GArray *keys)
{
	for (size_t i = 0; i < k->list.count; i++) {
		if (db_pg_keyed_cmp(k, i, c) > 0)
			continue;
		struct db_cursor key = { k->list.items[i].seq, k->rowids[i] };
		g_array_append_val(keys, key);
	}
	db_pg_keyed_release(k);
}

static gint db_pg_cursor_desc(gconstpointer a, gconstpointer b)
{
	const struct db_cursor *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? 1 : -1;
	return x->rowid < y->rowid ? 1 : x->rowid > y->rowid ? -1 : 0;
}

/*
 * The n + 1 rows that start at or before *from hold at least n + 1 records there; beside them,
 * only runs that start before the earliest of those rows and reach it can hold records as late.
 */
int db_pg_read_cursor_back(struct db *db, const char *target_file, int page,
			   const char *motivation, const struct db_cursor *from, int64_t n,
			   struct db_cursor *out, bool *found, struct iiifd_error *err)
{
	struct db_pg_target t;
	db_pg_target(&t, target_file, page, motivation, from, n + 1);
	PGresult *res = db_pg_query(db, DB_PG_LIST_TARGET_BACK, 7, t.v, err);
	struct db_pg_keyed k = {0};
	int rc = res ? db_pg_keyed_read(res, &k, err) : -1;
	int rows = res ? PQntuples(res) : 0;
	struct db_cursor earliest = { 0, 0 };
	if (rows > 0)
		earliest = (struct db_cursor){
			strtoll(PQgetvalue(res, rows - 1, 19), NULL, 10),
			strtoll(PQgetvalue(res, rows - 1, DB_PG_NCOLS), NULL, 10) };
	PQclear(res);
	GArray *keys = g_array_new(FALSE, FALSE, sizeof(struct db_cursor));
	db_pg_keys_upto(&k, from, keys);
	if (!rc && rows == n + 1) {
		db_pg_target(&t, target_file, page, motivation, &earliest, 0);
		rc = db_pg_keyed_query(db, DB_PG_LIST_TARGET_BACK_RUNS, 6, t.v, &k, err);
		db_pg_keys_upto(&k, from, keys);
	}
	g_array_sort(keys, db_pg_cursor_desc);
	*found = !rc && (int64_t)keys->len > n;
	if (*found)
		*out = g_array_index(keys, struct db_cursor, n);
	g_array_free(keys, TRUE);
	return rc;
}

int db_pg_read_count_target(struct db *db, const char *target_file, int page,
			    const char *motivation, int64_t *count, struct iiifd_error *err)
{
	struct db_pg_target t;
	db_pg_target(&t, target_file, page, motivation, NULL, 0);
	PGresult *res = db_pg_query(db, DB_PG_COUNT_TARGET, 4, t.v, err);
	*count = res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return res ? 0 : -1;
}

int db_pg_read_line_words(struct db *db, const char *line_id, struct anno_list *out,
			  struct iiifd_error *err)
{
	const char *params[1] = { line_id };
	return db_pg_rows(db, DB_PG_LINE_WORDS, 1, params, out, err);
}

/* The first column of every row of res, as a malloc'd array of malloc'd strings. */
static int db_pg_strings(const PGresult *res, char ***out, size_t *count,
			 struct iiifd_error *err)
{
	int n = PQntuples(res);
	*out = NULL;
	*count = 0;
	if (n == 0)
		return 0;
	*out = calloc((size_t)n + 1, sizeof **out);
	for (int i = 0; *out && i < n; i++) {
		if (!((*out)[i] = strdup(PQgetvalue(res, i, 0)))) {
			for (int j = 0; j < i; j++)
				free((*out)[j]);
			free(*out);
			*out = NULL;
		}
	}
	*count = *out ? (size_t)n : 0;
	return *out ? 0 : iiifd_error_set(err, 500, "annotation store: out of memory");
}

int db_pg_read_sources(struct db *db, const char *folder, char ***out, size_t *count,
		       struct iiifd_error *err)
{
	char *prefix = *folder ? g_strdup_printf("%s/", folder) : g_strdup("");
	const char *params[1] = { prefix };
	PGresult *res = db_pg_query(db, DB_PG_SOURCES_BELOW, 1, params, err);
	int rc = res ? db_pg_strings(res, out, count, err) : -1;
	PQclear(res);
	g_free(prefix);
	return rc;
}

int db_pg_read_motivations(struct db *db, const char *target_file, int page, char ***out,
			   size_t *count, struct iiifd_error *err)
{
	char page_s[16];
	snprintf(page_s, sizeof page_s, "%d", page);
	const char *params[2] = { target_file, page_s };
	PGresult *res = db_pg_query(db, DB_PG_MOTIVATIONS, 2, params, err);
	int rc = res ? db_pg_strings(res, out, count, err) : -1;
	PQclear(res);
	return rc;
}

int db_pg_read_stamp(struct db *db, char **out, struct iiifd_error *err)
{
	PGresult *res = db_pg_query(db, DB_PG_STAMP, 0, NULL, err);
	*out = res && PQntuples(res) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return *out ? 0 : (res ? iiifd_error_set(err, 500, "annotation store: no state") : -1);
}
