/*
 * backend.h: what a storage backend provides to db.c (private to src/db). db.c validates input,
 * assigns ids, then calls the backend through struct db_ops; backends trust what they receive.
 */
#ifndef IIIFD_DB_BACKEND_H
#define IIIFD_DB_BACKEND_H

#include <stddef.h>

#include "db/activity.h"
#include "db/db.h"

struct db_query_parts;

/* Every backend's handle starts with this, so db.c can reach the ops table. */
struct db {
	const struct db_ops *ops;
};

struct db_ops {
	const char *name;
	/* Whether location names a store of this backend (e.g. a "postgres://" URI). */
	bool (*accepts)(const char *location);
	int (*open)(const char *location, struct db **out, struct iiifd_error *err);
	void (*close)(struct db *db);
	/* A streamed import (see db_import_begin): the backend's state, NULL on error. */
	void *(*import_begin)(struct db *db, const char *source, struct iiifd_error *err);
	int (*import_add)(void *imp, const struct anno_list *batch, struct iiifd_error *err);
	/* Commits when rc is 0 (with fingerprint unless NULL), else rolls back; frees imp. */
	int (*import_end)(void *imp, int rc, const char *fingerprint, struct iiifd_error *err);
	bool (*source_is_current)(struct db *db, const char *source, const char *fingerprint);
	int (*source_set_fingerprint)(struct db *db, const char *source, const char *fingerprint,
				      struct iiifd_error *err);
	int (*insert)(struct db *db, struct anno_record *rec, struct iiifd_error *err);
	int (*get)(struct db *db, const char *id, struct anno_record *out, struct iiifd_error *err);
	int (*update)(struct db *db, const struct anno_record *rec, struct iiifd_error *err);
	int (*delete)(struct db *db, const char *id, struct iiifd_error *err);
	int (*list_target)(struct db *db, const char *target_file, int page, const char *motivation,
			   struct anno_list *out, struct iiifd_error *err);
	int (*list_target_after)(struct db *db, const char *target_file, int page,
				 const char *motivation, struct db_cursor *cursor, int64_t limit,
				 struct anno_list *out, struct iiifd_error *err);
	int (*cursor_back)(struct db *db, const char *target_file, int page, const char *motivation,
			   const struct db_cursor *from, int64_t n, struct db_cursor *out,
			   bool *found, struct iiifd_error *err);
	int (*count_target)(struct db *db, const char *target_file, int page, const char *motivation,
			    int64_t *count, struct iiifd_error *err);
	int (*sources_below)(struct db *db, const char *folder, char ***out, size_t *count,
			     struct iiifd_error *err);
	int (*target_motivations)(struct db *db, const char *target_file, int page, char ***out,
				  size_t *count, struct iiifd_error *err);
	/* parts is q->q parsed by db_query_parse (see below); dates and paging are valid. */
	int (*search)(struct db *db, const struct db_query *q,
		      const struct db_query_parts *parts, struct anno_list *out, int64_t *total,
		      struct iiifd_error *err);
	int (*search_count)(struct db *db, const struct db_query *q,
			    const struct db_query_parts *parts, int64_t *total,
			    struct iiifd_error *err);
	int (*line_words)(struct db *db, const char *line_id, struct anno_list *out,
			  struct iiifd_error *err);
	/* prefix is already folded. */
	int (*autocomplete)(struct db *db, const struct db_query *scope, const char *prefix,
			    int64_t min, int64_t limit, struct db_terms *out,
			    struct iiifd_error *err);
	/*
	 * Change Discovery (db/activity.h, which documents each): the log is append-only, with
	 * activity index 0, 1, 2... without gaps; activity_append stores the batch's activities,
	 * states and removals in one transaction, assigning indexes in the batch's order.
	 * activity_mark does "mark = mark + 1" on an existing state only.
	 */
	int (*activity_append)(struct db *db, const struct db_activity_batch *batch,
			       struct iiifd_error *err);
	int (*activity_states)(struct db *db,
			       int (*fn)(const struct db_resource_state *s, void *ctx), void *ctx,
			       struct iiifd_error *err);
	int (*activity_count)(struct db *db, int64_t *count, struct iiifd_error *err);
	int (*activity_range)(struct db *db, int64_t first, int64_t n, struct db_activity **out,
			      size_t *count, struct iiifd_error *err);
	int (*activity_mark)(struct db *db, const char *path, struct iiifd_error *err);
	/* Access control (auth/): sid revoked until expires (unix seconds), expired rows dropped. */
	int (*auth_revoke)(struct db *db, const char *sid, int64_t expires, struct iiifd_error *err);
	/* Whether sid is revoked and not yet expired at now. */
	int (*auth_is_revoked)(struct db *db, const char *sid, int64_t now, bool *revoked,
			       struct iiifd_error *err);
	/*
	 * Optional (NULL: the store is a local file, see page_cache.c): a string that changes with
	 * every committed write, on any node. Caller frees *out.
	 */
	int (*stamp)(struct db *db, char **out, struct iiifd_error *err);
	/*
	 * Optional (NULL: one process, nothing to share): a cluster-wide lock on importing source,
	 * waiting while another node holds it; *lock is given back to source_unlock.
	 */
	int (*source_lock)(struct db *db, const char *source, void **lock, struct iiifd_error *err);
	void (*source_unlock)(struct db *db, void *lock);
	/*
	 * Optional (NULL: one process): claims key cluster-wide unless another node holds it (1 and
	 * *lock set, given back to source_unlock; 0 when held elsewhere), released if the node dies.
	 */
	int (*claim)(struct db *db, const char *key, void **lock, struct iiifd_error *err);
	/* Optional: the most connections the store may open from now on (at least 1). */
	void (*pool_limit)(struct db *db, int max);
	/*
	 * Optional: after a bulk import (iiifd import), brings the store's statistics and
	 * visibility information up to date (PostgreSQL: VACUUM ANALYZE), so searches are planned
	 * for what is there and index-only scans need no table reads.
	 */
	int (*after_bulk_load)(struct db *db, struct iiifd_error *err);
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* Longest term (bytes, folded) kept in the terms table; longer tokens are noise (URLs, hashes). */
#define DB_TERM_MAX 64

/*
 * One term of a text: term (folded, len bytes) and, when folding changed more than the letter case
 * (diacritics removed, ligatures expanded: "Été" -> "ete", not "Ship" -> "ship"), form: the word
 * of the original text it came from, as written (NFC, form_len bytes); else form is NULL. Neither
 * is NUL-terminated; both are valid during the call only.
 */
typedef int (*db_term_fn)(const char *term, size_t len, const char *form, size_t form_len,
			  void *ctx);

/*
 * Calls fn for each term of text, folded as db_fold() does and split on characters that are not
 * letters or digits (a combining mark belongs to its word). Terms longer than DB_TERM_MAX are
 * skipped. Returns 0, fn's first non-zero return, or -1 when text is not valid UTF-8 (or out of
 * memory).
 */
int db_fold_terms(const char *text, db_term_fn fn, void *ctx);

/* One element of a parsed q: a single word or a "quoted phrase" (text without the quotes). */
struct db_query_part {
	char *text; /* owned */
};

struct db_query_parts {
	struct db_query_part *items; /* owned */
	size_t count;
	/* q had something to search for, but no part has a letter or digit: nothing can match. */
	bool unmatchable;
};

/* Splits q into words and "quoted phrases" (an unclosed quote runs to the end). */
int db_query_parse(const char *q, struct db_query_parts *out, struct iiifd_error *err);
void db_query_parts_release(struct db_query_parts *parts);

/* "YYYY-MM-DDThh:mm:ssZ" with plausible field values (the form created is stored in). */
bool db_is_timestamp(const char *s, size_t len);

/* The current UTC time as "YYYY-MM-DDThh:mm:ssZ" (buf of at least 21 bytes). */
void db_now(char *buf, size_t n);

/* Whether the record has a word granularity (such records are not indexed for search). */
bool db_is_word(const struct anno_record *rec);

#endif
