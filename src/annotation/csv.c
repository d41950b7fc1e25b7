/*
 * csv.c: "file,x,y,w,h,label,score" rows to "tagging" records (RFC 4180 quoting: commas,
 * newlines and "" inside quoted fields), boxes in image pixels or empty for the whole image.
 */
#include "annotation/importers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "annotation/import.h"

enum { CSV_FILE, CSV_X, CSV_Y, CSV_W, CSV_H, CSV_LABEL, CSV_SCORE, CSV_COLS };

static const char *const csv_names[CSV_COLS] = {"file", "x", "y", "w", "h", "label", "score"};

struct csv {
	struct import_state *st;
	anno_resolve_fn resolve;
	void *ctx;
	struct import_csv rows;
	struct import_buf field[CSV_COLS]; /* the row being read, unquoted and trimmed */
	char *last_file;                   /* the last file resolved, and its target */
	struct anno_target target;
};

static void csv_trim_end(struct import_buf *b, size_t keep)
{
	while (b->len > keep && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
}

/* Appends a quoted field's content from *s, reading more lines while the quote is open. */
static int csv_quoted(struct import_csv *c, const char **s, struct import_buf *b)
{
	const char *p = *s + 1;
	for (;;) {
		size_t n = strcspn(p, "\"");
		if (b && import_buf_add(b, p, n) < 0)
			return import_fail(c->st, c->start, "field longer than %d bytes",
					   IMPORT_MAX_TEXT);
		p += n;
		if (*p == '"' && p[1] == '"') {
			if (b && import_buf_add(b, "\"", 1) < 0)
				return import_fail(c->st, c->start, "out of memory");
			p += 2;
		} else if (*p == '"') {
			*s = p + 1;
			return 0;
		} else {
			int rc = import_lines_next(&c->r, c->st);
			if (rc <= 0)
				return rc < 0 ? -1
					      : import_fail(c->st, c->start,
							    "quoted field not closed by '\"'");
			if (b && import_buf_add(b, "\n", 1) < 0)
				return import_fail(c->st, c->start, "out of memory");
			p = c->r.buf.data;
		}
	}
}

int import_csv_row(struct import_csv *c)
{
	const char *s = c->r.buf.data;
	c->start = c->r.line;
	c->cols = 0;
	for (int i = 0; i < c->max_cols; i++)
		import_buf_reset(&c->field[i]);
	for (;;) {
		struct import_buf *b = c->cols < c->max_cols ? &c->field[c->cols] : NULL;
		s += strspn(s, " \t");
		if (*s == '"') {
			if (csv_quoted(c, &s, b) < 0)
				return -1;
			s += strspn(s, " \t");
			if (*s && *s != ',')
				return import_fail(c->st, c->r.line,
						   "column %d: text after the closing quote",
						   c->cols + 1);
		} else {
			size_t n = strcspn(s, ",");
			if (b && import_buf_add(b, s, n) < 0)
				return import_fail(c->st, c->start, "field longer than %d bytes",
						   IMPORT_MAX_TEXT);
			if (b)
				csv_trim_end(b, 0);
			s += n;
		}
		c->cols++;
		if (*s != ',')
			return 0;
		s++;
	}
}

void import_csv_skip_bom(struct import_csv *c)
{
	const char *s = c->r.buf.data;
	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0) {
		memmove(c->r.buf.data, s + 3, c->r.buf.len - 2);
		c->r.buf.len -= 3;
	}
}

static int csv_header(struct csv *c)
{
	import_csv_skip_bom(&c->rows);
	if (import_csv_row(&c->rows) < 0)
		return -1;
	bool ok = c->rows.cols == CSV_COLS;
	for (int i = 0; ok && i < CSV_COLS; i++)
		ok = c->field[i].data && strcasecmp(c->field[i].data, csv_names[i]) == 0;
	if (!ok)
		return import_fail(c->st, c->rows.start, "the header must be file,x,y,w,h,label,score");
	return 0;
}

/* Resolves the row's file (the last answer is reused for runs of rows on one image). */
static int csv_resolve(struct csv *c, const char *name)
{
	if (c->last_file && strcmp(c->last_file, name) == 0)
		return 0;
	free(c->last_file);
	c->last_file = NULL;
	if (c->resolve(c->ctx, name, &c->target) != 0 || !c->target.file)
		return import_fail(c->st, c->rows.start,
				   "file '%.80s': no such image next to the file",
				   name);
	if (!(c->last_file = strdup(name)))
		return import_fail(c->st, c->rows.start, "out of memory");
	return 0;
}

/* Reads x, y, w, h: 1 with box set, 0 when all four are empty, -1 after import_fail. */
static int csv_box(struct csv *c, double box[4])
{
	int empty = 0;
	for (int i = CSV_X; i <= CSV_H; i++)
		empty += c->field[i].len == 0;
	if (empty == 4)
		return 0;
	if (empty)
		return import_fail(c->st, c->rows.start, "x, y, w and h must all be given or all empty");
	for (int i = CSV_X; i <= CSV_H; i++) {
		struct import_buf *f = &c->field[i];
		if (import_number(f->data, f->len, &box[i - CSV_X]) < 0)
			return import_fail(c->st, c->rows.start, "%s: '%.40s' is not a number",
					   csv_names[i], f->data);
	}
	if (box[2] < 0 || box[3] < 0)
		return import_fail(c->st, c->rows.start, "%s: negative size", box[2] < 0 ? "w" : "h");
	if (c->target.width <= 0 || c->target.height <= 0)
		return import_fail(c->st, c->rows.start, "file '%.80s': the image has no size",
				   c->field[CSV_FILE].data);
	return 1;
}

/* The row's score: 0..1, -1 when empty, -2 after import_fail. */
static double csv_score(struct csv *c)
{
	struct import_buf *f = &c->field[CSV_SCORE];
	double v;
	if (!f->len)
		return -1;
	if (import_number(f->data, f->len, &v) < 0 || v < 0 || v > 1) {
		import_fail(c->st, c->rows.start, "score: '%.40s' is not a number from 0 to 1", f->data);
		return -2;
	}
	return v;
}

static int csv_record(struct csv *c)
{
	double box[4];
	if (c->rows.cols != CSV_COLS)
		return import_fail(c->st, c->rows.start, "%d columns, expected 7 (%s)", c->rows.cols,
				   "file,x,y,w,h,label,score");
	if (!c->field[CSV_FILE].len || !c->field[CSV_LABEL].len)
		return import_fail(c->st, c->rows.start, "%s: empty",
				   c->field[CSV_FILE].len ? "label" : "file");
	if (csv_resolve(c, c->field[CSV_FILE].data) < 0)
		return -1;
	int has_box = csv_box(c, box);
	double score = has_box < 0 ? -2 : csv_score(c);
	if (score < -1)
		return -1;
	return import_add_detection(c->st, c->rows.start, &c->target, c->field[CSV_LABEL].data,
				    has_box ? box : NULL, NULL, score, NULL);
}

bool import_csv_blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

static int csv_parse(struct csv *c)
{
	int rc;
	while ((rc = import_lines_next(&c->rows.r, c->st)) == 1 &&
	       import_csv_blank(c->rows.r.buf.data))
		;
	if (rc <= 0)
		return rc < 0 ? -1 : import_fail(c->st, 1, "empty file: no header");
	if (csv_header(c) < 0)
		return -1;
	while ((rc = import_lines_next(&c->rows.r, c->st)) == 1) {
		if (import_csv_blank(c->rows.r.buf.data))
			continue;
		if (import_csv_row(&c->rows) < 0 || csv_record(c) < 0)
			return -1;
	}
	return rc;
}

static int csv_run(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		   struct anno_list *out, const struct anno_sink *sink,
		   struct anno_import_error *err)
{
	struct import_state st;
	struct csv c = {.st = &st, .resolve = resolve, .ctx = ctx};
	c.rows = (struct import_csv){.st = &st, .field = c.field, .max_cols = CSV_COLS};
	import_begin(&st, out, sink, err);
	for (int i = 0; i < CSV_COLS; i++) {
		c.field[i].max = IMPORT_MAX_TEXT;
		import_buf_add(&c.field[i], "", 0);
	}
	int rc = import_lines_open(&c.rows.r, in, IMPORT_MAX_TEXT, &st);
	if (rc == 0)
		rc = csv_parse(&c);
	import_lines_close(&c.rows.r);
	for (int i = 0; i < CSV_COLS; i++)
		import_buf_release(&c.field[i]);
	free(c.last_file);
	return import_finish(&st, rc);
}

int anno_import_csv(const char *path, anno_resolve_fn resolve, void *ctx, struct anno_list *out,
		    struct anno_import_error *err)
{
	struct anno_input in = {.name = path, .path = path};
	return csv_run(&in, resolve, ctx, out, NULL, err);
}

int anno_parse_csv(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		   const struct anno_sink *sink, struct anno_import_error *err)
{
	return csv_run(in, resolve, ctx, NULL, sink, err);
}
