/*
 * where.c: one builder of search and autocomplete conditions for SQLite and PostgreSQL (see
 * where.h). The SQL written is accepted by both: "IS DISTINCT FROM", "false", CAST(... AS
 * DOUBLE PRECISION) (a REAL in SQLite).
 */
#include "db/where.h"

#include <string.h>

void db_where_init(struct db_where *w, const char *start, bool numbered)
{
	w->sql = g_string_new(start);
	w->args = g_ptr_array_new_with_free_func(g_free);
	w->numbered = numbered;
}

void db_where_release(struct db_where *w)
{
	if (w->sql)
		g_string_free(w->sql, TRUE);
	if (w->args)
		g_ptr_array_unref(w->args);
	w->sql = NULL;
	w->args = NULL;
}

void db_where_arg(struct db_where *w, char *owned)
{
	g_ptr_array_add(w->args, owned);
	if (w->numbered)
		g_string_append_printf(w->sql, "$%u", w->args->len);
	else
		g_string_append_c(w->sql, '?');
}

/*
 * " AND (col = x OR (col >= x/ AND col < x0))": x and every path below it. "Below" is a range,
 * not LIKE: LIKE ignores ASCII case and needs escaping; the range is exact, byte-wise, and uses
 * the index. Every string starting with "a/" lies in ["a/", "a0"), since '0' follows '/'; so
 * "a" never matches "ab/x" nor "a.b". Takes x.
 */
static void db_where_tree(struct db_where *w, const char *col, char *x)
{
	g_string_append_printf(w->sql, "%s = ", col);
	char *below = g_strconcat(x, "/", NULL), *past = g_strconcat(x, "0", NULL);
	db_where_arg(w, x);
	g_string_append_printf(w->sql, " OR (%s >= ", col);
	db_where_arg(w, below);
	g_string_append_printf(w->sql, " AND %s < ", col);
	db_where_arg(w, past);
	g_string_append(w->sql, ")");
}

/* Leaves out q->exclude's Manifests and folders (access control), each like a folder scope. */
static void db_where_exclude(struct db_where *w, const struct db_query *q, const char *col)
{
	for (const char *const *x = q ? q->exclude : NULL; x && *x; x++) {
		if (!**x) {
			g_string_append(w->sql, " AND false");
			continue;
		}
		g_string_append(w->sql, " AND NOT (");
		db_where_tree(w, col, g_strdup(*x));
		g_string_append(w->sql, ")");
	}
}

void db_where_scope(struct db_where *w, const struct db_query *q, const char *manifest)
{
	const char *scope = q && q->scope ? q->scope : "";
	size_t len = strlen(scope);
	while (len && scope[len - 1] == '/')
		len--;
	if (len && q->scope_is_folder) {
		g_string_append(w->sql, " AND (");
		db_where_tree(w, manifest, g_strndup(scope, len));
		g_string_append(w->sql, ")");
	} else if (len) {
		g_string_append_printf(w->sql, " AND %s = ", manifest);
		db_where_arg(w, g_strndup(scope, len));
	}
	db_where_exclude(w, q, manifest);
}

static void db_where_in(struct db_where *w, const char *column, const char *const *values)
{
	if (!values || !*values)
		return;
	g_string_append_printf(w->sql, " AND %s IN (", column);
	for (const char *const *v = values; *v; v++) {
		g_string_append(w->sql, v == values ? "" : ", ");
		db_where_arg(w, g_strdup(*v));
	}
	g_string_append(w->sql, ")");
}

/* Ranges were checked by db.c: "start/end", 20 characters each side. */
static void db_where_dates(struct db_where *w, const char *const *ranges)
{
	if (!ranges || !*ranges)
		return;
	g_string_append(w->sql, " AND (");
	for (const char *const *r = ranges; *r; r++) {
		g_string_append(w->sql, r == ranges ? "created BETWEEN " : " OR created BETWEEN ");
		db_where_arg(w, g_strndup(*r, 20));
		g_string_append(w->sql, " AND ");
		db_where_arg(w, g_strdup(strchr(*r, '/') + 1));
	}
	g_string_append(w->sql, ")");
}

static void db_where_score(struct db_where *w, const struct db_query *q)
{
	if (!q->has_score)
		return;
	char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
	g_string_append(w->sql, " AND score BETWEEN CAST(");
	db_where_arg(w, g_strdup(g_ascii_dtostr(lo, sizeof lo, q->score_min)));
	g_string_append(w->sql, " AS DOUBLE PRECISION) AND CAST(");
	db_where_arg(w, g_strdup(g_ascii_dtostr(hi, sizeof hi, q->score_max)));
	g_string_append(w->sql, " AS DOUBLE PRECISION)");
}

void db_where_filters(struct db_where *w, const struct db_query *q, const char *manifest)
{
	/* Georeference Annotations are not text: served on their Canvas, listed from the Manifest */
	g_string_append(w->sql, " granularity IS DISTINCT FROM 'word'"
				" AND motivation IS DISTINCT FROM 'georeferencing'");
	db_where_scope(w, q, manifest);
	db_where_in(w, "motivation", q->motivations);
	db_where_in(w, "creator", q->users);
	db_where_dates(w, q->dates);
	db_where_score(w, q);
}

void db_where_key_release(struct db_where_key *key)
{
	for (int i = 0; i < 5; i++) {
		g_free(key->v[i]);
		key->v[i] = NULL;
	}
}

void db_where_after(struct db_where *w, const struct db_where_key *key)
{
	g_string_append(w->sql, " AND (manifest, target_file, page, seq, rowid) > (");
	for (int i = 0; i < 5; i++) {
		g_string_append(w->sql, i ? ", " : "");
		db_where_arg(w, g_strdup(key->v[i]));
	}
	g_string_append(w->sql, ")");
}

bool db_where_text_only(const struct db_query *q)
{
	const char *scope = q->scope ? q->scope + strspn(q->scope, "/") : "";
	return !*scope && !(q->motivations && *q->motivations) && !(q->users && *q->users) &&
	       !(q->dates && *q->dates) && !q->has_score && !(q->exclude && *q->exclude);
}
