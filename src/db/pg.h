/*
 * pg.h: what the PostgreSQL backend's files share (private to src/db): a bounded connection
 * pool that drops broken connections (a restarted server costs the requests in flight only),
 * prepared statements per connection, write transactions, rows <-> records, and the token
 * table that full-text search runs on.
 *
 * The store is one PostgreSQL database (or schema, from the URI's options): annotations with a
 * bigserial rowid, tokens (term, anno, pos, form) made by db_fold_terms() from every indexed
 * record, terms and term_forms (autocomplete counts and labels), sources (fingerprints),
 * iiifd_state (the change counter), iiifd_schema (migrations), auth_revoked, and Change
 * Discovery's activities and activity_state (pg_activity.c). Nothing
 * needs an extension or a superuser.
 */
#ifndef IIIFD_DB_PG_H
#define IIIFD_DB_PG_H

#include <glib.h>
#include <libpq-fe.h>

#include "db/backend.h"

/* The statements every connection prepares once (lazily, by name "iiifd_N") and keeps. */
enum db_pg_stmt {
	DB_PG_GET,
	DB_PG_INSERT,
	DB_PG_UPDATE,
	DB_PG_DELETE,
	DB_PG_ROWIDS,
	DB_PG_ROWID_OF,
	DB_PG_TOKENS_DELETE_ID,
	DB_PG_TOKENS_DELETE_SOURCE,
	DB_PG_DELETE_SOURCE,
	DB_PG_TERMS_ID,
	DB_PG_TERMS_SOURCE,
	DB_PG_TERMS_PRUNE,
	DB_PG_FORMS_ID,
	DB_PG_FORMS_SOURCE,
	DB_PG_FORMS_PRUNE,
	DB_PG_FINGERPRINT_GET,
	DB_PG_FINGERPRINT_SET,
	DB_PG_LIST_TARGET,
	DB_PG_LIST_TARGET_MOTIVATION,
	DB_PG_LIST_TARGET_AFTER,
	DB_PG_LIST_TARGET_BACK,
	DB_PG_COUNT_TARGET,
	DB_PG_MOTIVATIONS,
	DB_PG_LINE_WORDS,
	DB_PG_SOURCES_BELOW,
	DB_PG_STAMP,
	DB_PG_STAMP_BUMP,
	DB_PG_REVOKE,
	DB_PG_REVOKED_PRUNE,
	DB_PG_IS_REVOKED,
	DB_PG_TERMS_ADD,
	DB_PG_FORMS_ADD,
	DB_PG_TERMS_PRUNE_SOURCE,
	DB_PG_FORMS_PRUNE_SOURCE,
	DB_PG_LIST_TARGET_BACK_RUNS,
	DB_PG_RUNS_OF_LINE,
	DB_PG_DELETE_ROWID,
	DB_PG_STMT_COUNT
};

/* Search SQL differs with the shape of the query; this many shapes stay prepared. */
#define DB_PG_DYNAMIC_CACHE 32

struct db_pg_conn {
	PGconn *handle;
	bool prepared[DB_PG_STMT_COUNT];
	struct {
		char *sql;
		uint64_t used;
	} dynamic[DB_PG_DYNAMIC_CACHE]; /* prepared as "iiifd_d<slot>" */
	uint64_t clock;
	struct db_pg_conn *next; /* in the idle list */
};

/* The columns of a record, in the order db_pg_record_read() and db_pg_record_params() use. */
#define DB_PG_COLUMNS                                                                      \
	"id, manifest, target_file, page, motivation, text, language, granularity, x, y, w, " \
	"h, t_start, t_end, score, creator, generator, source, created, seq, line_id, polygon"
#define DB_PG_NCOLS 22
/* The columns of a row that may hold a run of words (pg_runs.c): rowid at DB_PG_NCOLS, more next. */
#define DB_PG_ROW_COLUMNS DB_PG_COLUMNS ", rowid, more"
/* Rows with their rowid, records or runs (db_pg_run_copy) */
#define DB_PG_COPY_ROW                                                                    \
	"COPY annotations (rowid, " DB_PG_COLUMNS ", more, more_count, last_seq) FROM STDIN"

/*
 * A connection for this thread's exclusive use until db_pg_release(); waits (bounded) while the
 * pool is at its limit. NULL with err set (503 when the server cannot be reached).
 */
struct db_pg_conn *db_pg_acquire(struct db *db, struct iiifd_error *err);
/* Gives conn back; a broken one (server restarted) is closed instead of kept. */
void db_pg_release(struct db *db, struct db_pg_conn *conn);

/*
 * Runs a fixed statement (prepared on first use) or dynamic SQL (prepared and kept in a small
 * per-connection cache) with text parameters (NULL = SQL NULL). Returns the result, or NULL
 * with err set when it failed; PQclear() it.
 */
PGresult *db_pg_exec(struct db_pg_conn *conn, enum db_pg_stmt which, int n,
		     const char *const *params, struct iiifd_error *err);
PGresult *db_pg_exec_sql(struct db_pg_conn *conn, const char *sql, int n,
			 const char *const *params, struct iiifd_error *err);
/* Runs a statement that returns no rows; 0 or -1 with err set. */
int db_pg_run(struct db_pg_conn *conn, enum db_pg_stmt which, int n, const char *const *params,
	      struct iiifd_error *err);
/* Runs plain SQL without parameters (BEGIN, COMMIT...); 0 or -1. */
int db_pg_simple(struct db_pg_conn *conn, const char *sql, struct iiifd_error *err);

/* Sets err from the connection's last error (503 when the server is gone); returns -1. */
int db_pg_fail(struct db_pg_conn *conn, const char *what, struct iiifd_error *err);

/*
 * Write transactions: a connection and BEGIN; db_pg_end_write() bumps the store's change
 * counter and commits when rc is 0, rolls back otherwise, and gives the connection back; it
 * returns rc, or -1 if the commit failed.
 */
struct db_pg_conn *db_pg_begin_write(struct db *db, struct iiifd_error *err);
int db_pg_end_write(struct db *db, struct db_pg_conn *conn, int rc, struct iiifd_error *err);

/* rec's columns as text parameters (DB_PG_COLUMNS order); numbers are printed into buf. */
struct db_pg_params {
	const char *v[DB_PG_NCOLS];
	char buf[10][32];
};
void db_pg_record_params(const struct anno_record *rec, struct db_pg_params *p);
/* v as text that reads back as the same double ("%.17g", whole numbers as integers). */
void db_pg_number(char *buf, size_t n, double v);
/* Reads DB_PG_COLUMNS from row of res, starting at column 0; -1 when out of memory. */
int db_pg_record_read(const PGresult *res, int row, struct anno_record *rec);
/* Appends every row of res to out. */
int db_pg_records_read(const PGresult *res, struct anno_list *out, struct iiifd_error *err);

/*
 * COPY: appends rows in COPY's text format to a buffer and sends them in one stream; escapes
 * what COPY needs escaped. db_pg_copy_send() runs sql ("COPY t (...) FROM STDIN") with buf.
 */
void db_pg_copy_field(GString *buf, const char *value, bool last);
/* value in COPY's text format, without a separator: \N for NULL, \\ \t \n \r escaped. */
void db_pg_copy_escape(GString *buf, const char *value);
int db_pg_copy_send(struct db_pg_conn *conn, const char *sql, const GString *buf,
		    struct iiifd_error *err);

/*
 * An import's autocomplete counts (pg_terms.c), gathered as its tokens are made: per (term,
 * manifest) and per (term, form, manifest). _store() adds them to terms and term_forms.
 */
struct db_pg_term_counts {
	GHashTable *terms, *forms; /* key fields joined by '\x01' -> count */
};
void db_pg_term_counts_init(struct db_pg_term_counts *c);
void db_pg_term_counts_release(struct db_pg_term_counts *c);
void db_pg_term_counts_add(struct db_pg_term_counts *c, const char *term, size_t len,
			   const char *form, size_t form_len, const char *manifest);
int db_pg_term_counts_store(struct db_pg_conn *conn, const struct db_pg_term_counts *c,
			    struct iiifd_error *err);

/*
 * Appends to buf one COPY row (term, anno, pos, form) per token of text (see db_fold_terms); text
 * that is not UTF-8 gives none. With counts, also counts each token's term for manifest.
 */
void db_pg_tokens_copy(GString *buf, int64_t anno, const char *text,
		       struct db_pg_term_counts *counts, const char *manifest);

/*
 * pg_runs.c: a line's words in one row. Imports: db_pg_run_length() records from recs[0] may
 * share a row; db_pg_run_copy() appends its COPY row (DB_PG_COPY_ROW), each record stored as
 * rowids[i]. Reads: rows of DB_PG_ROW_COLUMNS expanded into records, each with its key.
 */
size_t db_pg_run_length(const struct anno_record *recs, size_t n);
void db_pg_run_copy(GString *buf, const int64_t *rowids, const struct anno_record *recs,
		    size_t len);

struct db_pg_keyed {
	struct anno_list list; /* owned */
	int64_t *rowids;       /* rowids[i]: record i's rowid; its key is (seq, rowid) */
	size_t cap;
};
/* Appends the records of every row of res (DB_PG_ROW_COLUMNS), a run's words after its row. */
int db_pg_keyed_read(const PGresult *res, struct db_pg_keyed *k, struct iiifd_error *err);
/* Orders k's records by key. */
void db_pg_keyed_sort(struct db_pg_keyed *k);
/* Record i's key against c: <0, 0, >0. */
int db_pg_keyed_cmp(const struct db_pg_keyed *k, size_t i, const struct db_cursor *c);
/* Moves record i (left zeroed) or, sorted, all of them to the end of out. */
int db_pg_keyed_move(struct db_pg_keyed *k, size_t i, struct anno_list *out,
		     struct iiifd_error *err);
int db_pg_keyed_move_all(struct db_pg_keyed *k, struct anno_list *out, struct iiifd_error *err);
void db_pg_keyed_release(struct db_pg_keyed *k);
/* The line id of a word id "LINE.K" (g_free), or NULL when id is not one. */
char *db_pg_word_line(const char *id);
/* Stores the runs of line_id as one row per word again, in conn's write transaction. */
int db_pg_run_explode(struct db_pg_conn *conn, const char *line_id, struct iiifd_error *err);

/* pg_write.c: the write operations of struct db_ops. */
void *db_pg_write_import_begin(struct db *db, const char *source, struct iiifd_error *err);
int db_pg_write_import_add(void *imp, const struct anno_list *batch, struct iiifd_error *err);
int db_pg_write_import_end(void *imp, int rc, const char *fingerprint, struct iiifd_error *err);
int db_pg_write_insert(struct db *db, struct anno_record *rec, struct iiifd_error *err);
int db_pg_write_update(struct db *db, const struct anno_record *rec, struct iiifd_error *err);
int db_pg_write_delete(struct db *db, const char *id, struct iiifd_error *err);
int db_pg_write_fingerprint(struct db *db, const char *source, const char *fingerprint,
			    struct iiifd_error *err);

/* pg_read.c: the read operations of struct db_ops. */
int db_pg_read_get(struct db *db, const char *id, struct anno_record *out,
		   struct iiifd_error *err);
bool db_pg_read_is_current(struct db *db, const char *source, const char *fingerprint);
int db_pg_read_list_target(struct db *db, const char *target_file, int page,
			   const char *motivation, struct anno_list *out, struct iiifd_error *err);
int db_pg_read_list_target_after(struct db *db, const char *target_file, int page,
				 const char *motivation, struct db_cursor *cursor, int64_t limit,
				 struct anno_list *out, struct iiifd_error *err);
int db_pg_read_cursor_back(struct db *db, const char *target_file, int page,
			   const char *motivation, const struct db_cursor *from, int64_t n,
			   struct db_cursor *out, bool *found, struct iiifd_error *err);
int db_pg_read_count_target(struct db *db, const char *target_file, int page,
			    const char *motivation, int64_t *count, struct iiifd_error *err);
int db_pg_read_sources(struct db *db, const char *folder, char ***out, size_t *count,
		       struct iiifd_error *err);
int db_pg_read_motivations(struct db *db, const char *target_file, int page, char ***out,
			   size_t *count, struct iiifd_error *err);
int db_pg_read_line_words(struct db *db, const char *line_id, struct anno_list *out,
			  struct iiifd_error *err);
int db_pg_read_stamp(struct db *db, char **out, struct iiifd_error *err);

/* pg_search.c: full-text search over the token table, and autocomplete. */
int db_pg_search(struct db *db, const struct db_query *q, const struct db_query_parts *parts,
		 struct anno_list *out, int64_t *total, struct iiifd_error *err);
int db_pg_search_count(struct db *db, const struct db_query *q,
		       const struct db_query_parts *parts, int64_t *total,
		       struct iiifd_error *err);
int db_pg_autocomplete(struct db *db, const struct db_query *scope, const char *prefix,
		       int64_t min, int64_t limit, struct db_terms *out, struct iiifd_error *err);

/* pg_lock.c: cluster-wide locks on imports (advisory locks held on a connection of their own). */
int db_pg_source_lock(struct db *db, const char *source, void **out, struct iiifd_error *err);
void db_pg_source_unlock(struct db *db, void *lock);
int db_pg_claim(struct db *db, const char *key, void **out, struct iiifd_error *err);

/* pg_auth.c: revocations of access control. */
int db_pg_auth_revoke(struct db *db, const char *sid, int64_t expires, struct iiifd_error *err);
int db_pg_auth_is_revoked(struct db *db, const char *sid, int64_t now, bool *revoked,
			  struct iiifd_error *err);

/* pg_activity.c: Change Discovery's activity log (db/activity.h). */
int db_pg_activity_append(struct db *db, const struct db_activity_batch *batch,
			  struct iiifd_error *err);
int db_pg_activity_states(struct db *db, int (*fn)(const struct db_resource_state *s, void *ctx),
			  void *ctx, struct iiifd_error *err);
int db_pg_activity_count(struct db *db, int64_t *count, struct iiifd_error *err);
int db_pg_activity_range(struct db *db, int64_t first, int64_t n, struct db_activity **out,
			 size_t *count, struct iiifd_error *err);
int db_pg_activity_mark(struct db *db, const char *path, struct iiifd_error *err);
/*
 * An import's start, in its transaction, before it takes source's records out: notes what the
 * Manifests list of them (a temporary table, dropped at the commit).
 */
int db_pg_activity_listed_before(struct db_pg_conn *conn, const char *source,
				 struct iiifd_error *err);
/*
 * An import's end, in its transaction: marks the Manifests whose listing of source's records
 * changed since db_pg_activity_listed_before (a new page name on a Canvas, one gone), so a
 * replaced file that lists the same is one Update (the scan's), not a second one.
 */
int db_pg_activity_mark_source(struct db_pg_conn *conn, const char *source,
			       struct iiifd_error *err);

#endif
