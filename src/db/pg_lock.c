/*
 * pg_lock.c: a cluster-wide lock per import source: a session advisory lock held on a
 * connection of its own for the length of one import, so that of several nodes noticing the
 * same changed file one imports it and the others, once it is done, find it current.
 */
#include "db/pg.h"

#include <stdlib.h>

struct db_pg_lock {
	struct db_pg_conn *conn;
};

int db_pg_source_lock(struct db *db, const char *source, void **out, struct iiifd_error *err)
{
	*out = NULL;
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	if (!conn)
		return -1;
	const char *params[1] = { source };
	PGresult *res = db_pg_exec_sql(conn, "SELECT pg_advisory_lock(hashtextextended("
					     "'iiifd-claim:' || $1, 0))", 1, params, err);
	struct db_pg_lock *lock = res ? malloc(sizeof *lock) : NULL;
	PQclear(res);
	if (!lock) {
		db_pg_release(db, conn);
		return res ? iiifd_error_set(err, 500, "annotation store: out of memory") : -1;
	}
	lock->conn = conn;
	*out = lock;
	return 0;
}

void db_pg_source_unlock(struct db *db, void *arg)
{
	struct db_pg_lock *lock = arg;
	if (!lock)
		return;
	struct iiifd_error ignored;
	/* a lost connection released the lock already (PostgreSQL ends the session) */
	if (db_pg_simple(lock->conn, "SELECT pg_advisory_unlock_all()", &ignored) < 0)
		PQreset(lock->conn->handle);
	db_pg_release(db, lock->conn);
	free(lock);
}
