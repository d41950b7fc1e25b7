/*
 * pg_write.c: the PostgreSQL backend's writes: whole-source imports by COPY in one transaction
 * (serialised per source across the cluster by an advisory lock), single record insert, update
 * and delete, each with the record's tokens and the autocomplete term counts they change.
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_PG_COPY_TOKENS "COPY tokens (term, anno, pos, form) FROM STDIN"

/* As SQLite's full-text index: not words, not PAGE XML blocks (their lines are), not georef. */
static bool db_pg_indexed(const struct anno_record *rec)
{
	return rec->text && !db_is_word(rec) &&
	       !(rec->granularity && strcmp(rec->granularity, "block") == 0) &&
	       !(rec->motivation && strcmp(rec->motivation, "georeferencing") == 0);
}

/*
 * Adds sign times the term and form counts of key's tokens: which is DB_PG_TERMS_ID (key a
 * rowid) or DB_PG_TERMS_SOURCE (key a source); the forms' statement follows each. Taking
 * counts away (sign < 0) also deletes the rows of those terms left at zero, while key's tokens
 * still say which terms they are (no index on the counts: it would keep every count update
 * from being HOT, and an import updates each of its Manifest's terms once per file).
 */
static int db_pg_terms(struct db_pg_conn *conn, enum db_pg_stmt which, const char *key,
		       int sign, struct iiifd_error *err)
{
	const char *params[2] = { key, sign > 0 ? "1" : "-1" };
	bool by_id = which == DB_PG_TERMS_ID;
	enum db_pg_stmt forms = by_id ? DB_PG_FORMS_ID : DB_PG_FORMS_SOURCE;
	if (db_pg_run(conn, which, 2, params, err) || db_pg_run(conn, forms, 2, params, err))
		return -1;
	if (sign > 0)
		return 0;
	if (db_pg_run(conn, by_id ? DB_PG_TERMS_PRUNE : DB_PG_TERMS_PRUNE_SOURCE, 1, params, err))
		return -1;
	return db_pg_run(conn, by_id ? DB_PG_FORMS_PRUNE : DB_PG_FORMS_PRUNE_SOURCE, 1, params,
			 err);
}

/* Takes rowid's tokens out, with their term counts. */
static int db_pg_unindex(struct db_pg_conn *conn, const char *rowid, struct iiifd_error *err)
{
	const char *params[1] = { rowid };
	if (db_pg_terms(conn, DB_PG_TERMS_ID, rowid, -1, err))
		return -1;
	return db_pg_run(conn, DB_PG_TOKENS_DELETE_ID, 1, params, err);
}

/* Stores the tokens of rec (stored as rowid) and counts their terms. */
static int db_pg_index(struct db_pg_conn *conn, const char *rowid, const struct anno_record *rec,
		       struct iiifd_error *err)
{
	if (!db_pg_indexed(rec))
		return 0;
	GString *buf = g_string_new(NULL);
	db_pg_tokens_copy(buf, strtoll(rowid, NULL, 10), rec->text, NULL, NULL);
	int rc = db_pg_copy_send(conn, DB_PG_COPY_TOKENS, buf, err);
	g_string_free(buf, TRUE);
	return rc ? rc : db_pg_terms(conn, DB_PG_TERMS_ID, rowid, 1, err);
}

/* ---- imports --------------------------------------------------------------------------- */

struct db_pg_import {
	struct db *db;
	struct db_pg_conn *conn;
	char *source;
	struct db_pg_term_counts counts; /* of the records added so far */
};

/* Waits for any other import of source (on any node), then removes its records. */
static int db_pg_import_clear(struct db_pg_conn *conn, const char *source,
			      struct iiifd_error *err)
{
	const char *params[1] = { source };
	PGresult *res = db_pg_exec_sql(conn, "SELECT pg_advisory_xact_lock(hashtextextended("
					     "'iiifd-import:' || $1, 0))", 1, params, err);
	if (!res)
		return -1;
	PQclear(res);
	/* after the lock: its snapshot sees what an import we waited for committed */
	if (db_pg_activity_listed_before(conn, source, err))
		return -1;
	res = db_pg_exec_sql(conn, "SELECT 1 FROM annotations WHERE source = $1 LIMIT 1", 1,
			     params, err);
	if (!res)
		return -1;
	bool first = PQntuples(res) == 0;
	PQclear(res);
	if (first) /* nothing to take out (and its term counts cost a join to find out) */
		return 0;
	if (db_pg_terms(conn, DB_PG_TERMS_SOURCE, source, -1, err) ||
	    db_pg_run(conn, DB_PG_TOKENS_DELETE_SOURCE, 1, params, err))
		return -1;
	return db_pg_run(conn, DB_PG_DELETE_SOURCE, 1, params, err);
}

void *db_pg_write_import_begin(struct db *db, const char *source, struct iiifd_error *err)
{
	struct db_pg_import *imp = calloc(1, sizeof *imp);
	if (!imp || !(imp->source = strdup(source))) {
		free(imp);
		iiifd_error_set(err, 500, "annotation store: out of memory");
		return NULL;
	}
	imp->db = db;
	db_pg_term_counts_init(&imp->counts);
	imp->conn = db_pg_begin_write(db, err);
	if (imp->conn && db_pg_import_clear(imp->conn, source, err) == 0)
		return imp;
	db_pg_write_import_end(imp, -1, NULL, err);
	return NULL;
}

/* n fresh rowids, in increasing order, into rowids. */
static int db_pg_rowids(struct db_pg_conn *conn, size_t n, int64_t *rowids,
			struct iiifd_error *err)
{
	char count[24];
	snprintf(count, sizeof count, "%zu", n);
	const char *params[1] = { count };
	PGresult *res = db_pg_exec(conn, DB_PG_ROWIDS, 1, params, err);
	if (!res)
		return -1;
	int rc = (size_t)PQntuples(res) == n ? 0 : iiifd_error_set(err, 500, "annotation store:"
									     " no rowids");
	for (size_t i = 0; !rc && i < n; i++)
		rowids[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	PQclear(res);
	return rc;
}

int db_pg_write_import_add(void *arg, const struct anno_list *batch, struct iiifd_error *err)
{
	struct db_pg_import *imp = arg;
	if (!batch->count)
		return 0;
	int64_t *rowids = malloc(batch->count * sizeof *rowids);
	if (!rowids)
		return iiifd_error_set(err, 500, "annotation store: out of memory");
	int rc = db_pg_rowids(imp->conn, batch->count, rowids, err);
	GString *rows = g_string_sized_new(batch->count * 60);
	GString *tokens = g_string_sized_new(batch->count * 16);
	/* a record alone, or a line's words together (pg_runs.c) */
	for (size_t i = 0, len; !rc && i < batch->count; i += len) {
		const struct anno_record *rec = &batch->items[i];
		len = db_pg_run_length(rec, batch->count - i);
		db_pg_run_copy(rows, rowids + i, rec, len);
		if (len == 1 && db_pg_indexed(rec)) /* words never are */
			db_pg_tokens_copy(tokens, rowids[i], rec->text, &imp->counts,
					  rec->manifest);
	}
	if (!rc)
		rc = db_pg_copy_send(imp->conn, DB_PG_COPY_ROW, rows, err);
	if (!rc)
		rc = db_pg_copy_send(imp->conn, DB_PG_COPY_TOKENS, tokens, err);
	g_string_free(rows, TRUE);
	g_string_free(tokens, TRUE);
	free(rowids);
	return rc;
}

int db_pg_write_import_end(void *arg, int rc, const char *fingerprint, struct iiifd_error *err)
{
	struct db_pg_import *imp = arg;
	const char *params[2] = { imp->source, fingerprint };
	if (!rc && imp->conn)
		rc = db_pg_term_counts_store(imp->conn, &imp->counts, err);
	if (!rc && imp->conn && fingerprint)
		rc = db_pg_run(imp->conn, DB_PG_FINGERPRINT_SET, 2, params, err);
	if (!rc && imp->conn)
		rc = db_pg_activity_mark_source(imp->conn, imp->source, err);
	if (imp->conn)
		rc = db_pg_end_write(imp->db, imp->conn, rc, err);
	db_pg_term_counts_release(&imp->counts);
	free(imp->source);
	free(imp);
	return rc;
}

/* ---- single records -------------------------------------------------------------------- */

int db_pg_write_insert(struct db *db, struct anno_record *rec, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_begin_write(db, err);
	if (!conn)
		return -1;
	struct db_pg_params p;
	db_pg_record_params(rec, &p);
	PGresult *res = db_pg_exec(conn, DB_PG_INSERT, DB_PG_NCOLS, p.v, err);
	int rc = res ? db_pg_index(conn, PQgetvalue(res, 0, 0), rec, err) : -1;
	PQclear(res);
	return db_pg_end_write(db, conn, rc, err);
}

/* The rowid of id's row, and whether that row is a run of words (with its line). */
static int db_pg_row_of(struct db_pg_conn *conn, const char *id, char *buf, size_t n,
			bool *run, char **line, struct iiifd_error *err)
{
	const char *params[1] = { id };
	PGresult *res = db_pg_exec(conn, DB_PG_ROWID_OF, 1, params, err);
	if (!res)
		return -1;
	int rc = PQntuples(res) ? 0 : 1;
	*run = !rc && PQgetvalue(res, 0, 2)[0] == 't';
	*line = !rc && *run ? g_strdup(PQgetvalue(res, 0, 1)) : NULL;
	if (!rc)
		snprintf(buf, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/*
 * The rowid of id in buf, its row a record of its own: a word kept in a run is first stored
 * as one row per word again (pg_runs.c), so it can change alone. 404 when there is none.
 */
static int db_pg_rowid_of(struct db_pg_conn *conn, const char *id, char *buf, size_t n,
			  struct iiifd_error *err)
{
	bool run;
	char *line = NULL;
	int rc = db_pg_row_of(conn, id, buf, n, &run, &line, err);
	if (rc == 1 || (rc == 0 && run)) {
		if (!line)
			line = db_pg_word_line(id);
		rc = line ? db_pg_run_explode(conn, line, err) : 1;
		g_free(line);
		line = NULL;
		if (!rc)
			rc = db_pg_row_of(conn, id, buf, n, &run, &line, err);
	}
	g_free(line);
	return rc == 1 ? iiifd_error_set(err, 404, "annotation %.64s not found", id) : rc;
}

int db_pg_write_update(struct db *db, const struct anno_record *rec, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_begin_write(db, err);
	if (!conn)
		return -1;
	char rowid[24];
	int rc = db_pg_rowid_of(conn, rec->id, rowid, sizeof rowid, err);
	if (!rc)
		rc = db_pg_unindex(conn, rowid, err);
	if (!rc) {
		struct db_pg_params p;
		db_pg_record_params(rec, &p);
		PGresult *res = db_pg_exec(conn, DB_PG_UPDATE, DB_PG_NCOLS, p.v, err);
		rc = res ? 0 : -1;
		PQclear(res);
	}
	if (!rc)
		rc = db_pg_index(conn, rowid, rec, err);
	return db_pg_end_write(db, conn, rc, err);
}

int db_pg_write_delete(struct db *db, const char *id, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_begin_write(db, err);
	if (!conn)
		return -1;
	char rowid[24];
	const char *params[1] = { id };
	int rc = db_pg_rowid_of(conn, id, rowid, sizeof rowid, err);
	if (!rc)
		rc = db_pg_unindex(conn, rowid, err);
	if (!rc)
		rc = db_pg_run(conn, DB_PG_DELETE, 1, params, err);
	return db_pg_end_write(db, conn, rc, err);
}

int db_pg_write_fingerprint(struct db *db, const char *source, const char *fingerprint,
			    struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	const char *params[2] = { source, fingerprint };
	int rc = conn ? db_pg_run(conn, DB_PG_FINGERPRINT_SET, 2, params, err) : -1;
	db_pg_release(db, conn);
	return rc;
}
