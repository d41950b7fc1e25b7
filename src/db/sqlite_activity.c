/*
 * sqlite_activity.c: the SQLite backend's Change Discovery ops (tables of migration 4): the
 * append-only activity log and the observed state of each resource.
 */
#include <stdlib.h>
#include <string.h>

#include "db/sqlite.h"

#define ACT_COLUMNS "idx, type, object_type, path, target_path, label, version, start_time, end_time"

static const char act_insert_sql[] =
	"INSERT INTO activities (idx, type, object_type, path, target_path, label, version,"
	" start_time, end_time) VALUES ((SELECT coalesce(max(idx) + 1, 0) FROM activities),"
	" ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char act_state_set_sql[] =
	"INSERT INTO activity_state (path, type, fingerprint, content, label, mark, mark_seen)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (path) DO UPDATE SET type = ?2,"
	" fingerprint = ?3, content = ?4, label = ?5, mark_seen = ?6";
static const char act_state_gone_sql[] = "DELETE FROM activity_state WHERE path = ?1";
static const char act_states_sql[] =
	"SELECT path, type, fingerprint, content, label, mark, mark_seen FROM activity_state";
static const char act_count_sql[] = "SELECT coalesce(max(idx) + 1, 0) FROM activities";
static const char act_range_sql[] =
	"SELECT " ACT_COLUMNS " FROM activities WHERE idx >= ?1 AND idx < ?2 ORDER BY idx";
static const char act_mark_sql[] = "UPDATE activity_state SET mark = mark + 1 WHERE path = ?1";
/*
 * What the Manifests list of source's records: per Manifest and Canvas target, the names of
 * the pages they are listed in (the names DB_SQLITE_MOTIVATIONS gives).
 */
#define ACT_LISTED_SQL                                                                      \
	"SELECT DISTINCT manifest, target_file, page, CASE WHEN motivation = 'supplementing'" \
	" AND granularity IS 'word' THEN '" DB_PAGE_WORDS "' ELSE motivation END"               \
	" FROM annotations WHERE source = ?1"
static const char act_listed_table_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS iiifd_import_listed (manifest, target_file, page, name)";
static const char act_listed_clear_sql[] = "DELETE FROM temp.iiifd_import_listed";
static const char act_listed_note_sql[] = "INSERT INTO temp.iiifd_import_listed " ACT_LISTED_SQL;
static const char act_mark_source_sql[] =
	"UPDATE activity_state SET mark = mark + 1 WHERE path IN (SELECT manifest FROM"
	" (SELECT * FROM temp.iiifd_import_listed EXCEPT " ACT_LISTED_SQL ") UNION ALL"
	" SELECT manifest FROM (" ACT_LISTED_SQL " EXCEPT SELECT * FROM temp.iiifd_import_listed))";

static void act_bind(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, i);
}

static int act_step_done(struct db_sqlite_conn *conn, sqlite3_stmt *stmt, const char *what,
			 struct iiifd_error *err)
{
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_sqlite_fail(conn, what, err);
	db_sqlite_done(stmt);
	return rc;
}

static int act_insert(struct db_sqlite_conn *conn, const struct db_activity *a,
		      struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, act_insert_sql, err);
	if (!stmt)
		return -1;
	act_bind(stmt, 1, a->type);
	act_bind(stmt, 2, a->object_type);
	act_bind(stmt, 3, a->path);
	act_bind(stmt, 4, a->target_path);
	act_bind(stmt, 5, a->label);
	sqlite3_bind_int(stmt, 6, a->version);
	act_bind(stmt, 7, a->start_time);
	act_bind(stmt, 8, a->end_time);
	return act_step_done(conn, stmt, "activity", err);
}

static int act_state_set(struct db_sqlite_conn *conn, const struct db_resource_state *s,
			 struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, act_state_set_sql, err);
	if (!stmt)
		return -1;
	act_bind(stmt, 1, s->path);
	act_bind(stmt, 2, s->type);
	act_bind(stmt, 3, s->fingerprint);
	act_bind(stmt, 4, s->content);
	act_bind(stmt, 5, s->label);
	sqlite3_bind_int64(stmt, 6, s->mark_seen);
	return act_step_done(conn, stmt, "activity state", err);
}

static int act_state_gone(struct db_sqlite_conn *conn, const char *path, struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, act_state_gone_sql, err);
	if (!stmt)
		return -1;
	act_bind(stmt, 1, path);
	return act_step_done(conn, stmt, "activity state", err);
}

int db_sqlite_activity_append(struct db *db, const struct db_activity_batch *batch,
			      struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_begin_write(db, err);
	if (!conn)
		return -1;
	int rc = 0;
	for (size_t i = 0; !rc && i < batch->activity_count; i++)
		rc = act_insert(conn, &batch->activities[i], err);
	for (size_t i = 0; !rc && i < batch->gone_count; i++)
		rc = act_state_gone(conn, batch->gone[i], err);
	for (size_t i = 0; !rc && i < batch->state_count; i++)
		rc = act_state_set(conn, &batch->states[i], err);
	return db_sqlite_end_write(db, conn, rc, err);
}

/* Column i as a malloc'd string, NULL for NULL; *oom set when a copy fails. */
static char *act_column(sqlite3_stmt *stmt, int i, bool *oom)
{
	const unsigned char *v = sqlite3_column_text(stmt, i);
	if (!v)
		return NULL;
	char *copy = strdup((const char *)v);
	*oom |= copy == NULL;
	return copy;
}

int db_sqlite_activity_states(struct db *db,
			      int (*fn)(const struct db_resource_state *s, void *ctx), void *ctx,
			      struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_prepare(conn, act_states_sql, err) : NULL;
	int rc = stmt ? 0 : -1, step = SQLITE_DONE;
	while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct db_resource_state s = {
			.path = (char *)sqlite3_column_text(stmt, 0),
			.type = (char *)sqlite3_column_text(stmt, 1),
			.fingerprint = (char *)sqlite3_column_text(stmt, 2),
			.content = (char *)sqlite3_column_text(stmt, 3),
			.label = (char *)sqlite3_column_text(stmt, 4),
			.mark = sqlite3_column_int64(stmt, 5),
			.mark_seen = sqlite3_column_int64(stmt, 6),
		};
		rc = fn(&s, ctx);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_sqlite_fail(conn, "activity states", err);
	db_sqlite_done(stmt);
	if (conn)
		db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_activity_count(struct db *db, int64_t *count, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_prepare(conn, act_count_sql, err) : NULL;
	int rc = -1;
	if (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
		*count = sqlite3_column_int64(stmt, 0);
		rc = 0;
	} else if (stmt) {
		rc = db_sqlite_fail(conn, "activity count", err);
	}
	db_sqlite_done(stmt);
	if (conn)
		db_sqlite_release(db, conn);
	return rc;
}

static int act_read(sqlite3_stmt *stmt, struct db_activity *a)
{
	bool oom = false;
	a->index = sqlite3_column_int64(stmt, 0);
	a->type = act_column(stmt, 1, &oom);
	a->object_type = act_column(stmt, 2, &oom);
	a->path = act_column(stmt, 3, &oom);
	a->target_path = act_column(stmt, 4, &oom);
	a->label = act_column(stmt, 5, &oom);
	a->version = sqlite3_column_int(stmt, 6);
	a->start_time = act_column(stmt, 7, &oom);
	a->end_time = act_column(stmt, 8, &oom);
	return oom || !a->type ? -1 : 0;
}

int db_sqlite_activity_range(struct db *db, int64_t first, int64_t n, struct db_activity **out,
			     size_t *count, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	sqlite3_stmt *stmt = conn ? db_sqlite_prepare(conn, act_range_sql, err) : NULL;
	int rc = stmt ? 0 : -1, step = SQLITE_DONE;
	size_t cap = 0;
	if (stmt) {
		sqlite3_bind_int64(stmt, 1, first);
		sqlite3_bind_int64(stmt, 2, n > INT64_MAX - first ? INT64_MAX : first + n);
	}
	while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct db_activity *grown = realloc(*out, ncap * sizeof *grown);
			if (!grown) {
				rc = iiifd_error_set(err, 500, "activity log: out of memory");
				break;
			}
			*out = grown;
			cap = ncap;
		}
		memset(&(*out)[*count], 0, sizeof **out);
		if (act_read(stmt, &(*out)[(*count)++]) < 0)
			rc = iiifd_error_set(err, 500, "activity log: out of memory");
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_sqlite_fail(conn, "activity range", err);
	db_sqlite_done(stmt);
	if (conn)
		db_sqlite_release(db, conn);
	if (rc) {
		db_activity_list_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return rc;
}

int db_sqlite_activity_mark(struct db *db, const char *path, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_begin_write(db, err);
	if (!conn)
		return -1;
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, act_mark_sql, err);
	int rc = -1;
	if (stmt) {
		act_bind(stmt, 1, path);
		rc = act_step_done(conn, stmt, "activity mark", err);
	}
	return db_sqlite_end_write(db, conn, rc, err);
}

/* Runs one statement of this file with source bound to ?1 (when it has one). */
static int act_run_source(struct db_sqlite_conn *conn, const char *sql, const char *source,
			  struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, sql, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_parameter_count(stmt) > 0)
		act_bind(stmt, 1, source);
	return act_step_done(conn, stmt, "activity mark", err);
}

int db_sqlite_activity_listed_before(struct db_sqlite_conn *conn, const char *source,
				     struct iiifd_error *err)
{
	int rc = act_run_source(conn, act_listed_table_sql, source, err);
	if (!rc)
		rc = act_run_source(conn, act_listed_clear_sql, source, err);
	return rc ? rc : act_run_source(conn, act_listed_note_sql, source, err);
}

int db_sqlite_activity_mark_source(struct db_sqlite_conn *conn, const char *source,
				   struct iiifd_error *err)
{
	return act_run_source(conn, act_mark_source_sql, source, err);
}
