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

int db_pg_read_get(struct db *db, const char *id, struct anno_record *out,
		   struct iiifd_error *err)
{
	const char *params[1] = { id };
	PGresult *res = db_pg_query(db, DB_PG_GET, 1, params, err);
	int rc = -1;
	if (res && PQntuples(res) == 0)
		rc = iiifd_error_set(err, 404, "annotation %.64s not found", id);
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

static int db_pg_rows(struct db *db, enum db_pg_stmt which, int n, const char *const *params,
		      struct anno_list *out, struct iiifd_error *err)
{
	PGresult *res = db_pg_query(db, which, n, params, err);
	int rc = res ? db_pg_records_read(res, out, err) : -1;
	PQclear(res);
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

int db_pg_read_list_target_after(struct db *db, const char *target_file, int page,
				 const char *motivation, struct db_cursor *cursor, int64_t limit,
				 struct anno_list *out, struct iiifd_error *err)
{
	struct db_pg_target t;
	db_pg_target(&t, target_file, page, motivation, cursor, limit);
	PGresult *res = db_pg_query(db, DB_PG_LIST_TARGET_AFTER, 7, t.v, err);
	int rc = res ? db_pg_records_read(res, out, err) : -1;
	int last = res ? PQntuples(res) - 1 : -1;
	if (!rc && last >= 0) {
		cursor->seq = strtoll(PQgetvalue(res, last, DB_PG_NCOLS), NULL, 10);
		cursor->rowid = strtoll(PQgetvalue(res, last, DB_PG_NCOLS + 1), NULL, 10);
	}
	PQclear(res);
	return rc;
}

int db_pg_read_cursor_back(struct db *db, const char *target_file, int page,
			   const char *motivation, const struct db_cursor *from, int64_t n,
			   struct db_cursor *out, bool *found, struct iiifd_error *err)
{
	struct db_pg_target t;
	db_pg_target(&t, target_file, page, motivation, from, n);
	PGresult *res = db_pg_query(db, DB_PG_LIST_TARGET_BACK, 7, t.v, err);
	*found = res && PQntuples(res) > 0;
	if (*found)
		*out = (struct db_cursor){ strtoll(PQgetvalue(res, 0, 0), NULL, 10),
					   strtoll(PQgetvalue(res, 0, 1), NULL, 10) };
	PQclear(res);
	return res ? 0 : -1;
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
