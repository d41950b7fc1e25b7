/*
 * timed.c: machine-learning output on audio and video: segments with start/end and a label
 * (speaker turns, scenes, sounds) as CSV or JSON, and speech-recognition transcripts with word
 * timings (Whisper-style JSON), to records on #t= ranges. A transcript segment is a "line"
 * (supplementing) and its timed words "word" records linked to it, as OCR lines and words are,
 * so search finds them the same way; a labelled segment is a "tagging" record.
 */
#include "annotation/importers.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "annotation/import_json.h"

/* Adds a timed record with text (trimmed); NULL after import_fail or for empty text. */
static struct anno_record *timed_add(struct import_state *st, int line,
				     const struct anno_target *t, const char *motivation,
				     const char *granularity, const char *text, double start,
				     double end, double score, const char *generator)
{
	while (*text && isspace((unsigned char)*text))
		text++;
	size_t len = strlen(text);
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (!len)
		return NULL;
	struct anno_record *rec = import_add(st, line, t->file, t->page, motivation, granularity);
	if (!rec)
		return NULL;
	rec->text = import_strndup(text, len);
	rec->generator = anno_strdup(generator);
	rec->has_time = true;
	rec->start = start, rec->end = end;
	rec->has_score = score >= 0;
	rec->score = score >= 0 ? score : 0;
	if (!rec->text || (generator && !rec->generator)) {
		import_fail(st, line, "out of memory");
		return NULL;
	}
	return rec;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* start and end of obj: 1, 0 when it has neither, -1 after import_fail. */
static int timed_json_span(struct import_state *st, const json_t *obj, const char *path,
			   double *start, double *end)
{
	int s = import_json_number(st, obj, "start", path, 0, HUGE_VAL, start);
	int e = s < 0 ? -1 : import_json_number(st, obj, "end", path, 0, HUGE_VAL, end);
	if (s < 0 || e < 0)
		return -1;
	if (s != e)
		return import_fail(st, 0, "%s: start and end must both be given", path);
	if (s && *end < *start)
		return import_fail(st, 0, "%s: end %g is before start %g", path, *end, *start);
	return s;
}

/* score, confidence or probability, 0..1: the score, -1 when none, -2 after import_fail. */
static double timed_json_score(struct import_state *st, const json_t *obj, const char *path)
{
	static const char *const keys[] = {"score", "confidence", "probability"};
	for (size_t i = 0; i < 3; i++) {
		double v;
		int rc = import_json_number(st, obj, keys[i], path, 0, 1, &v);
		if (rc)
			return rc < 0 ? -2 : v;
	}
	return -1;
}

static int timed_json_words(struct import_state *st, const struct anno_target *t,
			    const json_t *words, const char *path, size_t line_index,
			    const char *generator)
{
	size_t i;
	json_t *w;
	json_array_foreach(words, i, w) {
		char wpath[96];
		snprintf(wpath, sizeof wpath, "%s.words[%zu]", path, i);
		const char *text = import_json_string(w, "word");
		text = text ? text : import_json_string(w, "text");
		double start, end, score;
		if (!json_is_object(w) || !text)
			return import_fail(st, 0, "%s: not an object with a word", wpath);
		int has = timed_json_span(st, w, wpath, &start, &end);
		if (has < 0 || (score = timed_json_score(st, w, wpath)) < -1)
			return -1;
		if (!has)
			continue; /* untimed words live in the segment's text only */
		struct anno_record *rec =
			timed_add(st, 0, t, "supplementing", "word", text, start, end, score, generator);
		if (!rec && st->failed)
			return -1;
		char id[32];
		snprintf(id, sizeof id, "#%zu", line_index);
		if (rec && !(rec->line_id = strdup(id)))
			return import_fail(st, 0, "out of memory");
	}
	return 0;
}

static int timed_json_segment(struct import_state *st, const struct anno_target *t,
			      const json_t *seg, size_t i, const char *generator)
{
	char path[48];
	snprintf(path, sizeof path, "segments[%zu]", i);
	const char *text = import_json_string(seg, "text");
	const char *label = import_json_string(seg, "label");
	label = label ? label : import_json_string(seg, "speaker");
	double start, end, score;
	if (!json_is_object(seg))
		return import_fail(st, 0, "%s: not an object", path);
	int has = timed_json_span(st, seg, path, &start, &end);
	if (has < 0 || (score = timed_json_score(st, seg, path)) < -1)
		return -1;
	if (!has)
		return import_fail(st, 0, "%s: no start and end", path);
	if (!text && !label)
		return import_fail(st, 0, "%s: no text and no label", path);
	json_t *words = json_object_get(seg, "words");
	if (words && !json_is_array(words))
		return import_fail(st, 0, "%s.words: not an array", path);
	st->hold = true; /* words name their segment by its index in the batch */
	struct anno_record *rec =
		timed_add(st, 0, t, text ? "supplementing" : "tagging", text ? "line" : NULL,
			  text ? text : label, start, end, score, generator);
	int rc = st->failed ? -1 : 0;
	if (rec && text && words)
		rc = timed_json_words(st, t, words, path, st->out->count - 1, generator);
	st->hold = false;
	return rc;
}

static int timed_json_doc(struct import_state *st, const struct anno_target *t, json_t *doc)
{
	json_t *segs = json_is_array(doc) ? doc : json_object_get(doc, "segments");
	if (!json_is_array(segs))
		return import_fail(st, 0, "no \"segments\" array (nor a top-level array)");
	const char *generator = json_is_object(doc) ? import_json_string(doc, "model") : NULL;
	size_t i;
	json_t *seg;
	json_array_foreach(segs, i, seg)
		if (timed_json_segment(st, t, seg, i, generator) < 0)
			return -1;
	return 0;
}

int anno_parse_timed_json(const struct anno_input *in, const struct anno_target *target,
			  const struct anno_sink *sink, struct anno_import_error *err)
{
	struct import_state st;
	import_begin(&st, NULL, sink, err);
	json_t *doc = target->file ? import_json_load(in, &st) : NULL;
	int rc = doc ? timed_json_doc(&st, target, doc) : -1;
	json_decref(doc);
	return import_finish(&st, rc);
}

/* ---- CSV ------------------------------------------------------------------------------------- */

enum { TC_START, TC_END, TC_LABEL, TC_TEXT, TC_SCORE, TC_COUNT };
#define TIMED_CSV_MAX_COLS 16

/* Seconds from "12.5", "01:02.5" or "1:02:03.25". -1 when it is neither. */
static int timed_seconds(const char *s, size_t len, double *v)
{
	double parts[3];
	int n = 0;
	for (const char *p = s, *end = s + len; n < 3;) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		size_t l = colon ? (size_t)(colon - p) : (size_t)(end - p);
		if (import_number(p, l, &parts[n++]) < 0 || parts[n - 1] < 0)
			return -1;
		if (!colon)
			break;
		p = colon + 1;
		if (n == 3)
			return -1;
	}
	*v = n == 1 ? parts[0] : n == 2 ? parts[0] * 60 + parts[1]
					: parts[0] * 3600 + parts[1] * 60 + parts[2];
	return n > 1 && parts[n - 1] >= 60 ? -1 : 0;
}

struct timed_csv {
	struct import_csv rows;
	struct import_buf field[TIMED_CSV_MAX_COLS];
	int col[TC_COUNT]; /* column of each, -1 when absent */
};

static int timed_csv_header(struct timed_csv *c, struct import_state *st)
{
	static const char *const names[TC_COUNT][3] = {
		{"start", "begin", NULL}, {"end", "stop", NULL}, {"label", "speaker", "class"},
		{"text", "transcript", NULL}, {"score", "confidence", "probability"}};
	import_csv_skip_bom(&c->rows);
	if (import_csv_row(&c->rows) < 0)
		return -1;
	for (int k = 0; k < TC_COUNT; k++)
		c->col[k] = -1;
	int n = c->rows.cols < TIMED_CSV_MAX_COLS ? c->rows.cols : TIMED_CSV_MAX_COLS;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < TC_COUNT; k++)
			for (int j = 0; j < 3 && names[k][j]; j++)
				if (c->col[k] < 0 && strcasecmp(c->field[i].data, names[k][j]) == 0)
					c->col[k] = i;
	if (c->col[TC_START] < 0 || c->col[TC_END] < 0 ||
	    (c->col[TC_LABEL] < 0 && c->col[TC_TEXT] < 0))
		return import_fail(st, c->rows.start,
				   "the header must name start, end and label (or text) columns");
	return 0;
}

static const char *timed_csv_field(struct timed_csv *c, int k)
{
	return c->col[k] >= 0 && c->col[k] < c->rows.cols ? c->field[c->col[k]].data : "";
}

static int timed_csv_record(struct timed_csv *c, struct import_state *st,
			    const struct anno_target *t)
{
	static const char *const what[] = {"start", "end"};
	double v[2], score = -1;
	for (int k = 0; k < 2; k++) {
		const char *f = timed_csv_field(c, k);
		if (timed_seconds(f, strlen(f), &v[k]) < 0)
			return import_fail(st, c->rows.start, "%s: '%.40s' is not a time in seconds"
					   " or [hh:]mm:ss", what[k], f);
	}
	if (v[1] < v[0])
		return import_fail(st, c->rows.start, "end %g is before start %g", v[1], v[0]);
	const char *sc = timed_csv_field(c, TC_SCORE);
	if (*sc && (import_number(sc, strlen(sc), &score) < 0 || score < 0 || score > 1))
		return import_fail(st, c->rows.start, "score: '%.40s' is not a number from 0 to 1",
				   sc);
	const char *text = timed_csv_field(c, TC_TEXT), *label = timed_csv_field(c, TC_LABEL);
	bool transcript = *text != '\0';
	if (!transcript && !*label)
		return import_fail(st, c->rows.start, "no label and no text");
	timed_add(st, c->rows.start, t, transcript ? "supplementing" : "tagging",
		  transcript ? "line" : NULL, transcript ? text : label, v[0], v[1], score, NULL);
	return st->failed ? -1 : 0;
}

static int timed_csv_parse(struct timed_csv *c, struct import_state *st,
			   const struct anno_target *t)
{
	int rc;
	while ((rc = import_lines_next(&c->rows.r, st)) == 1 && import_csv_blank(c->rows.r.buf.data))
		;
	if (rc <= 0)
		return rc < 0 ? -1 : import_fail(st, 1, "empty file: no header");
	if (timed_csv_header(c, st) < 0)
		return -1;
	while ((rc = import_lines_next(&c->rows.r, st)) == 1)
		if (!import_csv_blank(c->rows.r.buf.data) &&
		    (import_csv_row(&c->rows) < 0 || timed_csv_record(c, st, t) < 0))
			return -1;
	return rc;
}

int anno_parse_timed_csv(const struct anno_input *in, const struct anno_target *target,
			 const struct anno_sink *sink, struct anno_import_error *err)
{
	struct import_state st;
	struct timed_csv c = {.rows = {.st = &st, .max_cols = TIMED_CSV_MAX_COLS}};
	c.rows.field = c.field;
	import_begin(&st, NULL, sink, err);
	for (int i = 0; i < TIMED_CSV_MAX_COLS; i++) {
		c.field[i].max = IMPORT_MAX_TEXT;
		import_buf_add(&c.field[i], "", 0);
	}
	int rc = import_lines_open(&c.rows.r, in, IMPORT_MAX_TEXT, &st);
	if (rc == 0)
		rc = timed_csv_parse(&c, &st, target);
	import_lines_close(&c.rows.r);
	for (int i = 0; i < TIMED_CSV_MAX_COLS; i++)
		import_buf_release(&c.field[i]);
	return import_finish(&st, rc);
}

bool anno_is_timed_csv(const struct anno_input *in)
{
	char head[1024];
	import_head(in, head, sizeof head);
	head[strcspn(head, "\r\n")] = '\0';
	for (char *p = head; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return strstr(head, "start") && strstr(head, "end") && !strstr(head, "file");
}
