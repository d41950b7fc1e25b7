/*
 * sqlite.c: the SQLite backend's core: schema and migrations, a pool of connections (one per
 * concurrent caller, WAL mode), per-connection statement caches, and rows <-> records.
 */
#include "db/sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_sqlite {
	struct db base;
	char *path;
	pthread_mutex_t pool_lock;
	struct db_sqlite_conn *idle;
	size_t idle_count;
	/* Writers in this process wait here, without a timeout, instead of on SQLite's lock. */
	pthread_mutex_t write_lock;
};

/*
 * Page cache of a connection (KiB), and of one that imports (see db_sqlite_big_cache): 64 MiB
 * keeps an import's peak RSS near 120 MB whatever the file's size (128 MiB took it to 200 MB
 * and imported 1.1 M records no faster; bench/annotations, import memory).
 */
#define DB_SQLITE_CACHE "cache_size = -16384"
#define DB_SQLITE_BIG_CACHE "PRAGMA cache_size = -65536"

/* Idle connections kept open; more are closed when given back. */
#define DB_SQLITE_IDLE_MAX 32
#define DB_SQLITE_BUSY_MS 5000

/*
 * Migrations, applied in order inside one transaction; PRAGMA user_version counts the ones done.
 * Append new ones; never edit a released one.
 */
/* The migration that adds term_forms; a store made before it has its terms counted again. */
#define DB_SQLITE_FORMS_VERSION 2

static const char *const db_sqlite_migrations[] = {
	/*
	 * 1: annotations, their full-text index, terms, sources. The index is external content
	 * over the records that are not words; sqlite_write.c keeps it in step. No triggers:
	 * a trigger writing to FTS5 makes every INSERT flush FTS5's pending terms (imports 4x
	 * slower).
	 */
	"CREATE TABLE annotations ("
	" rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, manifest TEXT,"
	" target_file TEXT NOT NULL, page INTEGER NOT NULL DEFAULT 0, motivation TEXT NOT NULL,"
	" text TEXT, language TEXT, granularity TEXT, x REAL, y REAL, w REAL, h REAL,"
	" t_start REAL, t_end REAL, score REAL, creator TEXT, generator TEXT, source TEXT,"
	" created TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0, line_id TEXT);"
	"CREATE INDEX annotations_target ON annotations(target_file, page, motivation, seq);"
	"CREATE INDEX annotations_source ON annotations(source);"
	"CREATE INDEX annotations_manifest ON annotations(manifest);"
	"CREATE INDEX annotations_line ON annotations(line_id);"
	"CREATE VIRTUAL TABLE annotations_fts USING fts5(text, content='annotations',"
	" content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');"
	/* manifest '' stands for records without one (primary key columns cannot be NULL) */
	"CREATE TABLE terms (term TEXT NOT NULL, manifest TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY (term, manifest)) WITHOUT ROWID;"
	"CREATE TABLE sources (source TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);",
	/*
	 * 2: the original forms of folded terms ("Été" for "ete"), counted like terms, for the
	 * autocomplete label; only forms that differ from their term by more than case. The terms
	 * of existing records are counted again after this step (db_sqlite_terms_rebuild).
	 */
	"CREATE TABLE term_forms (term TEXT NOT NULL, manifest TEXT NOT NULL, form TEXT NOT NULL,"
	" count INTEGER NOT NULL, PRIMARY KEY (term, manifest, form)) WITHOUT ROWID;",
	/* 3: outlines of regions (PAGE XML, COCO segmentation, Label Studio polygons) */
	"ALTER TABLE annotations"
	" ADD COLUMN polygon TEXT;",
	/*
	 * 4: Change Discovery (sqlite_activity.c): the append-only activity log (idx 0, 1, 2...)
	 * and the last observed state of every Collection and Manifest.
	 */
	"CREATE TABLE activities (idx INTEGER PRIMARY KEY, type TEXT NOT NULL, object_type TEXT,"
	" path TEXT, target_path TEXT, label TEXT, version INTEGER NOT NULL DEFAULT 0,"
	" start_time TEXT, end_time TEXT);"
	"CREATE TABLE activity_state (path TEXT PRIMARY KEY, type TEXT NOT NULL,"
	" fingerprint TEXT NOT NULL, content TEXT NOT NULL, label TEXT,"
	" mark INTEGER NOT NULL DEFAULT 0, mark_seen INTEGER NOT NULL DEFAULT 0);"
	/*
	 * A write-API change of an annotation marks its Manifest in the same transaction, so a
	 * crash cannot separate the edit from its Update. Only records without a source (imports
	 * write millions; db_sqlite_write_import_end marks their Manifests in one statement).
	 */
	"CREATE TRIGGER activity_mark_insert AFTER INSERT ON annotations WHEN NEW.source IS NULL"
	" BEGIN UPDATE activity_state SET mark = mark + 1 WHERE path = NEW.manifest; END;"
	"CREATE TRIGGER activity_mark_update AFTER UPDATE ON annotations BEGIN"
	" UPDATE activity_state SET mark = mark + 1 WHERE path IN (OLD.manifest, NEW.manifest);"
	" END;"
	"CREATE TRIGGER activity_mark_delete AFTER DELETE ON annotations WHEN OLD.source IS NULL"
	" BEGIN UPDATE activity_state SET mark = mark + 1 WHERE path = OLD.manifest; END;",
	/* 5: sessions ended by a logout (auth/), until they would have expired (sqlite_auth.c) */
	"CREATE TABLE IF NOT EXISTS auth_revoked (sid TEXT PRIMARY KEY,"
	" expires INTEGER NOT NULL) WITHOUT ROWID;",
};

/*
 * Regions ("block", from PAGE XML) repeat their lines' text: only the lines are searched, so a
 * hit is never reported twice. No release stored blocks before they were left out here.
 * Georeference Annotations keep their JSON in text: not words to search (and none was stored
 * before they were left out here).
 */
#define DB_SQLITE_INDEXED                                                                   \
	"text IS NOT NULL AND granularity IS NOT 'word' AND granularity IS NOT 'block'"       \
	" AND motivation IS NOT 'georeferencing'"
/*
 * Canvas pages: ?7 = 1 selects the word-level supplementing records (the DB_PAGE_WORDS page),
 * 0 everything else of the motivation ?3 (see db_sqlite_bind_target).
 */
#define DB_SQLITE_PAGE_WORDS " AND (motivation = 'supplementing' AND granularity IS 'word') = ?7"

static const char *const db_sqlite_sql[DB_SQLITE_STMT_COUNT] = {
	[DB_SQLITE_BEGIN_READ] = "BEGIN",
	[DB_SQLITE_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[DB_SQLITE_COMMIT] = "COMMIT",
	[DB_SQLITE_ROLLBACK] = "ROLLBACK",
	[DB_SQLITE_INSERT] = "INSERT INTO annotations (" DB_SQLITE_COLUMNS ") VALUES (?1, ?2, ?3,"
			     " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
			     " ?19, ?20, ?21, ?22)",
	[DB_SQLITE_UPDATE] = "UPDATE annotations SET manifest = ?2, target_file = ?3, page = ?4,"
			     " motivation = ?5, text = ?6, language = ?7, granularity = ?8, x = ?9,"
			     " y = ?10, w = ?11, h = ?12, t_start = ?13, t_end = ?14, score = ?15,"
			     " creator = ?16, generator = ?17, source = ?18,"
			     " created = coalesce(?19, created), seq = ?20, line_id = ?21,"
			     " polygon = ?22"
			     " WHERE id = ?1",
	[DB_SQLITE_DELETE] = "DELETE FROM annotations WHERE id = ?1",
	[DB_SQLITE_GET] = "SELECT " DB_SQLITE_COLUMNS " FROM annotations WHERE id = ?1",
	[DB_SQLITE_INDEXED_TEXT] = "SELECT coalesce(manifest, ''), text FROM annotations"
				   " WHERE id = ?1 AND " DB_SQLITE_INDEXED,
	[DB_SQLITE_SOURCE_TEXTS] = "SELECT coalesce(manifest, ''), text FROM annotations"
				   " WHERE source = ?1 AND " DB_SQLITE_INDEXED,
	[DB_SQLITE_ALL_TEXTS] = "SELECT coalesce(manifest, ''), text FROM annotations"
				" WHERE " DB_SQLITE_INDEXED,
	[DB_SQLITE_DELETE_SOURCE] = "DELETE FROM annotations WHERE source = ?1",
	[DB_SQLITE_FTS_ADD_SOURCE] = "INSERT INTO annotations_fts (rowid, text) SELECT rowid, text"
				     " FROM annotations WHERE source = ?1 AND " DB_SQLITE_INDEXED
				     " ORDER BY rowid",
	[DB_SQLITE_FTS_DELETE_SOURCE] = "INSERT INTO annotations_fts (annotations_fts, rowid, text)"
					" SELECT 'delete', rowid, text FROM annotations"
					" WHERE source = ?1 AND " DB_SQLITE_INDEXED,
	[DB_SQLITE_FTS_ADD_ID] = "INSERT INTO annotations_fts (rowid, text) SELECT rowid, text"
				 " FROM annotations WHERE id = ?1 AND " DB_SQLITE_INDEXED,
	[DB_SQLITE_FTS_DELETE_ID] = "INSERT INTO annotations_fts (annotations_fts, rowid, text)"
				    " SELECT 'delete', rowid, text FROM annotations"
				    " WHERE id = ?1 AND " DB_SQLITE_INDEXED,
	[DB_SQLITE_TERM_ADD] = "INSERT INTO terms (term, manifest, count) VALUES (?1, ?2, ?3)"
			       " ON CONFLICT (term, manifest) DO UPDATE"
			       " SET count = count + excluded.count",
	[DB_SQLITE_TERM_PRUNE] = "DELETE FROM terms WHERE term = ?1 AND manifest = ?2"
				 " AND count <= 0",
	[DB_SQLITE_FORM_ADD] = "INSERT INTO term_forms (term, manifest, form, count)"
			       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (term, manifest, form) DO UPDATE"
			       " SET count = count + excluded.count",
	[DB_SQLITE_FORM_PRUNE] = "DELETE FROM term_forms WHERE term = ?1 AND manifest = ?2"
				 " AND form = ?3 AND count <= 0",
	[DB_SQLITE_FINGERPRINT_GET] = "SELECT fingerprint FROM sources WHERE source = ?1",
	[DB_SQLITE_FINGERPRINT_SET] = "INSERT INTO sources (source, fingerprint) VALUES (?1, ?2)"
				      " ON CONFLICT (source) DO UPDATE"
				      " SET fingerprint = excluded.fingerprint",
	[DB_SQLITE_LIST_TARGET] = "SELECT " DB_SQLITE_COLUMNS " FROM annotations"
				  " WHERE target_file = ?1 AND page = ?2 ORDER BY seq, rowid",
	[DB_SQLITE_LIST_TARGET_MOTIVATION] = "SELECT " DB_SQLITE_COLUMNS " FROM annotations"
					     " WHERE target_file = ?1 AND page = ?2"
					     " AND motivation = ?3 ORDER BY seq, rowid",
	/* one batch of a Canvas's records after (?4, ?5) in (seq, rowid) order: keyset paging */
	[DB_SQLITE_LIST_TARGET_AFTER] = "SELECT " DB_SQLITE_COLUMNS ", seq, rowid FROM annotations"
					" WHERE target_file = ?1 AND page = ?2 AND motivation = ?3"
					DB_SQLITE_PAGE_WORDS
					" AND (seq, rowid) > (?4, ?5) ORDER BY seq, rowid LIMIT ?6",
	/* the record ?6 places before (?4, ?5), counting it as 0: where the page before starts */
	[DB_SQLITE_LIST_TARGET_BACK] = "SELECT seq, rowid FROM annotations"
				       " WHERE target_file = ?1 AND page = ?2 AND motivation = ?3"
				       DB_SQLITE_PAGE_WORDS " AND (seq, rowid) <= (?4, ?5)"
				       " ORDER BY seq DESC, rowid DESC LIMIT 1 OFFSET ?6",
	[DB_SQLITE_COUNT_TARGET] = "SELECT count(*) FROM annotations"
				   " WHERE target_file = ?1 AND page = ?2 AND motivation = ?3"
				   DB_SQLITE_PAGE_WORDS,
	/* sources whose path starts with ?1 (a folder and '/', or '' for all): the range uses the key */
	[DB_SQLITE_SOURCES_BELOW] = "SELECT source FROM sources WHERE source >= ?1 AND "
				    "source < ?1 || char(1114111) ORDER BY source",
	[DB_SQLITE_MOTIVATIONS] = "SELECT DISTINCT CASE WHEN motivation = 'supplementing' AND"
				  " granularity IS 'word' THEN '" DB_PAGE_WORDS "' ELSE motivation END"
				  " AS name FROM annotations WHERE target_file = ?1 AND page = ?2"
				  " ORDER BY name",
	[DB_SQLITE_LINE_WORDS] = "SELECT " DB_SQLITE_COLUMNS " FROM annotations"
				 " WHERE line_id = ?1 ORDER BY seq, rowid",
};

static struct db_sqlite *db_sqlite_of(struct db *db)
{
	return (struct db_sqlite *)db;
}

int db_sqlite_fail(struct db_sqlite_conn *conn, const char *what, struct iiifd_error *err)
{
	int code = sqlite3_errcode(conn->handle) & 0xff;
	int status = code == SQLITE_BUSY || code == SQLITE_LOCKED ? 503 : 500;
	return iiifd_error_set(err, status, "annotation store: %s: %s", what,
			       sqlite3_errmsg(conn->handle));
}

static void db_sqlite_conn_close(struct db_sqlite_conn *conn)
{
	if (!conn)
		return;
	for (int i = 0; i < DB_SQLITE_STMT_COUNT; i++)
		sqlite3_finalize(conn->fixed[i]);
	for (int i = 0; i < DB_SQLITE_DYNAMIC_CACHE; i++) {
		sqlite3_finalize(conn->dynamic[i].stmt);
		free(conn->dynamic[i].sql);
	}
	sqlite3_close(conn->handle);
	free(conn);
}

/*
 * sqlite3_exec for the set-up statements of a new connection (pragmas, the switch to WAL):
 * SQLite can answer those with SQLITE_BUSY without calling the busy handler while another
 * process is creating or recovering the same file, so they are tried again for up to
 * DB_SQLITE_BUSY_MS, as the busy handler would.
 */
static int db_sqlite_exec_setup(sqlite3 *handle, const char *sql)
{
	int rc = SQLITE_BUSY;
	for (int waited = 0; waited <= DB_SQLITE_BUSY_MS; waited += 10) {
		rc = sqlite3_exec(handle, sql, NULL, NULL, NULL);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		sqlite3_sleep(10);
	}
	return rc;
}

static struct db_sqlite_conn *db_sqlite_conn_open(const char *path, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = calloc(1, sizeof *conn);
	if (!conn) {
		iiifd_error_set(err, 500, "annotation store: out of memory");
		return NULL;
	}
	/* NOMUTEX: a connection is used by one thread at a time (the pool guarantees it) */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &conn->handle, flags, NULL);
	if (rc != SQLITE_OK) {
		iiifd_error_set(err, 500, "%s: %s", path,
				conn->handle ? sqlite3_errmsg(conn->handle) : sqlite3_errstr(rc));
		db_sqlite_conn_close(conn);
		return NULL;
	}
	sqlite3_busy_timeout(conn->handle, DB_SQLITE_BUSY_MS);
	/*
	 * synchronous NORMAL is safe in WAL mode: a power cut can lose the last commits, never
	 * corrupt. A big import leaves a big WAL behind; journal_size_limit trims it after the
	 * checkpoint.
	 */
	const char *pragmas = "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
			      " PRAGMA " DB_SQLITE_CACHE "; PRAGMA mmap_size = 268435456;"
			      " PRAGMA journal_size_limit = 67108864;";
	if (db_sqlite_exec_setup(conn->handle, pragmas) != SQLITE_OK) {
		iiifd_error_set(err, 500, "%s: %s", path, sqlite3_errmsg(conn->handle));
		db_sqlite_conn_close(conn);
		return NULL;
	}
	return conn;
}

struct db_sqlite_conn *db_sqlite_acquire(struct db *db, struct iiifd_error *err)
{
	struct db_sqlite *s = db_sqlite_of(db);
	pthread_mutex_lock(&s->pool_lock);
	struct db_sqlite_conn *conn = s->idle;
	if (conn) {
		s->idle = conn->next;
		s->idle_count--;
	}
	pthread_mutex_unlock(&s->pool_lock);
	return conn ? conn : db_sqlite_conn_open(s->path, err);
}

void db_sqlite_big_cache(struct db_sqlite_conn *conn)
{
	conn->big_cache = sqlite3_exec(conn->handle, DB_SQLITE_BIG_CACHE, NULL, NULL, NULL) ==
			  SQLITE_OK;
}

void db_sqlite_release(struct db *db, struct db_sqlite_conn *conn)
{
	struct db_sqlite *s = db_sqlite_of(db);
	if (!conn)
		return;
	/* a connection goes back clean: no transaction left open, which would pin a snapshot */
	if (!sqlite3_get_autocommit(conn->handle))
		sqlite3_exec(conn->handle, "ROLLBACK", NULL, NULL, NULL);
	/* shrinking the cache frees the pages above the limit */
	if (conn->big_cache)
		sqlite3_exec(conn->handle, "PRAGMA " DB_SQLITE_CACHE, NULL, NULL, NULL);
	conn->big_cache = false;
	pthread_mutex_lock(&s->pool_lock);
	bool keep = s->idle_count < DB_SQLITE_IDLE_MAX;
	if (keep) {
		conn->next = s->idle;
		s->idle = conn;
		s->idle_count++;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!keep)
		db_sqlite_conn_close(conn);
}

sqlite3_stmt *db_sqlite_stmt(struct db_sqlite_conn *conn, enum db_sqlite_stmt which,
			     struct iiifd_error *err)
{
	if (!conn->fixed[which] &&
	    sqlite3_prepare_v3(conn->handle, db_sqlite_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &conn->fixed[which], NULL) != SQLITE_OK) {
		db_sqlite_fail(conn, "prepare", err);
		return NULL;
	}
	return conn->fixed[which];
}

sqlite3_stmt *db_sqlite_prepare(struct db_sqlite_conn *conn, const char *sql,
				struct iiifd_error *err)
{
	int victim = 0;
	for (int i = 0; i < DB_SQLITE_DYNAMIC_CACHE; i++) {
		if (conn->dynamic[i].sql && strcmp(conn->dynamic[i].sql, sql) == 0) {
			conn->dynamic[i].used = ++conn->clock;
			return conn->dynamic[i].stmt;
		}
		if (conn->dynamic[i].used < conn->dynamic[victim].used)
			victim = i;
	}
	sqlite3_stmt *stmt = NULL;
	char *copy = strdup(sql);
	if (!copy || sqlite3_prepare_v3(conn->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
					NULL) != SQLITE_OK) {
		if (copy)
			db_sqlite_fail(conn, "prepare", err);
		else
			iiifd_error_set(err, 500, "annotation store: out of memory");
		free(copy);
		return NULL;
	}
	sqlite3_finalize(conn->dynamic[victim].stmt);
	free(conn->dynamic[victim].sql);
	conn->dynamic[victim].sql = copy;
	conn->dynamic[victim].stmt = stmt;
	conn->dynamic[victim].used = ++conn->clock;
	return stmt;
}

void db_sqlite_done(sqlite3_stmt *stmt)
{
	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
}

int db_sqlite_run(struct db_sqlite_conn *conn, enum db_sqlite_stmt which,
		  struct iiifd_error *err)
{
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, which, err);
	if (!stmt)
		return -1;
	int rc = 0;
	if (sqlite3_step(stmt) != SQLITE_DONE)
		rc = db_sqlite_fail(conn, db_sqlite_sql[which], err);
	db_sqlite_done(stmt);
	return rc;
}

struct db_sqlite_conn *db_sqlite_begin_write(struct db *db, struct iiifd_error *err)
{
	struct db_sqlite *s = db_sqlite_of(db);
	pthread_mutex_lock(&s->write_lock);
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	if (conn && db_sqlite_run(conn, DB_SQLITE_BEGIN_WRITE, err)) {
		db_sqlite_release(db, conn);
		conn = NULL;
	}
	if (!conn)
		pthread_mutex_unlock(&s->write_lock);
	return conn;
}

int db_sqlite_end_write(struct db *db, struct db_sqlite_conn *conn, int rc,
			struct iiifd_error *err)
{
	struct db_sqlite *s = db_sqlite_of(db);
	if (rc == 0 && db_sqlite_run(conn, DB_SQLITE_COMMIT, err))
		rc = -1;
	/* some errors (full disk, I/O) end the transaction by themselves */
	if (rc != 0 && !sqlite3_get_autocommit(conn->handle)) {
		struct iiifd_error ignored;
		db_sqlite_run(conn, DB_SQLITE_ROLLBACK, &ignored);
	}
	db_sqlite_release(db, conn);
	pthread_mutex_unlock(&s->write_lock);
	return rc;
}

static int db_sqlite_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	return s ? sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, i);
}

static int db_sqlite_bind_real(sqlite3_stmt *stmt, int i, bool has, double v)
{
	return has ? sqlite3_bind_double(stmt, i, v) : sqlite3_bind_null(stmt, i);
}

int db_sqlite_record_bind(sqlite3_stmt *stmt, const struct anno_record *rec)
{
	/* any failure leaves a non-zero code; which one does not matter to the caller */
	int rc = db_sqlite_bind_text(stmt, 1, rec->id);
	rc |= db_sqlite_bind_text(stmt, 2, rec->manifest);
	rc |= db_sqlite_bind_text(stmt, 3, rec->target_file);
	rc |= sqlite3_bind_int(stmt, 4, rec->page);
	rc |= db_sqlite_bind_text(stmt, 5, rec->motivation);
	rc |= db_sqlite_bind_text(stmt, 6, rec->text);
	rc |= db_sqlite_bind_text(stmt, 7, rec->language);
	rc |= db_sqlite_bind_text(stmt, 8, rec->granularity);
	rc |= db_sqlite_bind_real(stmt, 9, rec->has_xywh, rec->x);
	rc |= db_sqlite_bind_real(stmt, 10, rec->has_xywh, rec->y);
	rc |= db_sqlite_bind_real(stmt, 11, rec->has_xywh, rec->w);
	rc |= db_sqlite_bind_real(stmt, 12, rec->has_xywh, rec->h);
	rc |= db_sqlite_bind_real(stmt, 13, rec->has_time, rec->start);
	rc |= db_sqlite_bind_real(stmt, 14, rec->has_time, rec->end);
	rc |= db_sqlite_bind_real(stmt, 15, rec->has_score, rec->score);
	rc |= db_sqlite_bind_text(stmt, 16, rec->creator);
	rc |= db_sqlite_bind_text(stmt, 17, rec->generator);
	rc |= db_sqlite_bind_text(stmt, 18, rec->source);
	rc |= db_sqlite_bind_text(stmt, 19, rec->created);
	rc |= sqlite3_bind_int64(stmt, 20, rec->seq);
	rc |= db_sqlite_bind_text(stmt, 21, rec->line_id);
	rc |= db_sqlite_bind_text(stmt, 22, rec->polygon);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Column i as a malloc'd string; NULL for SQL NULL, or with *oom set. */
static char *db_sqlite_column_str(sqlite3_stmt *stmt, int i, bool *oom)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return NULL;
	const unsigned char *text = sqlite3_column_text(stmt, i);
	char *s = text ? strdup((const char *)text) : NULL;
	*oom |= !s;
	return s;
}

int db_sqlite_record_read(sqlite3_stmt *stmt, struct anno_record *rec)
{
	bool oom = false;
	memset(rec, 0, sizeof *rec);
	rec->id = db_sqlite_column_str(stmt, 0, &oom);
	rec->manifest = db_sqlite_column_str(stmt, 1, &oom);
	rec->target_file = db_sqlite_column_str(stmt, 2, &oom);
	rec->page = sqlite3_column_int(stmt, 3);
	rec->motivation = db_sqlite_column_str(stmt, 4, &oom);
	rec->text = db_sqlite_column_str(stmt, 5, &oom);
	rec->language = db_sqlite_column_str(stmt, 6, &oom);
	rec->granularity = db_sqlite_column_str(stmt, 7, &oom);
	rec->has_xywh = sqlite3_column_type(stmt, 8) != SQLITE_NULL;
	rec->x = sqlite3_column_double(stmt, 8);
	rec->y = sqlite3_column_double(stmt, 9);
	rec->w = sqlite3_column_double(stmt, 10);
	rec->h = sqlite3_column_double(stmt, 11);
	rec->has_time = sqlite3_column_type(stmt, 12) != SQLITE_NULL;
	rec->start = sqlite3_column_double(stmt, 12);
	rec->end = sqlite3_column_double(stmt, 13);
	rec->has_score = sqlite3_column_type(stmt, 14) != SQLITE_NULL;
	rec->score = sqlite3_column_double(stmt, 14);
	rec->creator = db_sqlite_column_str(stmt, 15, &oom);
	rec->generator = db_sqlite_column_str(stmt, 16, &oom);
	rec->source = db_sqlite_column_str(stmt, 17, &oom);
	rec->created = db_sqlite_column_str(stmt, 18, &oom);
	rec->seq = sqlite3_column_int64(stmt, 19);
	rec->line_id = db_sqlite_column_str(stmt, 20, &oom);
	rec->polygon = db_sqlite_column_str(stmt, 21, &oom);
	return oom ? -1 : 0;
}

int db_sqlite_records_read(struct db_sqlite_conn *conn, sqlite3_stmt *stmt,
			   struct anno_list *out, struct iiifd_error *err)
{
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct anno_record *rec = anno_list_add(out);
		if (!rec || db_sqlite_record_read(stmt, rec))
			return iiifd_error_set(err, 500, "annotation store: out of memory");
	}
	return rc == SQLITE_DONE ? 0 : db_sqlite_fail(conn, "read", err);
}

static bool db_sqlite_source_is_current(struct db *db, const char *source,
					const char *fingerprint)
{
	struct iiifd_error err;
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, &err);
	sqlite3_stmt *stmt = conn ? db_sqlite_stmt(conn, DB_SQLITE_FINGERPRINT_GET, &err) : NULL;
	bool current = false;
	if (stmt && db_sqlite_bind_text(stmt, 1, source) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const unsigned char *have = sqlite3_column_text(stmt, 0);
		current = have && strcmp((const char *)have, fingerprint) == 0;
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return current;
}

static int db_sqlite_source_set_fingerprint(struct db *db, const char *source,
					    const char *fingerprint, struct iiifd_error *err)
{
	struct db_sqlite_conn *conn = db_sqlite_acquire(db, err);
	if (!conn)
		return -1;
	sqlite3_stmt *stmt = db_sqlite_stmt(conn, DB_SQLITE_FINGERPRINT_SET, err);
	int rc = stmt ? 0 : -1;
	if (stmt) {
		db_sqlite_bind_text(stmt, 1, source);
		db_sqlite_bind_text(stmt, 2, fingerprint);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			rc = db_sqlite_fail(conn, "fingerprint", err);
	}
	db_sqlite_done(stmt);
	db_sqlite_release(db, conn);
	return rc;
}

static int db_sqlite_user_version(struct db_sqlite_conn *conn, int *version,
				  struct iiifd_error *err)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(conn->handle, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return db_sqlite_fail(conn, "user_version", err);
	int rc = sqlite3_step(stmt) == SQLITE_ROW ? 0 : db_sqlite_fail(conn, "user_version", err);
	*version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return rc;
}

/* Brings the schema up to date in one transaction, so a half-migrated store cannot exist. */
static int db_sqlite_migrate(struct db_sqlite_conn *conn, const char *path,
			     struct iiifd_error *err)
{
	const int latest = (int)(sizeof db_sqlite_migrations / sizeof db_sqlite_migrations[0]);
	int version = 0;
	/* WAL: readers never block the writer nor each other; the mode is stored in the file */
	if (db_sqlite_exec_setup(conn->handle, "PRAGMA journal_mode = WAL") != SQLITE_OK)
		return iiifd_error_set(err, 500, "%s: %s", path, sqlite3_errmsg(conn->handle));
	if (db_sqlite_run(conn, DB_SQLITE_BEGIN_WRITE, err))
		return -1;
	int rc = db_sqlite_user_version(conn, &version, err);
	if (!rc && version > latest)
		rc = iiifd_error_set(err, 500, "%s: schema version %d is newer than this iiifd's"
					    " %d", path, version, latest);
	for (int v = version; !rc && v < latest; v++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		const char *sql = db_sqlite_migrations[v];
		if (sqlite3_exec(conn->handle, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(conn->handle, pragma, NULL, NULL, NULL) != SQLITE_OK)
			rc = iiifd_error_set(err, 500, "%s: migration to version %d: %s", path,
					     v + 1, sqlite3_errmsg(conn->handle));
		else if (v + 1 == DB_SQLITE_FORMS_VERSION && version > 0)
			rc = db_sqlite_terms_rebuild(conn, err);
	}
	if (!rc)
		return db_sqlite_run(conn, DB_SQLITE_COMMIT, err);
	struct iiifd_error ignored;
	db_sqlite_run(conn, DB_SQLITE_ROLLBACK, &ignored);
	return -1;
}

static void db_sqlite_close(struct db *db)
{
	struct db_sqlite *s = db_sqlite_of(db);
	while (s->idle) {
		struct db_sqlite_conn *next = s->idle->next;
		db_sqlite_conn_close(s->idle);
		s->idle = next;
	}
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->write_lock);
	free(s->path);
	free(s);
}

/*
 * Before SQLite initialises: no memory statistics. Keeping them takes a global mutex on every
 * allocation, which costs imports ~5% and serialises readers; iiifd never asks for them.
 */
static void db_sqlite_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int db_sqlite_open(const char *location, struct db **out, struct iiifd_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, db_sqlite_configure);
	/* every pooled connection must see the same database: a file, not ":memory:" */
	if (strcmp(location, ":memory:") == 0 || strncmp(location, "file:", 5) == 0)
		return iiifd_error_set(err, 500, "%s: the annotation store needs a file path",
				       location);
	struct db_sqlite *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(location))) {
		free(s);
		return iiifd_error_set(err, 500, "%s: out of memory", location);
	}
	s->base.ops = &db_sqlite_ops;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	struct db_sqlite_conn *conn = db_sqlite_conn_open(location, err);
	if (!conn || db_sqlite_migrate(conn, location, err)) {
		db_sqlite_conn_close(conn);
		db_sqlite_close(&s->base);
		return -1;
	}
	db_sqlite_release(&s->base, conn);
	*out = &s->base;
	return 0;
}

/* SQLite takes every location other backends did not claim: it is a file path. */
static bool db_sqlite_accepts(const char *location)
{
	return strstr(location, "://") == NULL;
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.accepts = db_sqlite_accepts,
	.open = db_sqlite_open,
	.close = db_sqlite_close,
	.import_begin = db_sqlite_write_import_begin,
	.import_add = db_sqlite_write_import_add,
	.import_end = db_sqlite_write_import_end,
	.source_is_current = db_sqlite_source_is_current,
	.source_set_fingerprint = db_sqlite_source_set_fingerprint,
	.insert = db_sqlite_write_insert,
	.get = db_sqlite_read_get,
	.update = db_sqlite_write_update,
	.delete = db_sqlite_write_delete,
	.list_target = db_sqlite_read_list_target,
	.list_target_after = db_sqlite_read_list_target_after,
	.cursor_back = db_sqlite_read_cursor_back,
	.count_target = db_sqlite_read_count_target,
	.target_motivations = db_sqlite_read_motivations,
	.sources_below = db_sqlite_read_sources,
	.search = db_sqlite_read_search,
	.search_count = db_sqlite_read_search_count,
	.line_words = db_sqlite_read_line_words,
	.autocomplete = db_sqlite_read_autocomplete,
	.activity_append = db_sqlite_activity_append,
	.activity_states = db_sqlite_activity_states,
	.activity_count = db_sqlite_activity_count,
	.activity_range = db_sqlite_activity_range,
	.activity_mark = db_sqlite_activity_mark,
	.auth_revoke = db_sqlite_auth_revoke,
	.auth_is_revoked = db_sqlite_auth_is_revoked,
};
