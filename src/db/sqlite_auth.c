/*
 * sqlite_auth.c: the revocation list of access control in SQLite (db.h db_auth_revoke): one
 * row per session ended by a logout, kept until the session would have expired anyway.
 */
#include "db/sqlite.h"

#include <sqlite3.h>
#include <time.h>

static int db_sqlite_auth_run(struct db *db, const char *sql, const char *sid, int64_t n,
			      bool *found, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	if (!conn)
		return -1;
	sqlite3_stmt *stmt = db_sqlite_prepare(conn, sql, err);
	int rc = stmt ? 0 : -1, step = SQLITE_DONE;
	if (stmt) {
		int i = 1;
		if (sid)
			sqlite3_bind_text(stmt, i++, sid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, i, n);
		step = sqlite3_step(stmt);
		if (step != SQLITE_DONE && step != SQLITE_ROW)
			rc = db_sqlite_fail(conn, "revocation list", err);
	}
	if (found)
		*found = rc == 0 && step == SQLITE_ROW;
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

int db_sqlite_auth_revoke(struct db *db, const char *sid, int64_t expires,
			  struct iiifd_error *err)
{
	if (db_sqlite_auth_run(db, "DELETE FROM auth_revoked WHERE expires < ?", NULL,
			       (int64_t)time(NULL), NULL, err) < 0)
		return -1;
	return db_sqlite_auth_run(db, "INSERT OR REPLACE INTO auth_revoked (sid, expires) "
				      "VALUES (?, ?)", sid, expires, NULL, err);
}

int db_sqlite_auth_is_revoked(struct db *db, const char *sid, int64_t now, bool *revoked,
			      struct iiifd_error *err)
{
	return db_sqlite_auth_run(db, "SELECT 1 FROM auth_revoked WHERE sid = ? AND expires > ?",
				  sid, now, revoked, err);
}
