/*
 * pg_activity.c: the PostgreSQL backend's Change Discovery ops (tables and triggers of
 * migration 4, as SQLite's migration 4): the append-only activity log and the observed state of
 * each resource. Appends also hold a transaction advisory lock, so indexes stay gapless and
 * unique whichever node appends; discovery/log.c serialises whole syncs across nodes with
 * db_source_lock (DISCOVERY_LOG_CLAIM).
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char act_lock_sql[] =
	"SELECT pg_advisory_xact_lock(hashtextextended('iiifd-activity-append', 0))";
static const char act_insert_sql[] =
	"INSERT INTO activities (idx, type, object_type, path, target_path, label, version,"
	" start_time, end_time) VALUES ((SELECT coalesce(max(idx) + 1, 0) FROM activities),"
	" $1, $2, $3, $4, $5, $6::integer, $7, $8)";
static const char act_state_set_sql[] =
	"INSERT INTO activity_state (path, type, fingerprint, content, label, mark, mark_seen)"
	" VALUES ($1, $2, $3, $4, $5, $6::bigint, $6::bigint) ON CONFLICT (path) DO UPDATE SET"
	" type = $2, fingerprint = $3, content = $4, label = $5, mark_seen = $6::bigint";
static const char act_state_gone_sql[] = "DELETE FROM activity_state WHERE path = $1";
static const char act_states_sql[] =
	"SELECT path, type, fingerprint, content, label, mark, mark_seen FROM activity_state";
static const char act_count_sql[] = "SELECT coalesce(max(idx) + 1, 0) FROM activities";
static const char act_range_sql[] =
	"SELECT idx, type, object_type, path, target_path, label, version, start_time, end_time"
	" FROM activities WHERE idx >= $1::bigint AND idx < $2::bigint ORDER BY idx";
static const char act_mark_sql[] = "UPDATE activity_state SET mark = mark + 1 WHERE path = $1";

/* Runs sql with params and discards its rows; 0 or -1 with err set. */
static int act_run(struct db_pg_conn *conn, const char *sql, int n, const char *const *params,
		   struct iiifd_error *err)
{
	PGresult *res = db_pg_exec_sql(conn, sql, n, params, err);
	PQclear(res);
	return res ? 0 : -1;
}

static int act_insert(struct db_pg_conn *conn, const struct db_activity *a,
		      struct iiifd_error *err)
{
	char version[16];
	snprintf(version, sizeof version, "%d", a->version);
	const char *params[8] = { a->type,  a->object_type, a->path,       a->target_path,
				  a->label, version,        a->start_time, a->end_time };
	return act_run(conn, act_insert_sql, 8, params, err);
}

static int act_state_set(struct db_pg_conn *conn, const struct db_resource_state *s,
			 struct iiifd_error *err)
{
	char seen[24];
	snprintf(seen, sizeof seen, "%" PRId64, s->mark_seen);
	const char *params[6] = { s->path, s->type, s->fingerprint, s->content, s->label, seen };
	return act_run(conn, act_state_set_sql, 6, params, err);
}

int db_pg_activity_append(struct db *db, const struct db_activity_batch *batch,
			  struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_begin_write(db, err);
	if (!conn)
		return -1;
	int rc = act_run(conn, act_lock_sql, 0, NULL, err);
	for (size_t i = 0; !rc && i < batch->activity_count; i++)
		rc = act_insert(conn, &batch->activities[i], err);
	for (size_t i = 0; !rc && i < batch->gone_count; i++)
		rc = act_run(conn, act_state_gone_sql, 1, &batch->gone[i], err);
	for (size_t i = 0; !rc && i < batch->state_count; i++)
		rc = act_state_set(conn, &batch->states[i], err);
	return db_pg_end_write(db, conn, rc, err);
}

/* Column col of row as a string; NULL for SQL NULL. */
static char *act_value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int db_pg_activity_states(struct db *db, int (*fn)(const struct db_resource_state *s, void *ctx),
			  void *ctx, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	PGresult *res = conn ? db_pg_exec_sql(conn, act_states_sql, 0, NULL, err) : NULL;
	int rc = res ? 0 : -1;
	for (int i = 0; !rc && res && i < PQntuples(res); i++) {
		struct db_resource_state s = {
			.path = act_value(res, i, 0),
			.type = act_value(res, i, 1),
			.fingerprint = act_value(res, i, 2),
			.content = act_value(res, i, 3),
			.label = act_value(res, i, 4),
			.mark = strtoll(PQgetvalue(res, i, 5), NULL, 10),
			.mark_seen = strtoll(PQgetvalue(res, i, 6), NULL, 10),
		};
		rc = fn(&s, ctx);
	}
	PQclear(res);
	db_pg_release(db, conn);
	return rc;
}

int db_pg_activity_count(struct db *db, int64_t *count, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	PGresult *res = conn ? db_pg_exec_sql(conn, act_count_sql, 0, NULL, err) : NULL;
	int rc = res && PQntuples(res) == 1 ? 0 : -1;
	if (!rc)
		*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (res)
		rc = iiifd_error_set(err, 500, "activity count: no row");
	PQclear(res);
	db_pg_release(db, conn);
	return rc;
}

/* A malloc'd copy of column col, NULL for NULL; *oom set when a copy fails. */
static char *act_copy(const PGresult *res, int row, int col, bool *oom)
{
	const char *v = act_value(res, row, col);
	char *copy = v ? strdup(v) : NULL;
	*oom |= v && !copy;
	return copy;
}

static int act_read(const PGresult *res, int row, struct db_activity *a)
{
	bool oom = false;
	a->index = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	a->type = act_copy(res, row, 1, &oom);
	a->object_type = act_copy(res, row, 2, &oom);
	a->path = act_copy(res, row, 3, &oom);
	a->target_path = act_copy(res, row, 4, &oom);
	a->label = act_copy(res, row, 5, &oom);
	a->version = (int)strtol(PQgetvalue(res, row, 6), NULL, 10);
	a->start_time = act_copy(res, row, 7, &oom);
	a->end_time = act_copy(res, row, 8, &oom);
	return oom || !a->type ? -1 : 0;
}

static int act_read_all(const PGresult *res, struct db_activity **out, size_t *count,
			struct iiifd_error *err)
{
	size_t n = (size_t)PQntuples(res);
	*out = n ? calloc(n, sizeof **out) : NULL;
	if (n && !*out)
		return iiifd_error_set(err, 500, "activity log: out of memory");
	for (size_t i = 0; i < n; i++) {
		(*count)++;
		if (act_read(res, (int)i, &(*out)[i]) < 0)
			return iiifd_error_set(err, 500, "activity log: out of memory");
	}
	return 0;
}

int db_pg_activity_range(struct db *db, int64_t first, int64_t n, struct db_activity **out,
			 size_t *count, struct iiifd_error *err)
{
	char from[24], to[24];
	snprintf(from, sizeof from, "%" PRId64, first);
	snprintf(to, sizeof to, "%" PRId64, n > INT64_MAX - first ? INT64_MAX : first + n);
	const char *params[2] = { from, to };
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	PGresult *res = conn ? db_pg_exec_sql(conn, act_range_sql, 2, params, err) : NULL;
	*out = NULL;
	*count = 0;
	int rc = res ? act_read_all(res, out, count, err) : -1;
	PQclear(res);
	db_pg_release(db, conn);
	if (rc) {
		db_activity_list_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return rc;
}

int db_pg_activity_mark(struct db *db, const char *path, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_begin_write(db, err);
	if (!conn)
		return -1;
	int rc = act_run(conn, act_mark_sql, 1, &path, err);
	return db_pg_end_write(db, conn, rc, err);
}

/*
 * What the Manifests list of source's records: per Manifest and Canvas target, the names of
 * the pages they are listed in (the names DB_PG_MOTIVATIONS gives). Without `granularity`
 * the word level would look like the line level.
 */
#define ACT_LISTED_SQL                                                                      \
	"SELECT DISTINCT manifest, target_file, page, CASE WHEN motivation = 'supplementing'" \
	" AND granularity = 'word' THEN '" DB_PAGE_WORDS "' ELSE motivation END FROM annotations"              \
	" WHERE source = $1"

int db_pg_activity_listed_before(struct db_pg_conn *conn, const char *source,
				 struct iiifd_error *err)
{
	int rc = act_run(conn,
			 "CREATE TEMP TABLE iiifd_import_listed ON COMMIT DROP AS SELECT manifest,"
			 " target_file, page, motivation AS name FROM annotations WITH NO DATA",
			 0, NULL, err);
	return rc ? rc
		  : act_run(conn, "INSERT INTO iiifd_import_listed " ACT_LISTED_SQL, 1, &source,
			    err);
}

int db_pg_activity_mark_source(struct db_pg_conn *conn, const char *source,
			       struct iiifd_error *err)
{
	return act_run(conn,
		       "UPDATE activity_state SET mark = mark + 1 WHERE path IN (SELECT manifest"
		       " FROM ((SELECT * FROM iiifd_import_listed EXCEPT " ACT_LISTED_SQL ")"
		       " UNION ALL (" ACT_LISTED_SQL " EXCEPT SELECT * FROM iiifd_import_listed))"
		       " AS changed)",
		       1, &source, err);
}
