/*
 * sqlite_write.c: the SQLite backend's writes: whole-source imports in one transaction, single
 * record insert/update/delete, and the autocomplete term counts that follow every change.
 */
#include "db/sqlite.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/*
 * Term count changes of one write, summed in memory and applied once at the end: an import of
 * a page of OCR touches each (manifest, term) row once, not once per occurrence.
 */
struct db_sqlite_terms {
	GHashTable *manifests; /* manifest -> (GHashTable: term -> gint64 *delta) */
	GHashTable *current;   /* the table of the manifest of the record being counted */
	int64_t sign;          /* +1 for records written, -1 for records removed */
};

static void db_sqlite_terms_init(struct db_sqlite_terms *t)
{
	t->manifests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify)g_hash_table_unref);
	t->current = NULL;
	t->sign = 1;
}

static void db_sqlite_terms_release(struct db_sqlite_terms *t)
{
	g_hash_table_unref(t->manifests);
}

/* Adds the current sign to the delta of key in the current manifest's table. */
static void db_sqlite_terms_bump(struct db_sqlite_terms *t, const char *key, size_t len)
{
	char *owned = g_strndup(key, len);
	gint64 *delta = g_hash_table_lookup(t->current, owned);
	if (!delta) {
		delta = g_new0(gint64, 1);
		g_hash_table_insert(t->current, owned, delta);
	} else {
		g_free(owned);
	}
	*delta += t->sign;
}

/*
 * A term counts under its own key; a form it was folded from also under "term\tform" (a tab is in
 * neither: both are runs of letters, digits and marks), which db_sqlite_terms_apply tells apart.
 */
static int db_sqlite_terms_one(const char *term, size_t len, const char *form, size_t form_len,
			       void *ctx)
{
	struct db_sqlite_terms *t = ctx;
	db_sqlite_terms_bump(t, term, len);
	if (form) {
		char *key = g_strdup_printf("%.*s\t%.*s", (int)len, term, (int)form_len, form);
		db_sqlite_terms_bump(t, key, strlen(key));
		g_free(key);
	}
	return 0;
}

/* Counts the terms of text (a record of manifest) with the current sign. */
static void db_sqlite_terms_count(struct db_sqlite_terms *t, const char *manifest,
				  const char *text)
{
	if (!text)
		return;
	manifest = manifest ? manifest : "";
	t->current = g_hash_table_lookup(t->manifests, manifest);
	if (!t->current) {
		t->current = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_insert(t->manifests, g_strdup(manifest), t->current);
	}
	/* text that is not UTF-8 still gets stored and indexed; it just gives no terms */
	db_fold_terms(text, db_sqlite_terms_one, t);
}

static void db_sqlite_terms_record(struct db_sqlite_terms *t, const struct anno_record *rec)
{
	if (!db_is_word(rec))
		db_sqlite_terms_count(t, rec->manifest, rec->text);
}

/* Statements that add to and prune the rows of one table of counts (terms or term_forms). */
struct db_sqlite_count_stmts {
	sqlite3_stmt *add, *prune;
};

/*
 * Adds d to one row, removing it when it falls to zero. The parameters are bound in order: the
 * term, the manifest, then the form when there is one, then d (add only).
 */
static int db_sqlite_count_write(struct db_sqlite_conn *conn, const struct db_sqlite_count_stmts *s,
				 const char *term, const char *manifest, const char *form,
				 int64_t d, struct iiifd_error *err)
{
	sqlite3_stmt *steps[2] = {s->add, d > 0 ? NULL : s->prune};
	int rc = 0;
	for (int i = 0; i < 2 && steps[i] && !rc; i++) {
		int n = 1;
		sqlite3_bind_text(steps[i], n++, term, -1, SQLITE_STATIC);
		sqlite3_bind_text(steps[i], n++, manifest, -1, SQLITE_STATIC);
		if (form)
			sqlite3_bind_text(steps[i], n++, form, -1, SQLITE_STATIC);
		if (steps[i] == s->add)
			sqlite3_bind_int64(steps[i], n, d);
		rc = sqlite3_step(steps[i]) == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "terms", err);
		sqlite3_reset(steps[i]);
	}
	return rc;
}

/* Writes the summed changes: keys "term" to terms, "term\tform" to term_forms. */
static int db_sqlite_terms_apply(struct db_sqlite_conn *conn, struct db_sqlite_terms *t,
				 struct iiifd_error *err)
{
	struct db_sqlite_count_stmts terms = {
		.add = db_sqlite_stmt(conn, DB_SQLITE_TERM_ADD, err),
		.prune = db_sqlite_stmt(conn, DB_SQLITE_TERM_PRUNE, err),
	};
	struct db_sqlite_count_stmts forms = {
		.add = db_sqlite_stmt(conn, DB_SQLITE_FORM_ADD, err),
		.prune = db_sqlite_stmt(conn, DB_SQLITE_FORM_PRUNE, err),
	};
	if (!terms.add || !terms.prune || !forms.add || !forms.prune)
		return -1;
	GHashTableIter mi, ti;
	gpointer manifest, table, key, delta;
	g_hash_table_iter_init(&mi, t->manifests);
	while (g_hash_table_iter_next(&mi, &manifest, &table)) {
		g_hash_table_iter_init(&ti, table);
		while (g_hash_table_iter_next(&ti, &key, &delta)) {
			int64_t d = *(gint64 *)delta;
			if (d == 0)
				continue;
			const char *tab = strchr(key, '\t');
			char *term = tab ? g_strndup(key, (size_t)(tab - (char *)key)) : NULL;
			int rc = db_sqlite_count_write(conn, tab ? &forms : &terms,
						       term ? term : key, manifest,
						       tab ? tab + 1 : NULL, d, err);
			g_free(term);
			if (rc)
				return -1;
		}
	}
	return 0;
}

/* Counts down the terms of the indexed records that stmt (bound by the caller) selects. */
static int db_sqlite_terms_uncount(struct db_sqlite_conn *conn, sqlite3_stmt *stmt,
				   struct db_sqlite_terms *t, struct iiifd_error *err)
{
	int rc;
	t->sign = -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		db_sqlite_terms_count(t, (const char *)sqlite3_column_text(stmt, 0),
				      (const char *)sqlite3_column_text(stmt, 1));
	t->sign = 1;
	return rc == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "read old records", err);
}

/* Runs a cached statement that takes one text (?1) and returns no rows. */
static int db_sqlite_write_run(struct db_sqlite_conn *conn, enum db_sqlite_stmt which,
			       const char *key, struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, which, err);
	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "write", err);
	db_sqlite_done(stmt);
	return rc;
}

/* Removes a source's records, their full-text entries and (in t) their term counts. */
static int db_sqlite_write_delete_source(struct db_sqlite_conn *conn, const char *source,
					 struct db_sqlite_terms *t, struct iiifd_error *err)
{
	sqlite3_stmt *texts = db_sqlite_stmt(conn, DB_SQLITE_SOURCE_TEXTS, err);
	if (!texts)
		return -1;
	sqlite3_bind_text(texts, 1, source, -1, SQLITE_STATIC);
	int rc = db_sqlite_terms_uncount(conn, texts, t, err);
	db_sqlite_done(texts);
	if (!rc)
		rc = db_sqlite_write_run(conn, DB_SQLITE_FTS_DELETE_SOURCE, source, err);
	if (!rc)
		rc = db_sqlite_write_run(conn, DB_SQLITE_DELETE_SOURCE, source, err);
	return rc;
}

static int db_sqlite_write_records(struct db_sqlite_conn *conn, const struct anno_record *recs,
				   size_t n, struct db_sqlite_terms *t, struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, DB_SQLITE_INSERT, err);
	if (!stmt)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (db_sqlite_record_bind(stmt, &recs[i]))
			rc = db_sqlite_fail(conn, "bind", err);
		else if (sqlite3_step(stmt) != SQLITE_DONE)
			rc = db_sqlite_fail(conn, "insert", err);
		sqlite3_reset(stmt);
		db_sqlite_terms_record(t, &recs[i]);
	}
	db_sqlite_done(stmt);
	return rc;
}

/* The steps of one write; t collects the term counts they change. */
typedef int (*write_steps_fn)(struct db_sqlite_conn *conn, struct db_sqlite_terms *t,
			      const void *arg, struct iiifd_error *err);

/* One write transaction: the steps, then their term counts, committed together or not at all. */
static int db_sqlite_write_transaction(struct db *db, write_steps_fn steps, const void *arg,
				       struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_begin_write(db, err);
	if (!conn)
		return -1;
	struct db_sqlite_terms terms;
	db_sqlite_terms_init(&terms);
	int rc = steps(conn, &terms, arg, err);
	if (!rc)
		rc = db_sqlite_terms_apply(conn, &terms, err);
	db_sqlite_terms_release(&terms);
	return db_sqlite_end_write(db, conn, rc, err);
}

/* A streamed import: one write transaction from begin to end, term counts summed across it. */
struct db_sqlite_import {
	struct db *db;
	struct db_sqlite_conn *conn;
	struct db_sqlite_terms terms;
	char *source;
};

void *db_sqlite_write_import_begin(struct db *db, const char *source, struct iiifd_error *err)
{
	struct db_sqlite_import *imp = calloc(1, sizeof *imp);
	if (!imp || !(imp->source = strdup(source))) {
		free(imp);
		iiifd_error_set(err, 500, "annotation store: out of memory");
		return NULL;
	}
	imp->db = db;
	db_sqlite_terms_init(&imp->terms);
	imp->conn = db_sqlite_begin_write(db, err);
	if (imp->conn) {
		db_sqlite_big_cache(imp->conn);
		if (db_sqlite_activity_listed_before(imp->conn, source, err) == 0 &&
		    db_sqlite_write_delete_source(imp->conn, source, &imp->terms, err) == 0)
			return imp;
	}
	db_sqlite_write_import_end(imp, -1, NULL, err);
	return NULL;
}

int db_sqlite_write_import_add(void *arg, const struct anno_list *batch, struct iiifd_error *err)
{
	struct db_sqlite_import *imp = arg;
	return db_sqlite_write_records(imp->conn, batch->items, batch->count, &imp->terms, err);
}

/* Sets the fingerprint of source, inside the import's transaction. */
static int db_sqlite_write_fingerprint(struct db_sqlite_conn *conn, const char *source,
				       const char *fingerprint, struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, DB_SQLITE_FINGERPRINT_SET, err);
	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, fingerprint, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "fingerprint", err);
	db_sqlite_done(stmt);
	return rc;
}

int db_sqlite_write_import_end(void *arg, int rc, const char *fingerprint,
			       struct iiifd_error *err)
{
	struct db_sqlite_import *imp = arg;
	/* the full-text index in one statement: FTS5 flushes its pending terms once */
	if (!rc && imp->conn)
		rc = db_sqlite_write_run(imp->conn, DB_SQLITE_FTS_ADD_SOURCE, imp->source, err);
	if (!rc && imp->conn && fingerprint)
		rc = db_sqlite_write_fingerprint(imp->conn, imp->source, fingerprint, err);
	if (!rc && imp->conn)
		rc = db_sqlite_activity_mark_source(imp->conn, imp->source, err);
	if (!rc && imp->conn)
		rc = db_sqlite_terms_apply(imp->conn, &imp->terms, err);
	if (imp->conn)
		rc = db_sqlite_end_write(imp->db, imp->conn, rc, err);
	db_sqlite_terms_release(&imp->terms);
	free(imp->source);
	free(imp);
	return rc;
}

static int insert_steps(struct db_sqlite_conn *conn, struct db_sqlite_terms *t, const void *arg,
			struct iiifd_error *err)
{
	const struct anno_record *rec = arg;
	int rc = db_sqlite_write_records(conn, rec, 1, t, err);
	return rc ? rc : db_sqlite_write_run(conn, DB_SQLITE_FTS_ADD_ID, rec->id, err);
}

int db_sqlite_write_insert(struct db *db, struct anno_record *rec, struct iiifd_error *err)
{
	return db_sqlite_write_transaction(db, insert_steps, rec, err);
}

/* Takes record id (as stored) out of the full-text index and (in t) the term counts. */
static int db_sqlite_write_unindex(struct db_sqlite_conn *conn, const char *id,
				   struct db_sqlite_terms *t, struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, DB_SQLITE_INDEXED_TEXT, err);
	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	int rc = db_sqlite_terms_uncount(conn, stmt, t, err);
	db_sqlite_done(stmt);
	return rc ? rc : db_sqlite_write_run(conn, DB_SQLITE_FTS_DELETE_ID, id, err);
}

/* Runs the UPDATE or DELETE stmt (bound); 404 when it touched no row. */
static int db_sqlite_write_change(struct db_sqlite_conn *conn, sqlite3_stmt *stmt,
				  const char *id, struct iiifd_error *err)
{
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "write", err);
	if (!rc && sqlite3_changes(conn->handle) == 0)
		rc = iiifd_error_set(err, 404, "annotation %.64s not found", id);
	db_sqlite_done(stmt);
	return rc;
}

static int db_sqlite_write_update_row(struct db_sqlite_conn *conn,
				      const struct anno_record *rec, struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, DB_SQLITE_UPDATE, err);
	if (!stmt)
		return -1;
	if (db_sqlite_record_bind(stmt, rec)) {
		db_sqlite_done(stmt);
		return db_sqlite_fail(conn, "bind", err);
	}
	return db_sqlite_write_change(conn, stmt, rec->id, err);
}

static int update_steps(struct db_sqlite_conn *conn, struct db_sqlite_terms *t, const void *arg,
			struct iiifd_error *err)
{
	const struct anno_record *rec = arg;
	int rc = db_sqlite_write_unindex(conn, rec->id, t, err);
	if (!rc)
		rc = db_sqlite_write_update_row(conn, rec, err);
	if (!rc)
		rc = db_sqlite_write_run(conn, DB_SQLITE_FTS_ADD_ID, rec->id, err);
	if (!rc)
		db_sqlite_terms_record(t, rec);
	return rc;
}

int db_sqlite_write_update(struct db *db, const struct anno_record *rec,
			   struct iiifd_error *err)
{
	return db_sqlite_write_transaction(db, update_steps, rec, err);
}

static int delete_steps(struct db_sqlite_conn *conn, struct db_sqlite_terms *t, const void *arg,
			struct iiifd_error *err)
{
	const char *id = arg;
	int rc = db_sqlite_write_unindex(conn, id, t, err);
	sqlite3_stmt *stmt = rc ? NULL : db_sqlite_stmt(conn, DB_SQLITE_DELETE, err);
	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	return db_sqlite_write_change(conn, stmt, id, err);
}

int db_sqlite_write_delete(struct db *db, const char *id, struct iiifd_error *err)
{
	return db_sqlite_write_transaction(db, delete_steps, id, err);
}

int db_sqlite_terms_rebuild(struct db_sqlite_conn *conn, struct iiifd_error *err)
{
	if (sqlite3_exec(conn->handle, "DELETE FROM terms; DELETE FROM term_forms;", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_sqlite_fail(conn, "terms", err);
	sqlite3_stmt *texts = db_sqlite_stmt(conn, DB_SQLITE_ALL_TEXTS, err);
	if (!texts)
		return -1;
	struct db_sqlite_terms t;
	db_sqlite_terms_init(&t);
	int step;
	while ((step = sqlite3_step(texts)) == SQLITE_ROW)
		db_sqlite_terms_count(&t, (const char *)sqlite3_column_text(texts, 0),
				      (const char *)sqlite3_column_text(texts, 1));
	db_sqlite_done(texts);
	int rc = step == SQLITE_DONE ? db_sqlite_terms_apply(conn, &t, err)
				     : db_sqlite_fail(conn, "read records", err);
	db_sqlite_terms_release(&t);
	return rc;
}
