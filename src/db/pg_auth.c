/*
 * pg_auth.c: the PostgreSQL store's side of access control. Revocations (db.h
 * db_auth_revoke): one row per ended session until it would have expired anyway, shared by
 * every node, so a logout on one node holds on all.
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

int db_pg_auth_revoke(struct db *db, const char *sid, int64_t expires, struct iiifd_error *err)
{
	char now[24], until[24];
	snprintf(now, sizeof now, "%" PRId64, (int64_t)time(NULL));
	snprintf(until, sizeof until, "%" PRId64, expires);
	const char *prune[1] = { now }, *add[2] = { sid, until };
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	int rc = conn ? db_pg_run(conn, DB_PG_REVOKED_PRUNE, 1, prune, err) : -1;
	if (!rc)
		rc = db_pg_run(conn, DB_PG_REVOKE, 2, add, err);
	db_pg_release(db, conn);
	return rc;
}

int db_pg_auth_is_revoked(struct db *db, const char *sid, int64_t now, bool *revoked,
			  struct iiifd_error *err)
{
	char at[24];
	snprintf(at, sizeof at, "%" PRId64, now);
	const char *params[2] = { sid, at };
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	PGresult *res = conn ? db_pg_exec(conn, DB_PG_IS_REVOKED, 2, params, err) : NULL;
	*revoked = res && PQntuples(res) > 0;
	PQclear(res);
	db_pg_release(db, conn);
	return res ? 0 : -1;
}
