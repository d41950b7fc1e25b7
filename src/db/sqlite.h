/*
 * sqlite.h: what the SQLite backend's files share (private to src/db): the connection pool, the
 * per-connection statement cache, write transactions, and mapping rows to records.
 */
#ifndef IIIFD_DB_SQLITE_H
#define IIIFD_DB_SQLITE_H

#include <sqlite3.h>

#include "db/backend.h"

/* The statements every connection prepares once (lazily) and keeps. */
enum db_sqlite_stmt {
	DB_SQLITE_BEGIN_READ,
	DB_SQLITE_BEGIN_WRITE,
	DB_SQLITE_COMMIT,
	DB_SQLITE_ROLLBACK,
	DB_SQLITE_INSERT,
	DB_SQLITE_UPDATE,
	DB_SQLITE_DELETE,
	DB_SQLITE_GET,
	DB_SQLITE_INDEXED_TEXT,
	DB_SQLITE_ALL_TEXTS,
	DB_SQLITE_SOURCE_TEXTS,
	DB_SQLITE_DELETE_SOURCE,
	DB_SQLITE_FTS_ADD_SOURCE,
	DB_SQLITE_FTS_DELETE_SOURCE,
	DB_SQLITE_FTS_ADD_ID,
	DB_SQLITE_FTS_DELETE_ID,
	DB_SQLITE_TERM_ADD,
	DB_SQLITE_TERM_PRUNE,
	DB_SQLITE_FORM_ADD,
	DB_SQLITE_FORM_PRUNE,
	DB_SQLITE_FINGERPRINT_GET,
	DB_SQLITE_FINGERPRINT_SET,
	DB_SQLITE_LIST_TARGET,
	DB_SQLITE_LIST_TARGET_MOTIVATION,
	DB_SQLITE_LIST_TARGET_AFTER,
	DB_SQLITE_LIST_TARGET_BACK,
	DB_SQLITE_COUNT_TARGET,
	DB_SQLITE_MOTIVATIONS,
	DB_SQLITE_LINE_WORDS,
	DB_SQLITE_SOURCES_BELOW,
	DB_SQLITE_STMT_COUNT
};

/* Search SQL differs with the shape of the query; the recent shapes stay prepared. */
#define DB_SQLITE_DYNAMIC_CACHE 16

struct db_sqlite_conn {
	sqlite3 *handle;
	sqlite3_stmt *fixed[DB_SQLITE_STMT_COUNT];
	struct {
		char *sql;
		sqlite3_stmt *stmt;
		uint64_t used;
	} dynamic[DB_SQLITE_DYNAMIC_CACHE];
	uint64_t clock;
	bool big_cache;              /* see db_sqlite_big_cache() */
	struct db_sqlite_conn *next; /* in the idle list */
};

/* The columns of a record, in the order db_sqlite_record_read() and the binders use. */
#define DB_SQLITE_COLUMNS                                                                  \
	"id, manifest, target_file, page, motivation, text, language, granularity, x, y, w, " \
	"h, t_start, t_end, score, creator, generator, source, created, seq, line_id, "  \
	"polygon"

/* A connection for this thread's exclusive use until db_sqlite_release(); NULL with err set. */
struct db_sqlite_conn *db_sqlite_acquire(struct db *db, struct iiifd_error *err);
void db_sqlite_release(struct db *db, struct db_sqlite_conn *conn);

/*
 * Gives conn a page cache large enough for an import (until it is released): the pages of a big
 * transaction otherwise spill to the WAL and are read back, which costs a third more syscalls.
 */
void db_sqlite_big_cache(struct db_sqlite_conn *conn);

/* A cached statement, reset and unbound; NULL with err set. Call db_sqlite_done() after use. */
sqlite3_stmt *db_sqlite_stmt(struct db_sqlite_conn *conn, enum db_sqlite_stmt which,
			     struct iiifd_error *err);
sqlite3_stmt *db_sqlite_prepare(struct db_sqlite_conn *conn, const char *sql,
				struct iiifd_error *err);
void db_sqlite_done(sqlite3_stmt *stmt);

/* Sets err from the connection's last error (503 when the database is busy); returns -1. */
int db_sqlite_fail(struct db_sqlite_conn *conn, const char *what, struct iiifd_error *err);

/* Runs a statement that returns no rows (BEGIN, COMMIT...). */
int db_sqlite_run(struct db_sqlite_conn *conn, enum db_sqlite_stmt which,
		  struct iiifd_error *err);

/*
 * Write transactions: takes the store's writer lock (writers in this process queue on it rather
 * than on SQLITE_BUSY), a connection, and BEGIN IMMEDIATE. db_sqlite_end_write() commits when
 * rc is 0, rolls back otherwise, and gives everything back; it returns rc, or -1 if the commit
 * failed.
 */
struct db_sqlite_conn *db_sqlite_begin_write(struct db *db, struct iiifd_error *err);
int db_sqlite_end_write(struct db *db, struct db_sqlite_conn *conn, int rc,
			struct iiifd_error *err);

/* Binds rec to ?1..?22 in DB_SQLITE_COLUMNS order. */
int db_sqlite_record_bind(sqlite3_stmt *stmt, const struct anno_record *rec);
/* Reads DB_SQLITE_COLUMNS from the current row into rec (zeroed first); -1 when out of memory. */
int db_sqlite_record_read(sqlite3_stmt *stmt, struct anno_record *rec);
/* Steps stmt to the end, appending each row to out. */
int db_sqlite_records_read(struct db_sqlite_conn *conn, sqlite3_stmt *stmt,
			   struct anno_list *out, struct iiifd_error *err);

int db_sqlite_read_list_target_after(struct db *db, const char *target_file, int page,
				     const char *motivation, struct db_cursor *cursor, int64_t limit,
				     struct anno_list *out, struct iiifd_error *err);

int db_sqlite_read_cursor_back(struct db *db, const char *target_file, int page,
			       const char *motivation, const struct db_cursor *from, int64_t n,
			       struct db_cursor *out, bool *found, struct iiifd_error *err);

int db_sqlite_read_count_target(struct db *db, const char *target_file, int page,
				const char *motivation, int64_t *count, struct iiifd_error *err);

/* sqlite_write.c: the write operations of struct db_ops. */
void *db_sqlite_write_import_begin(struct db *db, const char *source, struct iiifd_error *err);
int db_sqlite_write_import_add(void *imp, const struct anno_list *batch, struct iiifd_error *err);
int db_sqlite_write_import_end(void *imp, int rc, const char *fingerprint,
			       struct iiifd_error *err);
int db_sqlite_write_insert(struct db *db, struct anno_record *rec, struct iiifd_error *err);
int db_sqlite_write_update(struct db *db, const struct anno_record *rec,
			   struct iiifd_error *err);
int db_sqlite_write_delete(struct db *db, const char *id, struct iiifd_error *err);
/* Counts the terms and their forms of every indexed record again (inside the caller's write). */
int db_sqlite_terms_rebuild(struct db_sqlite_conn *conn, struct iiifd_error *err);

/* sqlite_read.c: the read operations of struct db_ops. */
int db_sqlite_read_get(struct db *db, const char *id, struct anno_record *out,
		       struct iiifd_error *err);
int db_sqlite_read_list_target(struct db *db, const char *target_file, int page,
			       const char *motivation, struct anno_list *out,
			       struct iiifd_error *err);
int db_sqlite_read_sources(struct db *db, const char *folder, char ***out, size_t *count,
			   struct iiifd_error *err);
int db_sqlite_read_motivations(struct db *db, const char *target_file, int page, char ***out,
			       size_t *count, struct iiifd_error *err);
int db_sqlite_read_line_words(struct db *db, const char *line_id, struct anno_list *out,
			      struct iiifd_error *err);
int db_sqlite_read_search(struct db *db, const struct db_query *q,
			  const struct db_query_parts *parts, struct anno_list *out,
			  int64_t *total, struct iiifd_error *err);
int db_sqlite_read_search_count(struct db *db, const struct db_query *q,
				const struct db_query_parts *parts, int64_t *total,
				struct iiifd_error *err);
int db_sqlite_read_autocomplete(struct db *db, const struct db_query *scope, const char *prefix,
				int64_t min, int64_t limit, struct db_terms *out,
				struct iiifd_error *err);

/* sqlite_activity.c: the Change Discovery ops of struct db_ops. */
int db_sqlite_activity_append(struct db *db, const struct db_activity_batch *batch,
			      struct iiifd_error *err);
int db_sqlite_activity_states(struct db *db,
			      int (*fn)(const struct db_resource_state *s, void *ctx), void *ctx,
			      struct iiifd_error *err);
int db_sqlite_activity_count(struct db *db, int64_t *count, struct iiifd_error *err);
int db_sqlite_activity_range(struct db *db, int64_t first, int64_t n, struct db_activity **out,
			     size_t *count, struct iiifd_error *err);
int db_sqlite_activity_mark(struct db *db, const char *path, struct iiifd_error *err);
/*
 * Inside an import's transaction, before it takes source's records out: notes what the
 * Manifests list of them (in a temporary table of the connection).
 */
int db_sqlite_activity_listed_before(struct db_sqlite_conn *conn, const char *source,
				     struct iiifd_error *err);
/*
 * Inside an import's transaction, at its end: marks the Manifests whose listing of source's
 * records changed since db_sqlite_activity_listed_before (a page name on a Canvas new or
 * gone), so a replaced file that lists the same is one Update (the scan's), not a second one.
 */
int db_sqlite_activity_mark_source(struct db_sqlite_conn *conn, const char *source,
				   struct iiifd_error *err);
/* sqlite_auth.c: the revocation list of access control (db_ops.auth_revoke, auth_is_revoked). */
int db_sqlite_auth_revoke(struct db *db, const char *sid, int64_t expires,
			  struct iiifd_error *err);
int db_sqlite_auth_is_revoked(struct db *db, const char *sid, int64_t now, bool *revoked,
			      struct iiifd_error *err);

#endif
