/*
 * where.h: the WHERE clause of a search or an autocomplete, built once for both backends (private
 * to src/db): the same scope, access-control exclusions and filters, with their values as text
 * parameters in order, written "?" (SQLite) or "$N" (PostgreSQL). Only the text match itself
 * (FTS5 or the tokens table) is the backends' own.
 */
#ifndef IIIFD_DB_WHERE_H
#define IIIFD_DB_WHERE_H

#include <glib.h>
#include <stdbool.h>

#include "db/db.h"

/* A WHERE clause being built, with the values of its parameters, in order. */
struct db_where {
	GString *sql;
	GPtrArray *args; /* g_free'd strings (NULL = SQL NULL) */
	bool numbered;   /* parameters are "$1", "$2"... (PostgreSQL), else "?" */
};

/* Starts w with the SQL text start; db_where_release() frees what it holds. */
void db_where_init(struct db_where *w, const char *start, bool numbered);
void db_where_release(struct db_where *w);

/* Adds owned (taken, may be NULL) as the next parameter and appends its placeholder. */
void db_where_arg(struct db_where *w, char *owned);

/*
 * " AND ..." for q's scope (a Manifest; or a folder: the Manifest named like it and every one
 * below) and q->exclude. manifest is the column expression compared (SQLite's "+manifest"
 * keeps an index off it). q may be NULL (no scope).
 */
void db_where_scope(struct db_where *w, const struct db_query *q, const char *manifest);

/*
 * The conditions of a search but its text: searchable records only (no words, no
 * georeferencing), scope and exclusions, motivations, creators, date ranges, score.
 */
void db_where_filters(struct db_where *w, const struct db_query *q, const char *manifest);

/*
 * Where a numbered page of search results starts when it follows a given record (keyset
 * paging in result order): that record's manifest, target_file, page, seq and rowid, as text.
 */
struct db_where_key {
	char *v[5]; /* g_free'd */
};
void db_where_key_release(struct db_where_key *key);

/* " AND (manifest, target_file, page, seq, rowid) > (key)": the records after key's. */
void db_where_after(struct db_where *w, const struct db_where_key *key);

/* Whether q has no condition but its text (and paging): no scope, exclusion or filter. */
bool db_where_text_only(const struct db_query *q);

#endif
