/*
 * pg_lock.c: cluster-wide locks held on a connection of their own: one per import source (a
 * session advisory lock for the length of one import, so that of several nodes noticing the
 * same changed file one imports it and the others, once it is done, find it current), and
 * claims on other work (pyramid builds) that a node takes only when nobody holds them.
 */
#include "db/pg.h"

#include <stdlib.h>
#include <string.h>

struct db_pg_lock {
	struct db_pg_conn *conn;
};

/*
 * Runs sql (one row, one boolean or void column, $1 = key) on a connection of its own and keeps
 * that connection as the lock when the answer is not false. 1 locked, 0 not (try-locks), -1.
 */
static int db_pg_lock_take(struct db *db, const char *sql, const char *key, void **out,
			   struct iiifd_error *err)
{
	*out = NULL;
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	if (!conn)
		return -1;
	const char *params[1] = { key };
	PGresult *res = db_pg_exec_sql(conn, sql, 1, params, err);
	bool taken = res && strcmp(PQgetvalue(res, 0, 0), "f") != 0;
	struct db_pg_lock *lock = taken ? malloc(sizeof *lock) : NULL;
	PQclear(res);
	if (!lock) {
		db_pg_release(db, conn);
		if (!res)
			return -1;
		return taken ? iiifd_error_set(err, 500, "annotation store: out of memory") : 0;
	}
	lock->conn = conn;
	*out = lock;
	return 1;
}

int db_pg_source_lock(struct db *db, const char *source, void **out, struct iiifd_error *err)
{
	return db_pg_lock_take(db, "SELECT pg_advisory_lock(hashtextextended('iiifd-claim:' || $1,"
				   " 0))", source, out, err) < 0 ? -1 : 0;
}

/*
 * A claim lives as long as its session: a node that dies (process killed: its socket closes at
 * once; machine gone: TCP keepalives notice within about 90 s) releases it, and another node
 * takes the work over. The keepalive settings are per session and need no privilege.
 */
int db_pg_claim(struct db *db, const char *key, void **out, struct iiifd_error *err)
{
	return db_pg_lock_take(db, "SELECT pg_try_advisory_lock(hashtextextended("
				   "'iiifd-work:' || $1, 0)), set_config('tcp_keepalives_idle',"
				   " '60', false), set_config('tcp_keepalives_interval', '10', false),"
				   " set_config('tcp_keepalives_count', '3', false)",
			       key, out, err);
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
