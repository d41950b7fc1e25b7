/*
 * activity.h: the Change Discovery log in the store: an append-only list of activities and, per
 * Collection or Manifest, the last state iiifd observed of it. Backends implement the five
 * activity_* ops of struct db_ops (backend.h); these wrappers are what callers use.
 * Every function is safe to call from any thread concurrently.
 */
#ifndef IIIFD_DB_ACTIVITY_H
#define IIIFD_DB_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct db;

/* One activity of the stream. Strings are owned by whoever holds the struct. */
struct db_activity {
	int64_t index;     /* position in the stream from 0; assigned by db_activity_append */
	char *type;        /* "Create", "Update", "Delete", "Move" or "Refresh" */
	char *object_type; /* "Manifest" or "Collection"; NULL for Refresh */
	char *path;        /* below the root ("" = root); NULL for Refresh */
	char *target_path; /* Move: the new path; else NULL */
	char *label;       /* the resource's label when recorded; may be NULL */
	int version;       /* Presentation API variant described (3 or 2); 0 for Refresh */
	char *start_time;  /* "YYYY-MM-DDThh:mm:ss.sssZ" or NULL */
	char *end_time;    /* same form; NULL for Refresh */
};

/* What iiifd last observed of one resource. */
struct db_resource_state {
	char *path;        /* below the root, the key */
	char *type;        /* "Manifest" or "Collection" */
	char *fingerprint; /* of everything its document shows (files, sidecars, labels) */
	char *content;     /* of its content alone, without its own path (finds moves) */
	char *label;
	int64_t mark;      /* bumped by db_activity_mark (write-API edits) */
	int64_t mark_seen; /* the mark that fingerprint includes */
};

/* One atomic change of the log: all of it is stored, or none. Nothing is owned. */
struct db_activity_batch {
	const struct db_activity *activities; /* appended in this order (index ignored) */
	size_t activity_count;
	const struct db_resource_state *states; /* inserted or replaced by path */
	size_t state_count;
	const char *const *gone; /* paths whose state is removed */
	size_t gone_count;
};

/* Whether db's backend keeps an activity log (implements the activity_* ops). */
bool db_activity_supported(const struct db *db);

/* Appends activities and updates states in one transaction. */
int db_activity_append(struct db *db, const struct db_activity_batch *batch,
		       struct iiifd_error *err);

/* Calls fn for every stored state (valid during the call); stops at fn's non-zero return. */
int db_activity_states(struct db *db, int (*fn)(const struct db_resource_state *s, void *ctx),
		       void *ctx, struct iiifd_error *err);

/* The number of activities in the stream. */
int db_activity_count(struct db *db, int64_t *count, struct iiifd_error *err);

/*
 * The activities of index first .. first + n - 1 (fewer at the end), in index order: a malloc'd
 * array in *out (release with db_activity_list_free) of *count items.
 */
int db_activity_range(struct db *db, int64_t first, int64_t n, struct db_activity **out,
		      size_t *count, struct iiifd_error *err);
void db_activity_list_free(struct db_activity *items, size_t count);
/* (Every function above and below answers 501 when !db_activity_supported(db).) */

/*
 * Records that the resource at path changed in a way its files do not show (a write-API edit):
 * the next scan reports an Update. A path iiifd has not observed yet is ignored (its Create
 * will come).
 */
int db_activity_mark(struct db *db, const char *path, struct iiifd_error *err);

#endif
