/*
 * pg.c: the PostgreSQL backend's core: schema migrations (versioned, applied at open under an
 * advisory lock so nodes starting together do not race), the bounded connection pool, prepared
 * statements, and the struct db_ops table. Reads are in pg_read.c, search in pg_search.c,
 * writes in pg_write.c, COPY and rows <-> records in pg_rows.c.
 */
#include "db/pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct db_pg {
	struct db base;
	char *uri;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct db_pg_conn *idle;
	int open, max; /* connections open (idle or in use), and the bound */
};

/* At most this many connections per iiifd process (PostgreSQL's default max is 100), unless
 * the database-pool setting says otherwise (db_pool_limit()). */
#define DB_PG_POOL_MAX 16
/* A caller waits this long for a free connection before a 503. */
#define DB_PG_WAIT_S 5
/* The advisory lock key that serialises migrations across nodes ("iiifd" in ASCII). */
#define DB_PG_MIGRATE_LOCK "6957366961"

/* Migrations, applied in order in one transaction; iiifd_schema counts the ones done. Append. */
static const char *const db_pg_migrations[] = {
	/*
	 * 1: the same tables as SQLite's, with "C" collation (byte order, as SQLite sorts), and
	 * tokens in place of FTS5: one row per term occurrence of an indexed record (not a word
	 * record, text not NULL) with its position, made by db_fold_terms().
	 */
	"CREATE TABLE annotations ("
	" rowid bigserial PRIMARY KEY, id text COLLATE \"C\" NOT NULL UNIQUE,"
	" manifest text COLLATE \"C\", target_file text COLLATE \"C\" NOT NULL,"
	" page integer NOT NULL DEFAULT 0, motivation text COLLATE \"C\" NOT NULL, text text,"
	" language text, granularity text COLLATE \"C\", x float8, y float8, w float8, h float8,"
	" t_start float8, t_end float8, score float8, creator text COLLATE \"C\", generator text,"
	" source text COLLATE \"C\", created text COLLATE \"C\" NOT NULL,"
	" seq bigint NOT NULL DEFAULT 0, line_id text COLLATE \"C\");"
	"CREATE INDEX annotations_target ON annotations (target_file, page, motivation, seq, rowid);"
	"CREATE INDEX annotations_source ON annotations (source);"
	/* searchable records only (searches never return words): imports skip it for words */
	"CREATE INDEX annotations_manifest ON annotations (manifest, rowid)"
	" WHERE granularity IS DISTINCT FROM 'word';"
	"CREATE INDEX annotations_line ON annotations (line_id);"
	/* search results in their order, searchable records only: a first page stops early */
	"CREATE INDEX annotations_search ON annotations"
	" (manifest NULLS FIRST, target_file, page, seq, rowid)"
	" WHERE granularity IS DISTINCT FROM 'word';"
	"CREATE TABLE tokens (term text COLLATE \"C\" NOT NULL, anno bigint NOT NULL,"
	" pos integer NOT NULL, form text);"
	"CREATE INDEX tokens_term ON tokens (term, anno, pos);"
	"CREATE INDEX tokens_anno ON tokens (anno);"
	"CREATE TABLE terms (term text COLLATE \"C\" NOT NULL, manifest text COLLATE \"C\" NOT NULL,"
	" count bigint NOT NULL, PRIMARY KEY (term, manifest));"
	"CREATE INDEX terms_empty ON terms (term) WHERE count <= 0;"
	/* the original forms of folded terms ("Été" for "ete"), for autocomplete labels */
	"CREATE TABLE term_forms (term text COLLATE \"C\" NOT NULL,"
	" manifest text COLLATE \"C\" NOT NULL, form text COLLATE \"C\" NOT NULL,"
	" count bigint NOT NULL, PRIMARY KEY (term, manifest, form));"
	"CREATE INDEX term_forms_empty ON term_forms (term) WHERE count <= 0;"
	"CREATE TABLE sources (source text COLLATE \"C\" PRIMARY KEY, fingerprint text NOT NULL);"
	"CREATE TABLE iiifd_state (id integer PRIMARY KEY, changes bigint NOT NULL);"
	"INSERT INTO iiifd_state VALUES (1, 0);",
	/* 2: sessions ended by a logout (access control), until they would have expired */
	"CREATE TABLE auth_revoked (sid text PRIMARY KEY, expires bigint NOT NULL);",
	/* 3: a region's outline (record.h polygon), as in SQLite */
	"ALTER TABLE annotations ADD COLUMN polygon text;",
	/*
	 * 4: Change Discovery (pg_activity.c), as SQLite's migration 4: the append-only activity
	 * log (idx 0, 1, 2...) and the last observed state of every Collection and Manifest. A
	 * write-API change of an annotation (no source) marks its Manifest in the same
	 * transaction; imports mark theirs once at their end (db_pg_write_import_end).
	 */
	"CREATE TABLE activities (idx bigint PRIMARY KEY, type text NOT NULL, object_type text,"
	" path text COLLATE \"C\", target_path text COLLATE \"C\", label text,"
	" version integer NOT NULL DEFAULT 0, start_time text, end_time text);"
	"CREATE TABLE activity_state (path text COLLATE \"C\" PRIMARY KEY, type text NOT NULL,"
	" fingerprint text NOT NULL, content text NOT NULL, label text,"
	" mark bigint NOT NULL DEFAULT 0, mark_seen bigint NOT NULL DEFAULT 0);"
	"CREATE FUNCTION iiifd_activity_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP = 'INSERT' THEN"
	"  IF NEW.source IS NULL THEN"
	"   UPDATE activity_state SET mark = mark + 1 WHERE path = NEW.manifest; END IF;"
	" ELSIF TG_OP = 'UPDATE' THEN"
	"  UPDATE activity_state SET mark = mark + 1 WHERE path IN (OLD.manifest, NEW.manifest);"
	" ELSIF OLD.source IS NULL THEN"
	"  UPDATE activity_state SET mark = mark + 1 WHERE path = OLD.manifest;"
	" END IF; RETURN NULL; END $$;"
	"CREATE TRIGGER activity_mark AFTER INSERT OR UPDATE OR DELETE ON annotations"
	" FOR EACH ROW EXECUTE FUNCTION iiifd_activity_mark();",
	/*
	 * 5: the same marks, but imported records (a source) no longer fire the trigger at all:
	 * a WHEN condition is checked before an AFTER trigger's event is queued, so a COPY of
	 * an import's rows no longer queues and runs one trigger call per row.
	 */
	"DROP TRIGGER activity_mark ON annotations;"
	"CREATE TRIGGER activity_mark_insert AFTER INSERT ON annotations FOR EACH ROW"
	" WHEN (NEW.source IS NULL) EXECUTE FUNCTION iiifd_activity_mark();"
	"CREATE TRIGGER activity_mark_update AFTER UPDATE ON annotations FOR EACH ROW"
	" EXECUTE FUNCTION iiifd_activity_mark();"
	"CREATE TRIGGER activity_mark_delete AFTER DELETE ON annotations FOR EACH ROW"
	" WHEN (OLD.source IS NULL) EXECUTE FUNCTION iiifd_activity_mark();"
	/*
	 * and the searchable records' index, in result order, is exactly those a search may
	 * return (not georeferencing either): a page of a common word walks it alone (index-only)
	 * testing each record's tokens, reading only the page's records
	 */
	"DROP INDEX annotations_search;"
	"CREATE INDEX annotations_hits ON annotations"
	" (manifest NULLS FIRST, target_file, page, seq, rowid)"
	" WHERE granularity IS DISTINCT FROM 'word' AND motivation IS DISTINCT FROM 'georeferencing';"
	/*
	 * and no index on term counts: it made every count update a new index entry (not HOT),
	 * and each file of an import updates its Manifest's terms (zero counts are deleted by term)
	 */
	"DROP INDEX terms_empty;"
	"DROP INDEX term_forms_empty;",
	/*
	 * 6: a line's OCR words in one row (pg_runs.c): the first word's, with the others in
	 * `more`; last_seq is the largest seq. Rows from before stay one per word. The runs'
	 * index finds those that may reach past a position (a page of words may start in one).
	 */
	"ALTER TABLE annotations ADD COLUMN more text,"
	" ADD COLUMN more_count integer NOT NULL DEFAULT 0, ADD COLUMN last_seq bigint;"
	"CREATE INDEX annotations_runs ON annotations (target_file, page, motivation, seq, rowid)"
	" WHERE more IS NOT NULL;",
	/*
	 * 7: the tokens' term index on the term alone. A term's entries are then duplicates,
	 * which PostgreSQL keeps as posting lists (deduplication): the index is a fraction of the
	 * size, and an import's tokens (one entry per word, each at its term's place) cost less
	 * to add (17 -> 14 CPU s per million words at 10 M words). A record's tokens (a phrase's
	 * next word, a record tested for a term) are found through tokens_anno, as before.
	 * Rebuilding it takes a while on a large store (once, at the first start).
	 */
	("DROP INDEX tokens_term;"
	 "CREATE INDEX tokens_term ON tokens (term);"),
};

#define DB_PG_INDEXED                                                                     \
	"text IS NOT NULL AND granularity IS DISTINCT FROM 'word' AND granularity IS DISTINCT"  \
	" FROM 'block' AND motivation IS DISTINCT FROM 'georeferencing'"
/* $4: true selects the word-level supplementing records (DB_PAGE_WORDS), false the rest. */
#define DB_PG_PAGE_WORDS \
	" AND (motivation = 'supplementing' AND coalesce(granularity = 'word', false)) = $4"
/* Runs (always on a page of words) of one Canvas ($1, $2, $3, $4 as DB_PG_PAGE_WORDS) */
#define DB_PG_RUNS_ACROSS                                                                    \
	" WHERE target_file = $1 AND page = $2 AND motivation = $3 AND more IS NOT NULL"       \
	" AND $4::boolean"
/*
 * The tokens of the records that "WHERE ..." selects, joined LATERAL so that each record's are
 * read through tokens_anno (a hash join would read all tokens for one import's records).
 */
#define DB_PG_TOKENS_OF \
	" FROM annotations a CROSS JOIN LATERAL (SELECT term, form FROM tokens WHERE anno = a.rowid) t WHERE "
#define DB_PG_TERMS_CHANGE                                                                  \
	"INSERT INTO terms (term, manifest, count) SELECT t.term, coalesce(a.manifest, ''),"  \
	" $2::bigint * count(*)" DB_PG_TOKENS_OF
#define DB_PG_FORMS_CHANGE                                                                   \
	"INSERT INTO term_forms (term, manifest, form, count) SELECT t.term,"                  \
	" coalesce(a.manifest, ''), t.form, $2::bigint * count(*)" DB_PG_TOKENS_OF             \
	"t.form IS NOT NULL AND "
#define DB_PG_FORMS_MERGE                                                                    \
	" GROUP BY 1, 2, 3 ON CONFLICT (term, manifest, form) DO UPDATE"                       \
	" SET count = term_forms.count + excluded.count"
#define DB_PG_TERMS_MERGE \
	" GROUP BY 1, 2 ON CONFLICT (term, manifest) DO UPDATE SET count = terms.count + excluded.count"

static const char *const db_pg_sql[DB_PG_STMT_COUNT] = {
	[DB_PG_GET] = "SELECT " DB_PG_COLUMNS " FROM annotations WHERE id = $1",
	[DB_PG_INSERT] = "INSERT INTO annotations (" DB_PG_COLUMNS ") VALUES ($1, $2, $3, $4, $5,"
			 " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,"
			 " $21, $22) RETURNING rowid",
	[DB_PG_UPDATE] = "UPDATE annotations SET manifest = $2, target_file = $3, page = $4,"
			 " motivation = $5, text = $6, language = $7, granularity = $8, x = $9,"
			 " y = $10, w = $11, h = $12, t_start = $13, t_end = $14, score = $15,"
			 " creator = $16, generator = $17, source = $18,"
			 " created = coalesce($19, created), seq = $20, line_id = $21,"
			 " polygon = $22 WHERE id = $1 RETURNING rowid, " DB_PG_INDEXED,
	[DB_PG_DELETE] = "DELETE FROM annotations WHERE id = $1 RETURNING rowid",
	[DB_PG_ROWIDS] = "SELECT nextval('annotations_rowid_seq') FROM generate_series(1, $1::int)",
	[DB_PG_ROWID_OF] = "SELECT rowid, line_id, more IS NOT NULL FROM annotations WHERE id = $1",
	[DB_PG_TOKENS_DELETE_ID] = "DELETE FROM tokens WHERE anno = $1",
	[DB_PG_TOKENS_DELETE_SOURCE] = "DELETE FROM tokens WHERE anno IN"
				       " (SELECT rowid FROM annotations WHERE source = $1)",
	[DB_PG_DELETE_SOURCE] = "DELETE FROM annotations WHERE source = $1",
	[DB_PG_TERMS_ID] = DB_PG_TERMS_CHANGE "a.rowid = $1" DB_PG_TERMS_MERGE,
	[DB_PG_TERMS_SOURCE] = DB_PG_TERMS_CHANGE "a.source = $1" DB_PG_TERMS_MERGE,
	/* the terms of $1's tokens (a record, or a source's records) left at zero */
	[DB_PG_TERMS_PRUNE] = "DELETE FROM terms WHERE count <= 0 AND term IN"
			      " (SELECT term FROM tokens WHERE anno = $1)",
	[DB_PG_FORMS_ID] = DB_PG_FORMS_CHANGE "a.rowid = $1" DB_PG_FORMS_MERGE,
	[DB_PG_FORMS_SOURCE] = DB_PG_FORMS_CHANGE "a.source = $1" DB_PG_FORMS_MERGE,
	[DB_PG_FORMS_PRUNE] = "DELETE FROM term_forms WHERE count <= 0 AND term IN"
			      " (SELECT term FROM tokens WHERE anno = $1)",
	[DB_PG_FINGERPRINT_GET] = "SELECT fingerprint FROM sources WHERE source = $1",
	[DB_PG_FINGERPRINT_SET] = "INSERT INTO sources (source, fingerprint) VALUES ($1, $2)"
				  " ON CONFLICT (source) DO UPDATE SET fingerprint = excluded.fingerprint",
	[DB_PG_LIST_TARGET] = "SELECT " DB_PG_ROW_COLUMNS " FROM annotations"
			      " WHERE target_file = $1 AND page = $2 ORDER BY seq, rowid",
	[DB_PG_LIST_TARGET_MOTIVATION] = "SELECT " DB_PG_ROW_COLUMNS " FROM annotations"
					 " WHERE target_file = $1 AND page = $2 AND motivation = $3"
					 " ORDER BY seq, rowid",
	/* the next rows, and the runs that started before $5, $6 and may reach past it */
	[DB_PG_LIST_TARGET_AFTER] = "(SELECT " DB_PG_ROW_COLUMNS " FROM annotations"
				    " WHERE target_file = $1 AND page = $2 AND motivation = $3"
				    DB_PG_PAGE_WORDS " AND (seq, rowid) > ($5, $6)"
				    " ORDER BY seq, rowid LIMIT $7) UNION ALL"
				    " (SELECT " DB_PG_ROW_COLUMNS " FROM annotations"
				    DB_PG_RUNS_ACROSS " AND (seq, rowid) <= ($5, $6)"
				    " AND last_seq >= $5)",
	[DB_PG_LIST_TARGET_BACK] = "SELECT " DB_PG_ROW_COLUMNS " FROM annotations"
				   " WHERE target_file = $1 AND page = $2 AND motivation = $3"
				   DB_PG_PAGE_WORDS " AND (seq, rowid) <= ($5, $6)"
				   " ORDER BY seq DESC, rowid DESC LIMIT $7",
	/* the runs that started before $5, $6 and may reach it or past it */
	[DB_PG_LIST_TARGET_BACK_RUNS] = "SELECT " DB_PG_ROW_COLUMNS " FROM annotations"
					DB_PG_RUNS_ACROSS " AND (seq, rowid) < ($5, $6)"
					" AND last_seq >= $5",
	[DB_PG_COUNT_TARGET] = "SELECT count(*) + coalesce(sum(more_count), 0) FROM annotations"
			       " WHERE target_file = $1 AND page = $2 AND motivation = $3"
			       DB_PG_PAGE_WORDS,
	[DB_PG_MOTIVATIONS] = "SELECT DISTINCT CASE WHEN motivation = 'supplementing' AND"
			      " granularity = 'word' THEN '" DB_PAGE_WORDS "' ELSE motivation END"
			      " AS name FROM annotations WHERE target_file = $1 AND page = $2"
			      " ORDER BY name",
	[DB_PG_LINE_WORDS] = "SELECT " DB_PG_ROW_COLUMNS " FROM annotations WHERE line_id = $1"
			     " ORDER BY seq, rowid",
	[DB_PG_RUNS_OF_LINE] = "SELECT " DB_PG_ROW_COLUMNS ", more_count FROM annotations"
			       " WHERE line_id = $1 AND more IS NOT NULL ORDER BY rowid FOR UPDATE",
	[DB_PG_DELETE_ROWID] = "DELETE FROM annotations WHERE rowid = $1",
	[DB_PG_SOURCES_BELOW] = "SELECT source FROM sources WHERE source >= $1"
				" AND source < $1 || chr(1114111) ORDER BY source",
	[DB_PG_STAMP] = "SELECT changes FROM iiifd_state WHERE id = 1",
	[DB_PG_STAMP_BUMP] = "UPDATE iiifd_state SET changes = changes + 1 WHERE id = 1",
	[DB_PG_REVOKE] = "INSERT INTO auth_revoked (sid, expires) VALUES ($1, $2)"
			 " ON CONFLICT (sid) DO UPDATE SET expires = excluded.expires",
	[DB_PG_REVOKED_PRUNE] = "DELETE FROM auth_revoked WHERE expires < $1",
	[DB_PG_IS_REVOKED] = "SELECT 1 FROM auth_revoked WHERE sid = $1 AND expires > $2",
	[DB_PG_TERMS_ADD] = "INSERT INTO terms (term, manifest, count) SELECT * FROM"
			    " unnest($1::text[], $2::text[], $3::bigint[])"
			    " ON CONFLICT (term, manifest) DO UPDATE SET count = terms.count + excluded.count",
	[DB_PG_FORMS_ADD] = "INSERT INTO term_forms (term, form, manifest, count) SELECT * FROM"
			    " unnest($1::text[], $2::text[], $3::text[], $4::bigint[])"
			    " ON CONFLICT (term, manifest, form) DO UPDATE"
			    " SET count = term_forms.count + excluded.count",
	[DB_PG_TERMS_PRUNE_SOURCE] = "DELETE FROM terms WHERE count <= 0 AND term IN"
				     " (SELECT t.term" DB_PG_TOKENS_OF "a.source = $1)",
	[DB_PG_FORMS_PRUNE_SOURCE] = "DELETE FROM term_forms WHERE count <= 0 AND term IN"
				     " (SELECT t.term" DB_PG_TOKENS_OF "a.source = $1)",
};

static struct db_pg *db_pg_of(struct db *db)
{
	return (struct db_pg *)db;
}

int db_pg_fail(struct db_pg_conn *conn, const char *what, struct iiifd_error *err)
{
	bool gone = PQstatus(conn->handle) != CONNECTION_OK;
	char msg[200];
	snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn->handle));
	msg[strcspn(msg, "\n")] = '\0';
	return iiifd_error_set(err, gone ? 503 : 500, "annotation store: %s: %s", what,
			       gone ? "the database server is not reachable" : msg);
}

static void db_pg_ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void db_pg_conn_close(struct db_pg_conn *conn)
{
	if (!conn)
		return;
	for (int i = 0; i < DB_PG_DYNAMIC_CACHE; i++)
		free(conn->dynamic[i].sql);
	PQfinish(conn->handle);
	free(conn);
}

static struct db_pg_conn *db_pg_conn_open(const char *uri, struct iiifd_error *err)
{
	struct db_pg_conn *conn = calloc(1, sizeof *conn);
	if (!conn) {
		iiifd_error_set(err, 500, "annotation store: out of memory");
		return NULL;
	}
	conn->handle = PQconnectdb(uri);
	if (PQstatus(conn->handle) != CONNECTION_OK) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn->handle));
		msg[strcspn(msg, "\n")] = '\0';
		iiifd_error_set(err, 503, "annotation store: PostgreSQL at %s:%s/%s: %s",
				PQhost(conn->handle), PQport(conn->handle), PQdb(conn->handle), msg);
		db_pg_conn_close(conn);
		return NULL;
	}
	/* notices (e.g. "table exists, skipping") are not iiifd's to log */
	PQsetNoticeProcessor(conn->handle, db_pg_ignore_notice, NULL);
	/*
	 * Prepared statements are planned for their values each time: a generic plan cannot know
	 * that one word has ten hits and another half a million (or that a source has no rows).
	 */
	PQclear(PQexec(conn->handle, "SET plan_cache_mode = force_custom_plan"));
	return conn;
}

struct db_pg_conn *db_pg_acquire(struct db *db, struct iiifd_error *err)
{
	struct db_pg *s = db_pg_of(db);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DB_PG_WAIT_S;
	pthread_mutex_lock(&s->lock);
	while (!s->idle && s->open >= s->max)
		if (pthread_cond_timedwait(&s->freed, &s->lock, &until) != 0)
			break;
	struct db_pg_conn *conn = s->idle;
	bool may_open = !conn && s->open < s->max;
	if (conn)
		s->idle = conn->next;
	if (may_open)
		s->open++;
	pthread_mutex_unlock(&s->lock);
	if (conn || !may_open) {
		if (!conn)
			iiifd_error_set(err, 503, "annotation store: all %d connections busy", s->max);
		return conn;
	}
	conn = db_pg_conn_open(s->uri, err);
	if (!conn) {
		pthread_mutex_lock(&s->lock);
		s->open--;
		pthread_cond_signal(&s->freed);
		pthread_mutex_unlock(&s->lock);
	}
	return conn;
}

void db_pg_release(struct db *db, struct db_pg_conn *conn)
{
	struct db_pg *s = db_pg_of(db);
	if (!conn)
		return;
	/* a connection goes back clean: no transaction left open */
	if (PQstatus(conn->handle) == CONNECTION_OK &&
	    PQtransactionStatus(conn->handle) != PQTRANS_IDLE)
		PQclear(PQexec(conn->handle, "ROLLBACK"));
	bool keep = PQstatus(conn->handle) == CONNECTION_OK &&
		    PQtransactionStatus(conn->handle) == PQTRANS_IDLE;
	pthread_mutex_lock(&s->lock);
	keep = keep && s->open <= s->max; /* over a lowered bound: closed */
	if (keep) {
		conn->next = s->idle;
		s->idle = conn;
	} else {
		s->open--;
	}
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
	if (!keep)
		db_pg_conn_close(conn); /* broken (e.g. the server restarted): the next one is new */
}

/* The result when it has the wanted status, else NULL with err set. */
static PGresult *db_pg_result(struct db_pg_conn *conn, PGresult *res, const char *what,
			      struct iiifd_error *err)
{
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	if (res && PQstatus(conn->handle) == CONNECTION_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		/* 40001 serialization, 40P01 deadlock, 57014 cancelled, 55P03 lock: try again */
		bool retry = state && (strncmp(state, "40", 2) == 0 || strcmp(state, "57014") == 0 ||
				       strcmp(state, "55P03") == 0);
		iiifd_error_set(err, retry ? 503 : 500, "annotation store: %s: %s", what,
				msg ? msg : "failed");
	} else {
		db_pg_fail(conn, what, err);
	}
	PQclear(res);
	return NULL;
}

PGresult *db_pg_exec(struct db_pg_conn *conn, enum db_pg_stmt which, int n,
		     const char *const *params, struct iiifd_error *err)
{
	char name[24];
	snprintf(name, sizeof name, "iiifd_%d", (int)which);
	if (!conn->prepared[which]) {
		PGresult *res = db_pg_result(conn, PQprepare(conn->handle, name, db_pg_sql[which], 0,
							     NULL), "prepare", err);
		if (!res)
			return NULL;
		PQclear(res);
		conn->prepared[which] = true;
	}
	return db_pg_result(conn, PQexecPrepared(conn->handle, name, n, params, NULL, NULL, 0),
			    name, err);
}

PGresult *db_pg_exec_sql(struct db_pg_conn *conn, const char *sql, int n,
			 const char *const *params, struct iiifd_error *err)
{
	int slot = -1, victim = 0;
	for (int i = 0; i < DB_PG_DYNAMIC_CACHE && slot < 0; i++) {
		if (conn->dynamic[i].sql && strcmp(conn->dynamic[i].sql, sql) == 0)
			slot = i;
		else if (conn->dynamic[i].used < conn->dynamic[victim].used)
			victim = i;
	}
	char name[24];
	if (slot < 0) {
		slot = victim;
		snprintf(name, sizeof name, "iiifd_d%d", slot);
		if (conn->dynamic[slot].sql) {
			char sql_drop[48];
			snprintf(sql_drop, sizeof sql_drop, "DEALLOCATE %s", name);
			PQclear(PQexec(conn->handle, sql_drop));
			free(conn->dynamic[slot].sql);
			conn->dynamic[slot].sql = NULL;
		}
		PGresult *res = db_pg_result(conn, PQprepare(conn->handle, name, sql, 0, NULL),
					     "prepare", err);
		if (!res)
			return NULL;
		PQclear(res);
		conn->dynamic[slot].sql = strdup(sql);
		if (!conn->dynamic[slot].sql) {
			iiifd_error_set(err, 500, "annotation store: out of memory");
			return NULL;
		}
	}
	snprintf(name, sizeof name, "iiifd_d%d", slot);
	conn->dynamic[slot].used = ++conn->clock;
	return db_pg_result(conn, PQexecPrepared(conn->handle, name, n, params, NULL, NULL, 0),
			    "search", err);
}

int db_pg_run(struct db_pg_conn *conn, enum db_pg_stmt which, int n, const char *const *params,
	      struct iiifd_error *err)
{
	PGresult *res = db_pg_exec(conn, which, n, params, err);
	PQclear(res);
	return res ? 0 : -1;
}

int db_pg_simple(struct db_pg_conn *conn, const char *sql, struct iiifd_error *err)
{
	PGresult *res = db_pg_result(conn, PQexec(conn->handle, sql), sql, err);
	PQclear(res);
	return res ? 0 : -1;
}

struct db_pg_conn *db_pg_begin_write(struct db *db, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	if (conn && db_pg_simple(conn, "BEGIN", err)) {
		db_pg_release(db, conn);
		conn = NULL;
	}
	return conn;
}

int db_pg_end_write(struct db *db, struct db_pg_conn *conn, int rc, struct iiifd_error *err)
{
	/* the change counter last: its row lock is held only for the commit */
	if (rc == 0 && (db_pg_run(conn, DB_PG_STAMP_BUMP, 0, NULL, err) ||
			db_pg_simple(conn, "COMMIT", err)))
		rc = -1;
	db_pg_release(db, conn); /* rolls back what is left open */
	return rc;
}

static int db_pg_schema_version(struct db_pg_conn *conn, int *version, struct iiifd_error *err)
{
	if (db_pg_simple(conn, "CREATE TABLE IF NOT EXISTS iiifd_schema (version integer NOT NULL);"
			       "INSERT INTO iiifd_schema SELECT 0 WHERE NOT EXISTS"
			       " (SELECT 1 FROM iiifd_schema)", err))
		return -1;
	PGresult *res = db_pg_result(conn, PQexec(conn->handle, "SELECT version FROM iiifd_schema"),
				     "schema version", err);
	if (!res)
		return -1;
	*version = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return 0;
}

/*
 * Brings the schema up to date in one transaction, under a transaction-scoped advisory lock: a
 * second node starting at the same moment waits, then finds the work done.
 */
static int db_pg_migrate(struct db_pg_conn *conn, struct iiifd_error *err)
{
	const int latest = (int)(sizeof db_pg_migrations / sizeof db_pg_migrations[0]);
	int version = 0;
	int rc = db_pg_simple(conn, "BEGIN; SELECT pg_advisory_xact_lock(" DB_PG_MIGRATE_LOCK ")",
			      err);
	if (!rc)
		rc = db_pg_schema_version(conn, &version, err);
	if (!rc && version > latest)
		rc = iiifd_error_set(err, 500, "annotation store: schema version %d is newer than "
					       "this iiifd's %d", version, latest);
	for (int v = version; !rc && v < latest; v++) {
		char bump[64];
		snprintf(bump, sizeof bump, "UPDATE iiifd_schema SET version = %d", v + 1);
		struct iiifd_error why;
		if (db_pg_simple(conn, db_pg_migrations[v], &why) || db_pg_simple(conn, bump, &why))
			rc = iiifd_error_set(err, 500, "annotation store: migration to version %d: %s",
					     v + 1, why.msg);
	}
	if (!rc)
		return db_pg_simple(conn, "COMMIT", err);
	PQclear(PQexec(conn->handle, "ROLLBACK"));
	return -1;
}

/*
 * VACUUM cannot run in a transaction: plain statements on an idle connection. Both tables grow
 * by millions of rows in a bulk import; autovacuum would get there, later.
 */
static int db_pg_after_bulk_load(struct db *db, struct iiifd_error *err)
{
	struct db_pg_conn *conn = db_pg_acquire(db, err);
	int rc = conn ? db_pg_simple(conn, "VACUUM (ANALYZE) annotations", err) : -1;
	if (!rc)
		rc = db_pg_simple(conn, "VACUUM (ANALYZE) tokens", err);
	if (!rc)
		rc = db_pg_simple(conn, "ANALYZE terms, term_forms", err);
	db_pg_release(db, conn);
	return rc;
}

static void db_pg_close(struct db *db)
{
	struct db_pg *s = db_pg_of(db);
	while (s->idle) {
		struct db_pg_conn *next = s->idle->next;
		db_pg_conn_close(s->idle);
		s->idle = next;
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	free(s->uri);
	free(s);
}

static int db_pg_open(const char *location, struct db **out, struct iiifd_error *err)
{
	struct db_pg *s = calloc(1, sizeof *s);
	if (!s || !(s->uri = strdup(location))) {
		free(s);
		return iiifd_error_set(err, 500, "annotation store: out of memory");
	}
	s->base.ops = &db_pg_ops;
	s->max = DB_PG_POOL_MAX;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	struct db_pg_conn *conn = db_pg_acquire(&s->base, err);
	if (!conn || db_pg_migrate(conn, err)) {
		db_pg_release(&s->base, conn);
		db_pg_close(&s->base);
		return -1;
	}
	db_pg_release(&s->base, conn);
	*out = &s->base;
	return 0;
}

static void db_pg_pool_limit(struct db *db, int max)
{
	struct db_pg *s = db_pg_of(db);
	pthread_mutex_lock(&s->lock);
	s->max = max;
	pthread_cond_broadcast(&s->freed); /* a raised bound lets waiters open connections */
	pthread_mutex_unlock(&s->lock);
}

static bool db_pg_accepts(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0 ||
	       strncmp(location, "postgres://", 11) == 0;
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.accepts = db_pg_accepts,
	.open = db_pg_open,
	.close = db_pg_close,
	.import_begin = db_pg_write_import_begin,
	.import_add = db_pg_write_import_add,
	.import_end = db_pg_write_import_end,
	.source_is_current = db_pg_read_is_current,
	.source_set_fingerprint = db_pg_write_fingerprint,
	.insert = db_pg_write_insert,
	.get = db_pg_read_get,
	.update = db_pg_write_update,
	.delete = db_pg_write_delete,
	.list_target = db_pg_read_list_target,
	.list_target_after = db_pg_read_list_target_after,
	.cursor_back = db_pg_read_cursor_back,
	.count_target = db_pg_read_count_target,
	.target_motivations = db_pg_read_motivations,
	.sources_below = db_pg_read_sources,
	.search = db_pg_search,
	.search_count = db_pg_search_count,
	.line_words = db_pg_read_line_words,
	.autocomplete = db_pg_autocomplete,
	.activity_append = db_pg_activity_append,
	.activity_states = db_pg_activity_states,
	.activity_count = db_pg_activity_count,
	.activity_range = db_pg_activity_range,
	.activity_mark = db_pg_activity_mark,
	.auth_revoke = db_pg_auth_revoke,
	.auth_is_revoked = db_pg_auth_is_revoked,
	.stamp = db_pg_read_stamp,
	.source_lock = db_pg_source_lock,
	.source_unlock = db_pg_source_unlock,
	.claim = db_pg_claim,
	.pool_limit = db_pg_pool_limit,
	.after_bulk_load = db_pg_after_bulk_load,
};
