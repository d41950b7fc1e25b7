/*
 * pg_runs.c: a line's OCR words kept in one row of annotations, "a run", in the PostgreSQL
 * store. An import's words of one line (ids "LINE.K", see db.c) that share everything but their
 * own text, box, times, score, language, outline and place become one row: the row of the word
 * first in reading order, whose `more` column holds the others (more_count of them; last_seq
 * is the largest seq). Each word keeps the rowid it was given, so its key (seq, rowid) orders it
 * as one row per word did; the row's own key is its smallest. One row per line instead of one
 * per word takes most of an OCR import's rows and index entries away.
 *
 * Reads that may meet runs select DB_PG_ROW_COLUMNS and expand them (db_pg_keyed_read); a
 * write-API change of a word in a run first turns its line's runs back into one row per word
 * (db_pg_run_explode). Rows written before runs existed (one per word) are read as they are.
 *
 * The `more` text: one line per word, fields separated by tabs (".K" of its id "LINE.K", rowid,
 * seq, text, x, y, w, h, t_start, t_end, score, language, polygon), "\N" for none, and \\ \t
 * \n \r escaped.
 */
#include "db/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_PG_RUN_FIELDS 13

/* ---- packing (imports) -------------------------------------------------------------------- */

static bool db_pg_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether rec's id is "LINE.K" for its own line_id, so a read can find it through its line. */
static bool db_pg_word_of_line(const struct anno_record *rec)
{
	if (!db_is_word(rec) || !rec->line_id || !rec->id)
		return false;
	size_t n = strlen(rec->line_id);
	if (strncmp(rec->id, rec->line_id, n) != 0 || rec->id[n] != '.')
		return false;
	const char *k = rec->id + n + 1;
	return *k && strspn(k, "0123456789") == strlen(k);
}

/* Whether rec may share a row with first: the same line and everything a run keeps once. */
static bool db_pg_run_member(const struct anno_record *first, const struct anno_record *rec)
{
	return db_pg_word_of_line(rec) && db_pg_same(first->line_id, rec->line_id) &&
	       db_pg_same(first->manifest, rec->manifest) &&
	       db_pg_same(first->target_file, rec->target_file) && first->page == rec->page &&
	       db_pg_same(first->motivation, rec->motivation) &&
	       db_pg_same(first->creator, rec->creator) &&
	       db_pg_same(first->generator, rec->generator) &&
	       db_pg_same(first->source, rec->source) && db_pg_same(first->created, rec->created);
}

/* A record of a run with the rowid it was given. */
struct db_pg_run_word {
	const struct anno_record *rec;
	int64_t rowid;
};

static int db_pg_by_key(const void *a, const void *b)
{
	const struct db_pg_run_word *x = a, *y = b;
	if (x->rec->seq != y->rec->seq)
		return x->rec->seq < y->rec->seq ? -1 : 1;
	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* How many records from recs[0] (of n) may share a row: 1 when it is not a word of a line. */
size_t db_pg_run_length(const struct anno_record *recs, size_t n)
{
	if (!n || !db_pg_word_of_line(&recs[0]))
		return 1;
	size_t len = 1;
	while (len < n && db_pg_run_member(&recs[0], &recs[len]))
		len++;
	return len;
}

static void db_pg_run_num(GString *buf, bool has, double v)
{
	char num[32];
	if (has)
		db_pg_number(num, sizeof num, v);
	g_string_append(buf, has ? num : "\\N");
}

/* One word of a run's `more` text. */
static void db_pg_run_word(GString *buf, const struct db_pg_run_word *word)
{
	const struct anno_record *w = word->rec;
	db_pg_copy_escape(buf, w->id + strlen(w->line_id)); /* ".K": the line's id is the row's */
	g_string_append_printf(buf, "\t%" PRId64 "\t%" PRId64 "\t", word->rowid, w->seq);
	db_pg_copy_escape(buf, w->text);
	const double nums[] = { w->x, w->y, w->w, w->h, w->start, w->end, w->score };
	const bool has[] = { w->has_xywh, w->has_xywh, w->has_xywh, w->has_xywh,
			     w->has_time, w->has_time, w->has_score };
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		g_string_append_c(buf, '\t');
		db_pg_run_num(buf, has[i], nums[i]);
	}
	g_string_append_c(buf, '\t');
	db_pg_copy_escape(buf, w->language);
	g_string_append_c(buf, '\t');
	db_pg_copy_escape(buf, w->polygon);
	g_string_append_c(buf, '\n');
}

/* COPY's row (DB_PG_COPY_ROW) for words[0] with words[1..n) in its `more` (n 1: none). */
static void db_pg_row_copy(GString *buf, const struct db_pg_run_word *words, size_t n)
{
	struct db_pg_params p;
	db_pg_record_params(words[0].rec, &p);
	g_string_append_printf(buf, "%" PRId64 "\t", words[0].rowid);
	for (int i = 0; i < DB_PG_NCOLS; i++)
		db_pg_copy_field(buf, p.v[i], false);
	if (n == 1) {
		g_string_append(buf, "\\N\t0\t\\N\n");
		return;
	}
	GString *more = g_string_sized_new(n * 80);
	for (size_t i = 1; i < n; i++)
		db_pg_run_word(more, &words[i]);
	db_pg_copy_field(buf, more->str, false);
	g_string_append_printf(buf, "%zu\t%" PRId64 "\n", n - 1, words[n - 1].rec->seq);
	g_string_free(more, TRUE);
}

void db_pg_run_copy(GString *buf, const int64_t *rowids, const struct anno_record *recs,
		    size_t len)
{
	struct db_pg_run_word *words = g_new(struct db_pg_run_word, len);
	for (size_t i = 0; i < len; i++)
		words[i] = (struct db_pg_run_word){ &recs[i], rowids[i] };
	qsort(words, len, sizeof *words, db_pg_by_key);
	db_pg_row_copy(buf, words, len);
	g_free(words);
}

/* ---- expanding (reads) -------------------------------------------------------------------- */

void db_pg_keyed_release(struct db_pg_keyed *k)
{
	anno_list_release(&k->list);
	g_free(k->rowids);
	memset(k, 0, sizeof *k);
}

/* Appends an empty record with rowid's key; NULL when out of memory. */
static struct anno_record *db_pg_keyed_add(struct db_pg_keyed *k, int64_t rowid)
{
	struct anno_record *rec = anno_list_add(&k->list);
	if (!rec)
		return NULL;
	if (k->list.count > k->cap) {
		k->cap = k->list.cap;
		k->rowids = g_renew(int64_t, k->rowids, k->cap);
	}
	k->rowids[k->list.count - 1] = rowid;
	return rec;
}

/* Cuts the next tab- or newline-ended field of *p in place, unescaped; NULL for \N. */
static char *db_pg_run_field(char **p, bool *ok)
{
	char *in = *p;
	if (in[0] == '\\' && in[1] == 'N' && (in[2] == '\t' || in[2] == '\n' || !in[2])) {
		*ok = *ok && in[2];
		*p = in[2] ? in + 3 : in + 2;
		return NULL;
	}
	char *start = in, *out = in;
	for (; *in && *in != '\t' && *in != '\n'; in++) {
		char c = *in;
		if (c == '\\' && in[1]) {
			c = *++in;
			c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
		}
		*out++ = c;
	}
	*ok = *ok && *in; /* every field ends with its separator */
	*p = *in ? in + 1 : in;
	*out = '\0';
	return start;
}

static char *db_pg_dup(const char *s, bool *oom)
{
	char *d = anno_strdup(s);
	*oom |= s && !d;
	return d;
}

/* One word of text (advanced past it) as a record sharing the rest with row, and its rowid. */
static int db_pg_run_unpack(char **text, const struct anno_record *row, struct anno_record *w,
			    int64_t *rowid)
{
	char *f[DB_PG_RUN_FIELDS];
	bool ok = true, oom = false;
	for (int i = 0; i < DB_PG_RUN_FIELDS; i++)
		f[i] = db_pg_run_field(text, &ok);
	if (!ok || !f[0] || !f[1] || !f[2])
		return -1;
	*rowid = strtoll(f[1], NULL, 10);
	*w = (struct anno_record){ .page = row->page, .seq = strtoll(f[2], NULL, 10),
				   .has_xywh = f[4] != NULL, .has_time = f[8] != NULL,
				   .has_score = f[10] != NULL };
	double *nums[] = { &w->x, &w->y, &w->w, &w->h, &w->start, &w->end, &w->score };
	for (int i = 0; i < 7; i++)
		*nums[i] = f[4 + i] ? strtod(f[4 + i], NULL) : 0;
	w->id = f[0][0] == '.' && row->line_id ? g_strconcat(row->line_id, f[0], NULL)
					      : db_pg_dup(f[0], &oom);
	oom |= !w->id;
	w->text = db_pg_dup(f[3], &oom);
	w->language = db_pg_dup(f[11], &oom);
	w->polygon = db_pg_dup(f[12], &oom);
	const char *shared[] = { row->manifest, row->target_file, row->motivation,
				 row->granularity, row->creator, row->generator, row->source,
				 row->created, row->line_id };
	char **to[] = { &w->manifest, &w->target_file, &w->motivation, &w->granularity,
			&w->creator, &w->generator, &w->source, &w->created, &w->line_id };
	for (size_t i = 0; i < sizeof shared / sizeof *shared; i++)
		*to[i] = db_pg_dup(shared[i], &oom);
	return oom ? -2 : 0;
}

/* Appends row's further words (its `more` text) to k. */
static int db_pg_run_expand(struct db_pg_keyed *k, size_t row_index, const char *more,
			    struct iiifd_error *err)
{
	char *copy = g_strdup(more), *p = copy;
	int rc = 0;
	while (!rc && *p) {
		struct anno_record w;
		int64_t rowid = 0;
		int got = db_pg_run_unpack(&p, &k->list.items[row_index], &w, &rowid);
		struct anno_record *slot = got ? NULL : db_pg_keyed_add(k, rowid);
		if (slot)
			*slot = w;
		else if (!got)
			anno_record_release(&w);
		if (!slot)
			rc = iiifd_error_set(err, 500, got == -1 ? "annotation store: a run of"
						    " words is damaged" : "annotation store: out of memory");
	}
	g_free(copy);
	return rc;
}

int db_pg_keyed_read(const PGresult *res, struct db_pg_keyed *k, struct iiifd_error *err)
{
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t rowid = strtoll(PQgetvalue(res, row, DB_PG_NCOLS), NULL, 10);
		struct anno_record *rec = db_pg_keyed_add(k, rowid);
		if (!rec || db_pg_record_read(res, row, rec))
			return iiifd_error_set(err, 500, "annotation store: out of memory");
		if (!PQgetisnull(res, row, DB_PG_NCOLS + 1) &&
		    db_pg_run_expand(k, k->list.count - 1, PQgetvalue(res, row, DB_PG_NCOLS + 1),
				     err))
			return -1;
	}
	return 0;
}

struct db_pg_key_index {
	int64_t seq, rowid;
	size_t i;
};

static int db_pg_key_order(const void *a, const void *b)
{
	const struct db_pg_key_index *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

void db_pg_keyed_sort(struct db_pg_keyed *k)
{
	size_t n = k->list.count;
	if (n < 2)
		return;
	struct db_pg_key_index *keys = g_new(struct db_pg_key_index, n);
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct db_pg_key_index){ k->list.items[i].seq, k->rowids[i], i };
	qsort(keys, n, sizeof *keys, db_pg_key_order);
	struct anno_record *items = g_new(struct anno_record, n);
	for (size_t i = 0; i < n; i++) {
		items[i] = k->list.items[keys[i].i];
		k->rowids[i] = keys[i].rowid;
	}
	memcpy(k->list.items, items, n * sizeof *items);
	g_free(items);
	g_free(keys);
}

int db_pg_keyed_cmp(const struct db_pg_keyed *k, size_t i, const struct db_cursor *c)
{
	int64_t seq = k->list.items[i].seq;
	if (seq != c->seq)
		return seq < c->seq ? -1 : 1;
	return k->rowids[i] < c->rowid ? -1 : k->rowids[i] > c->rowid;
}

int db_pg_keyed_move(struct db_pg_keyed *k, size_t i, struct anno_list *out,
		     struct iiifd_error *err)
{
	struct anno_record *to = anno_list_add(out);
	if (!to)
		return iiifd_error_set(err, 500, "annotation store: out of memory");
	*to = k->list.items[i];
	memset(&k->list.items[i], 0, sizeof k->list.items[i]);
	return 0;
}

int db_pg_keyed_move_all(struct db_pg_keyed *k, struct anno_list *out, struct iiifd_error *err)
{
	db_pg_keyed_sort(k);
	for (size_t i = 0; i < k->list.count; i++)
		if (db_pg_keyed_move(k, i, out, err))
			return -1;
	return 0;
}

/* ---- back to one row per word (write-API changes) ---------------------------------------- */

char *db_pg_word_line(const char *id)
{
	const char *dot = id ? strrchr(id, '.') : NULL;
	if (!dot || dot == id || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
		return NULL;
	return g_strndup(id, (size_t)(dot - id));
}

/* Stores k's records from..to as one row each, with the rowids they had. */
static int db_pg_rows_store(struct db_pg_conn *conn, struct db_pg_keyed *k, size_t from,
			    size_t to, struct iiifd_error *err)
{
	GString *buf = g_string_new(NULL);
	for (size_t i = from; i < to; i++)
		db_pg_row_copy(buf, &(struct db_pg_run_word){ &k->list.items[i], k->rowids[i] }, 1);
	int rc = db_pg_copy_send(conn, DB_PG_COPY_ROW, buf, err);
	g_string_free(buf, TRUE);
	return rc;
}

int db_pg_run_explode(struct db_pg_conn *conn, const char *line_id, struct iiifd_error *err)
{
	const char *params[1] = { line_id };
	PGresult *res = db_pg_exec(conn, DB_PG_RUNS_OF_LINE, 1, params, err);
	if (!res)
		return -1;
	struct db_pg_keyed k = {0};
	int rc = db_pg_keyed_read(res, &k, err);
	for (int row = 0, at = 0; !rc && row < PQntuples(res); row++) {
		const char *rowid = PQgetvalue(res, row, DB_PG_NCOLS);
		size_t words = 1 + strtoull(PQgetvalue(res, row, DB_PG_NCOLS + 2), NULL, 10);
		rc = db_pg_run(conn, DB_PG_DELETE_ROWID, 1, &rowid, err);
		if (!rc)
			rc = db_pg_rows_store(conn, &k, (size_t)at, (size_t)at + words, err);
		at += (int)words;
	}
	db_pg_keyed_release(&k);
	PQclear(res);
	return rc;
}
