/*
 * db.h: the annotation store: annotations, their full-text index and autocomplete terms. Callers
 * see only this interface; the backend (SQLite today, PostgreSQL later) is chosen by db_open().
 * Every function is safe to call from any request thread concurrently.
 */
#ifndef IIIFD_DB_DB_H
#define IIIFD_DB_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "annotation/record.h"
#include "core/error.h"

struct db;

/*
 * Opens (creating, migrating) the store at location: a file path for SQLite (WAL mode), or a
 * postgresql:// URI (libpq syntax) for PostgreSQL. Errors are 500 (503 when a PostgreSQL
 * server cannot be reached) with a reason naming the path.
 */
int db_open(const char *location, struct db **out, struct iiifd_error *err);
void db_close(struct db *db);

/*
 * Where the store of a configuration is (g_free): database when set (a postgresql:// URI),
 * else data_dir's annotations.sqlite, whose folder is made. NULL with err set when it cannot be.
 */
char *db_location(const char *database, const char *data_dir, struct iiifd_error *err);

/*
 * Replaces every record imported from source with the records of list, atomically (one
 * transaction: either all of the new ones are stored, or the old ones are untouched). Sets each
 * record's id and created; words' line_id refer to ids of line records of the same list by
 * list index encoded as "#N" before the call (see record.h) and are rewritten to real ids.
 */
int db_replace_source(struct db *db, const char *source, struct anno_list *list,
		      struct iiifd_error *err);

/*
 * The same, streamed: db_import_begin() opens the write transaction (other writers wait until
 * db_import_end()) and removes source's records in it; db_import_add() stores a batch ("#N"
 * line references index that batch; ids and created are set); db_import_end() commits
 * (ok true) together with the source's fingerprint (NULL: unchanged), so records and
 * fingerprint are stored together or not at all, or rolls everything back, and frees imp.
 */
struct db_import;
int db_import_begin(struct db *db, const char *source, struct db_import **out,
		    struct iiifd_error *err);
int db_import_add(struct db_import *imp, struct anno_list *batch, struct iiifd_error *err);
int db_import_end(struct db_import *imp, bool ok, const char *fingerprint,
		  struct iiifd_error *err);

/* Whether source was imported with this fingerprint (e.g. "mtime|size"), to skip re-imports. */
bool db_source_is_current(struct db *db, const char *source, const char *fingerprint);
int db_source_set_fingerprint(struct db *db, const char *source, const char *fingerprint,
			      struct iiifd_error *err);

/*
 * The imported sources whose path lies below folder ("" = all), for finding ones whose file
 * is gone. Caller frees each string and the array.
 */
int db_sources_below(struct db *db, const char *folder, char ***out, size_t *count,
		     struct iiifd_error *err);

/* Single records (write API). get/update/delete: 404 for an unknown id. */
int db_insert(struct db *db, struct anno_record *rec, struct iiifd_error *err);
int db_get(struct db *db, const char *id, struct anno_record *out, struct iiifd_error *err);
int db_update(struct db *db, const struct anno_record *rec, struct iiifd_error *err);
int db_delete(struct db *db, const char *id, struct iiifd_error *err);

/* Records on one Canvas (file + page), in (seq, id) order; motivation NULL = every motivation. */
int db_list_target(struct db *db, const char *target_file, int page, const char *motivation,
		   struct anno_list *out, struct iiifd_error *err);

/* A position in a Canvas's records, which are ordered by (seq, rowid); { 0, 0 } is the start. */
struct db_cursor {
	int64_t seq, rowid;
};

/*
 * A Canvas's records are listed in pages: one per motivation, except that OCR words (records of
 * motivation supplementing and granularity word) have a page of their own, named DB_PAGE_WORDS,
 * so each line of text shows once. The functions below take such a page name.
 */
#define DB_PAGE_WORDS "words"

/*
 * Keyset paging through one Canvas's records of one page: appends up to limit records
 * after *cursor to out and moves *cursor to the last one. Each call is one short query, so a
 * caller may stream millions of records a batch at a time without holding a connection.
 */
int db_list_target_after(struct db *db, const char *target_file, int page,
			 const char *motivation, struct db_cursor *cursor, int64_t limit,
			 struct anno_list *out, struct iiifd_error *err);

/*
 * Counting from (and including) *from backwards, the record n places before it, in *out with
 * *found set; *found false when there are not that many (the page before is the first).
 */
int db_cursor_back(struct db *db, const char *target_file, int page, const char *motivation,
		   const struct db_cursor *from, int64_t n, struct db_cursor *out, bool *found,
		   struct iiifd_error *err);

/* How many records one page of one Canvas has. */
int db_count_target(struct db *db, const char *target_file, int page, const char *motivation,
		    int64_t *count, struct iiifd_error *err);

/* The pages one Canvas has, by name (malloc'd array of malloc'd strings), in name order. */
int db_target_motivations(struct db *db, const char *target_file, int page, char ***out,
			  size_t *count, struct iiifd_error *err);

struct db_query {
	const char *scope;          /* manifest path, or folder path of a Collection; "" = all */
	bool scope_is_folder;       /* scope names a folder: every manifest below it */
	const char *q;              /* words and "quoted phrases" (all must match); NULL = none */
	const char *const *motivations; /* NULL-terminated, any of; NULL = any */
	const char *const *users;   /* creators, any of; NULL = any */
	const char *const *dates;   /* "start/end" ISO ranges on created, any of; NULL = any */
	int64_t offset, limit;
	/*
	 * Keyset paging (offset unused): the records after record key `after` (0 = from the first)
	 * in stored order, not in (manifest, target, seq) order; nothing is counted (*total is -1)
	 * and *next_after (when not NULL) receives the key of the page's last record, 0 if none.
	 */
	bool keyset;
	int64_t after;
	int64_t *next_after;
	/* records scored score_min..score_max (inclusive) only; unscored ones are left out */
	bool has_score;
	double score_min, score_max;
	/*
	 * Manifests or folders whose records are left out (with every Manifest below them): those
	 * the request may not see (auth/scan.h); "" leaves out everything. NULL-terminated; NULL =
	 * none.
	 */
	const char *const *exclude;
	/*
	 * Not NULL: the number of records q matches, as counted before in the same state of the
	 * store (a cache); db_search() gives it as *total instead of counting again.
	 */
	const int64_t *known_total;
	/*
	 * Numbered pages (not keyset): page_after > 0 starts the page just after the record with
	 * this key, in result order, instead of at offset (so a page far in costs what the first
	 * does); when that record is gone or has no Manifest, offset is used. *page_last (when
	 * not NULL) receives the key of the page's last record, 0 if none.
	 */
	int64_t page_after;
	int64_t *page_last;
};

/*
 * Reads a score range parameter: "MIN" (up to 1) or "MIN/MAX", numbers from 0 to 1. Returns 0,
 * or -1 with a 400 error naming param.
 */
int db_score_range_parse(const char *param, const char *text, struct db_query *q,
			 struct iiifd_error *err);

/*
 * Searches records that are not word-level (lines, cues, tags, comments...) nor georeferencing
 * (its text is JSON: see annotation/georef.h) whose text matches
 * every term and phrase of q, folded for case and diacritics, in (manifest, target, seq) order.
 * Fills out with one page (offset, limit) and *total with the number of matches.
 */
int db_search(struct db *db, const struct db_query *q, struct anno_list *out, int64_t *total,
	      struct iiifd_error *err);

/* The number of records db_search() would find for q (its paging ignored). */
int db_search_count(struct db *db, const struct db_query *q, int64_t *total,
		    struct iiifd_error *err);

/* The word records of one line record, in reading order. */
int db_line_words(struct db *db, const char *line_id, struct anno_list *out,
		  struct iiifd_error *err);

struct db_term {
	char *term;   /* folded (lower case, no diacritics) */
	char *label;  /* the term's most frequent original form when folding changed more than the
			 case ("Été" for "ete"), else NULL */
	int64_t count;
};

struct db_terms {
	struct db_term *items; /* owned */
	size_t count;
};

/* Terms starting with prefix (folded) within scope, alphabetical, with counts >= min. */
int db_autocomplete(struct db *db, const struct db_query *scope, const char *prefix,
		    int64_t min, int64_t limit, struct db_terms *out, struct iiifd_error *err);
void db_terms_release(struct db_terms *terms);

/*
 * A string that changes with every write committed to a shared store (PostgreSQL), read from
 * the store; NULL (nothing to free) when the store is a local file whose stat tells the same.
 */
char *db_stamp(struct db *db);
/* Whether db is a shared store (a server several iiifd nodes use), not a local file. */
bool db_is_shared(const struct db *db);

/*
 * Shared stores only: a cluster-wide lock on importing source, held until db_source_unlock()
 * (another node importing it makes this wait). *lock is NULL for a local store.
 */
int db_source_lock(struct db *db, const char *source, void **lock, struct iiifd_error *err);
void db_source_unlock(struct db *db, void *lock);

/*
 * Shared stores only: claims a piece of work (key: any string) for this node unless another
 * node holds it: 1 with *lock set (give it back with db_source_unlock()), 0 when another node
 * holds it, -1 with err set (also for a local store). A node that dies releases its claims.
 */
int db_claim(struct db *db, const char *key, void **lock, struct iiifd_error *err);

/* Bounds the connections a shared store opens from now on (the database-pool setting). */
void db_pool_limit(struct db *db, int max);
/* After a bulk import: the store's statistics brought up to date (a no-op for SQLite). */
int db_after_bulk_load(struct db *db, struct iiifd_error *err);

/* Case and diacritic folding used for terms (malloc'd; NULL on invalid UTF-8). */
char *db_fold(const char *text);

/*
 * The revocation list of access control (auth/state.h): logout on one node ends the session on
 * every node that shares the store. sid: a session id (hex, at most 64 characters).
 */
int db_auth_revoke(struct db *db, const char *sid, int64_t expires, struct iiifd_error *err);
int db_auth_is_revoked(struct db *db, const char *sid, int64_t now, bool *revoked,
		       struct iiifd_error *err);

#endif
