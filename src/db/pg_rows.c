/*
 * pg_rows.c: rows <-> records for the PostgreSQL backend (text format both ways: numbers are
 * printed with 17 significant digits, which round-trips a double), COPY's text format, and the
 * token rows of a record's text.
 */
#include "db/pg.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void db_pg_number(char *buf, size_t n, double v)
{
	/* whole numbers (most boxes) without printf's exact decimal expansion */
	if (v >= -1e15 && v <= 1e15 && v == (double)(long long)v && n >= 18) {
		char digits[20];
		long long i = (long long)v;
		unsigned long long u = i < 0 ? (unsigned long long)-i : (unsigned long long)i;
		int len = 0;
		do
			digits[len++] = (char)('0' + u % 10);
		while ((u /= 10));
		char *p = buf;
		if (i < 0 || (i == 0 && signbit(v)))
			*p++ = '-';
		while (len)
			*p++ = digits[--len];
		*p = '\0';
		return;
	}
	snprintf(buf, n, "%.17g", v);
}

/* A double as text in buf, or NULL (SQL NULL) when the record has none. */
static const char *db_pg_real(char *buf, size_t n, bool has, double v)
{
	if (!has)
		return NULL;
	db_pg_number(buf, n, v);
	return buf;
}

void db_pg_record_params(const struct anno_record *rec, struct db_pg_params *p)
{
	const char **v = p->v;
	v[0] = rec->id;
	v[1] = rec->manifest;
	v[2] = rec->target_file;
	snprintf(p->buf[0], sizeof p->buf[0], "%d", rec->page);
	v[3] = p->buf[0];
	v[4] = rec->motivation;
	v[5] = rec->text;
	v[6] = rec->language;
	v[7] = rec->granularity;
	v[8] = db_pg_real(p->buf[1], sizeof p->buf[1], rec->has_xywh, rec->x);
	v[9] = db_pg_real(p->buf[2], sizeof p->buf[2], rec->has_xywh, rec->y);
	v[10] = db_pg_real(p->buf[3], sizeof p->buf[3], rec->has_xywh, rec->w);
	v[11] = db_pg_real(p->buf[4], sizeof p->buf[4], rec->has_xywh, rec->h);
	v[12] = db_pg_real(p->buf[5], sizeof p->buf[5], rec->has_time, rec->start);
	v[13] = db_pg_real(p->buf[6], sizeof p->buf[6], rec->has_time, rec->end);
	v[14] = db_pg_real(p->buf[7], sizeof p->buf[7], rec->has_score, rec->score);
	v[15] = rec->creator;
	v[16] = rec->generator;
	v[17] = rec->source;
	v[18] = rec->created;
	snprintf(p->buf[8], sizeof p->buf[8], "%" PRId64, rec->seq);
	v[19] = p->buf[8];
	v[20] = rec->line_id;
	v[21] = rec->polygon;
}

/* Column i of row as a malloc'd string; NULL for SQL NULL, or with *oom set. */
static char *db_pg_str(const PGresult *res, int row, int i, bool *oom)
{
	if (PQgetisnull(res, row, i))
		return NULL;
	char *s = strdup(PQgetvalue(res, row, i));
	*oom |= !s;
	return s;
}

static double db_pg_double(const PGresult *res, int row, int i)
{
	return strtod(PQgetvalue(res, row, i), NULL);
}

int db_pg_record_read(const PGresult *res, int row, struct anno_record *rec)
{
	bool oom = false;
	memset(rec, 0, sizeof *rec);
	rec->id = db_pg_str(res, row, 0, &oom);
	rec->manifest = db_pg_str(res, row, 1, &oom);
	rec->target_file = db_pg_str(res, row, 2, &oom);
	rec->page = atoi(PQgetvalue(res, row, 3));
	rec->motivation = db_pg_str(res, row, 4, &oom);
	rec->text = db_pg_str(res, row, 5, &oom);
	rec->language = db_pg_str(res, row, 6, &oom);
	rec->granularity = db_pg_str(res, row, 7, &oom);
	rec->has_xywh = !PQgetisnull(res, row, 8);
	rec->x = db_pg_double(res, row, 8);
	rec->y = db_pg_double(res, row, 9);
	rec->w = db_pg_double(res, row, 10);
	rec->h = db_pg_double(res, row, 11);
	rec->has_time = !PQgetisnull(res, row, 12);
	rec->start = db_pg_double(res, row, 12);
	rec->end = db_pg_double(res, row, 13);
	rec->has_score = !PQgetisnull(res, row, 14);
	rec->score = db_pg_double(res, row, 14);
	rec->creator = db_pg_str(res, row, 15, &oom);
	rec->generator = db_pg_str(res, row, 16, &oom);
	rec->source = db_pg_str(res, row, 17, &oom);
	rec->created = db_pg_str(res, row, 18, &oom);
	rec->seq = strtoll(PQgetvalue(res, row, 19), NULL, 10);
	rec->line_id = db_pg_str(res, row, 20, &oom);
	rec->polygon = db_pg_str(res, row, 21, &oom);
	return oom ? -1 : 0;
}

int db_pg_records_read(const PGresult *res, struct anno_list *out, struct iiifd_error *err)
{
	for (int row = 0; row < PQntuples(res); row++) {
		struct anno_record *rec = anno_list_add(out);
		if (!rec || db_pg_record_read(res, row, rec))
			return iiifd_error_set(err, 500, "annotation store: out of memory");
	}
	return 0;
}

void db_pg_copy_escape(GString *buf, const char *value)
{
	if (!value) {
		g_string_append(buf, "\\N");
		return;
	}
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '\\': g_string_append(buf, "\\\\"); break;
		case '\t': g_string_append(buf, "\\t"); break;
		case '\n': g_string_append(buf, "\\n"); break;
		case '\r': g_string_append(buf, "\\r"); break;
		default: g_string_append_c(buf, *p);
		}
	}
}

void db_pg_copy_field(GString *buf, const char *value, bool last)
{
	db_pg_copy_escape(buf, value);
	g_string_append_c(buf, last ? '\n' : '\t');
}

int db_pg_copy_send(struct db_pg_conn *conn, const char *sql, const GString *buf,
		    struct iiifd_error *err)
{
	if (!buf->len)
		return 0;
	PGresult *res = PQexec(conn->handle, sql);
	bool started = PQresultStatus(res) == PGRES_COPY_IN;
	PQclear(res);
	if (!started)
		return db_pg_fail(conn, "COPY", err);
	int rc = PQputCopyData(conn->handle, buf->str, (int)buf->len) == 1 &&
			 PQputCopyEnd(conn->handle, NULL) == 1
		 ? 0
		 : db_pg_fail(conn, "COPY", err);
	/* the result of the COPY, then NULL */
	while ((res = PQgetResult(conn->handle))) {
		if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			rc = iiifd_error_set(err, 500, "annotation store: COPY: %s",
					     msg ? msg : "failed");
		}
		PQclear(res);
	}
	return rc;
}

struct db_pg_tokens {
	GString *buf;
	char anno[24];
	int pos;
	struct db_pg_term_counts *counts; /* NULL: not counted */
	const char *manifest;
};

static int db_pg_token(const char *term, size_t len, const char *form, size_t form_len,
		       void *ctx)
{
	struct db_pg_tokens *t = ctx;
	if (t->counts)
		db_pg_term_counts_add(t->counts, term, len, form, form_len, t->manifest);
	char *term_z = g_strndup(term, len), *form_z = form ? g_strndup(form, form_len) : NULL;
	db_pg_copy_field(t->buf, term_z, false);
	g_string_append_printf(t->buf, "%s\t%d\t", t->anno, t->pos++);
	db_pg_copy_field(t->buf, form_z, true);
	g_free(term_z);
	g_free(form_z);
	return 0;
}

void db_pg_tokens_copy(GString *buf, int64_t anno, const char *text,
		       struct db_pg_term_counts *counts, const char *manifest)
{
	struct db_pg_tokens t = { .buf = buf, .pos = 0, .counts = counts, .manifest = manifest };
	snprintf(t.anno, sizeof t.anno, "%" PRId64, anno);
	size_t before = buf->len;
	/* text that is not UTF-8 is stored but gives no tokens (as it gives no terms) */
	if (db_fold_terms(text, db_pg_token, &t) < 0)
		g_string_truncate(buf, before);
}
