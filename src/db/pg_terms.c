/*
 * pg_terms.c: the autocomplete counts of an import, kept in memory while its records' tokens
 * are made and added to terms and term_forms in two statements at its end (arrays unnested),
 * in place of re-reading every token of the source through a join (once most of an import's
 * time).
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Neither terms nor forms contain it (both are letters and digits): it separates key fields. */
#define DB_PG_KEY_SEP '\x01'

void db_pg_term_counts_init(struct db_pg_term_counts *c)
{
	c->terms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->forms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void db_pg_term_counts_release(struct db_pg_term_counts *c)
{
	if (c->terms)
		g_hash_table_destroy(c->terms);
	if (c->forms)
		g_hash_table_destroy(c->forms);
	memset(c, 0, sizeof *c);
}

/* Adds one to key's count (the value is the count itself, stored as a pointer-sized int). */
static void db_pg_count_one(GHashTable *table, GString *key)
{
	gpointer old = NULL;
	if (g_hash_table_lookup_extended(table, key->str, NULL, &old))
		g_hash_table_insert(table, g_strdup(key->str),
				    GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
	else
		g_hash_table_insert(table, g_strdup(key->str), GSIZE_TO_POINTER(1));
}

void db_pg_term_counts_add(struct db_pg_term_counts *c, const char *term, size_t len,
			   const char *form, size_t form_len, const char *manifest)
{
	GString *key = g_string_sized_new(len + 64);
	g_string_append_len(key, term, (gssize)len);
	g_string_append_c(key, DB_PG_KEY_SEP);
	g_string_append(key, manifest ? manifest : "");
	db_pg_count_one(c->terms, key);
	if (form) {
		g_string_truncate(key, len + 1);
		g_string_append_len(key, form, (gssize)form_len);
		g_string_append_c(key, DB_PG_KEY_SEP);
		g_string_append(key, manifest ? manifest : "");
		db_pg_count_one(c->forms, key);
	}
	g_string_free(key, TRUE);
}

/* Appends s as an element of a PostgreSQL array literal ("..." with \ and " escaped). */
static void db_pg_array_add(GString *array, const char *s, size_t len)
{
	if (array->len > 1) /* past the opening brace */
		g_string_append_c(array, ',');
	g_string_append_c(array, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			g_string_append_c(array, '\\');
		g_string_append_c(array, s[i]);
	}
	g_string_append_c(array, '"');
}

static gint db_pg_key_order(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Runs sql with one array parameter per key field ($1, $2[, $3]) and the counts (last), over
 * table's keys of nfields fields in key order (two imports updating the same rows lock them in
 * the same order: no deadlock).
 */
static int db_pg_counts_send(struct db_pg_conn *conn, GHashTable *table, int nfields,
			     enum db_pg_stmt which, struct iiifd_error *err)
{
	if (!g_hash_table_size(table))
		return 0;
	guint n = 0;
	gpointer *keys = g_hash_table_get_keys_as_array(table, &n);
	qsort(keys, n, sizeof *keys, (int (*)(const void *, const void *))db_pg_key_order);
	GString *arrays[4];
	for (int f = 0; f <= nfields; f++)
		arrays[f] = g_string_new("{");
	for (guint i = 0; i < n; i++) {
		const char *field = keys[i];
		for (int f = 0; f < nfields; f++) {
			const char *end = f < nfields - 1 ? strchr(field, DB_PG_KEY_SEP) : NULL;
			size_t len = end ? (size_t)(end - field) : strlen(field);
			db_pg_array_add(arrays[f], field, len);
			field += len + 1;
		}
		char count[24];
		snprintf(count, sizeof count, "%zu",
			 GPOINTER_TO_SIZE(g_hash_table_lookup(table, keys[i])));
		db_pg_array_add(arrays[nfields], count, strlen(count));
	}
	const char *params[4];
	for (int f = 0; f <= nfields; f++)
		params[f] = g_string_append_c(arrays[f], '}')->str;
	int rc = db_pg_run(conn, which, nfields + 1, params, err);
	for (int f = 0; f <= nfields; f++)
		g_string_free(arrays[f], TRUE);
	g_free(keys);
	return rc;
}

int db_pg_term_counts_store(struct db_pg_conn *conn, const struct db_pg_term_counts *c,
			    struct iiifd_error *err)
{
	if (db_pg_counts_send(conn, c->terms, 2, DB_PG_TERMS_ADD, err))
		return -1;
	/* forms' keys are term, form, manifest: the statement takes them in that order */
	return db_pg_counts_send(conn, c->forms, 3, DB_PG_FORMS_ADD, err);
}
