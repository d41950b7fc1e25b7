/*
 * import.c: the pieces every importer needs: all-or-nothing record lists with one error,
 * Canvas clamping, locale-free numbers, size-capped buffers, capped line and chunk reading.
 */
#include "annotation/import.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <libxml/parser.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "presentation/language.h"

#define IMPORT_CHUNK (256 * 1024)

void import_begin(struct import_state *st, struct anno_list *out, const struct anno_sink *sink,
		  struct anno_import_error *err)
{
	memset(st, 0, sizeof *st);
	st->sink = sink;
	st->out = sink ? &st->batch : out;
	st->base = st->out->count;
	st->err = err;
	err->line = 0;
	err->msg[0] = '\0';
}

/* Hands the batch to the sink and empties it. */
static int import_flush(struct import_state *st)
{
	char msg[sizeof st->err->msg] = "";
	if (!st->out->count)
		return 0;
	int rc = st->sink->put(st->sink->ctx, st->out, msg, sizeof msg);
	st->flushed += st->out->count;
	import_truncate(st, 0);
	return rc ? import_fail(st, 0, "%s", *msg ? msg : "storing failed") : 0;
}

int import_fail(struct import_state *st, int line, const char *fmt, ...)
{
	if (st->failed)
		return -1;
	st->failed = true;
	st->err->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err->msg, sizeof st->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int import_finish(struct import_state *st, int rc)
{
	if (rc == 0 && !st->failed && st->sink)
		rc = import_flush(st);
	if (rc < 0 || st->failed) {
		if (!st->failed)
			import_fail(st, 0, "import failed");
		import_truncate(st, st->base);
		anno_list_release(&st->batch);
		return -1;
	}
	anno_list_release(&st->batch);
	st->err->line = 0;
	st->err->msg[0] = '\0';
	if (st->dropped) {
		int n = snprintf(st->err->msg, sizeof st->err->msg,
				 "%d box%s outside the Canvas or without area dropped", st->dropped,
				 st->dropped == 1 ? "" : "es");
		st->err->line = st->first_drop_line;
		if (st->first_drop_line > 0 && n > 0 && (size_t)n < sizeof st->err->msg)
			snprintf(st->err->msg + n, sizeof st->err->msg - (size_t)n,
				 " (first on line %d)", st->first_drop_line);
	}
	return 0;
}

struct anno_record *import_add(struct import_state *st, int line, const char *file, int page,
			       const char *motivation, const char *granularity)
{
	if (!file || !*file) {
		import_fail(st, line, "no target file");
		return NULL;
	}
	if (st->sink && !st->hold && st->out->count >= IMPORT_BATCH && import_flush(st) < 0)
		return NULL;
	if (st->flushed + st->out->count - st->base >= IMPORT_MAX_RECORDS) {
		import_fail(st, line, "more than %d annotations in one file", IMPORT_MAX_RECORDS);
		return NULL;
	}
	struct anno_record *rec = anno_list_add(st->out);
	if (!rec) {
		import_fail(st, line, "out of memory");
		return NULL;
	}
	rec->target_file = strdup(file);
	rec->motivation = strdup(motivation);
	rec->granularity = anno_strdup(granularity);
	rec->page = page;
	rec->seq = (int64_t)(st->flushed + st->out->count - st->base);
	if (!rec->target_file || !rec->motivation || (granularity && !rec->granularity)) {
		import_fail(st, line, "out of memory");
		return NULL;
	}
	return rec;
}

void import_truncate(struct import_state *st, size_t keep)
{
	while (st->out->count > keep)
		anno_record_release(&st->out->items[--st->out->count]);
}

void import_drop(struct import_state *st, int line)
{
	if (!st->dropped++)
		st->first_drop_line = line;
}

bool import_clamp(double *x, double *y, double *w, double *h, double cw, double ch)
{
	double x0 = fmax(*x, 0), y0 = fmax(*y, 0);
	double x1 = fmin(*x + *w, cw), y1 = fmin(*y + *h, ch);
	/* written so that NaN fails too */
	if (!(x1 > x0 && y1 > y0))
		return false;
	*x = x0;
	*y = y0;
	*w = x1 - x0;
	*h = y1 - y0;
	return true;
}

bool import_set_box(struct import_state *st, int line, struct anno_record *rec, const double box[4],
		    double cw, double ch)
{
	double x = box[0], y = box[1], w = box[2], h = box[3];
	if (!import_clamp(&x, &y, &w, &h, cw, ch)) {
		import_drop(st, line);
		return false;
	}
	rec->has_xywh = true;
	rec->x = x;
	rec->y = y;
	rec->w = w;
	rec->h = h;
	return true;
}

/* 10^e for the exponents of decimal numbers; exact up to 10^22. */
static double import_pow10(int e)
{
	static const double exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	return e >= 0 && e <= 22 ? exact[e] : pow(10, e);
}

/* Parses "e[+-]digits" at *p; exponent magnitudes are capped, which only matters for overflow. */
static int import_exponent(const char **p, const char *end, int *exp)
{
	const char *q = *p + 1;
	int sign = 1, e = 0;
	if (q < end && (*q == '+' || *q == '-'))
		sign = *q++ == '-' ? -1 : 1;
	if (q == end || !isdigit((unsigned char)*q))
		return -1;
	for (; q < end && isdigit((unsigned char)*q); q++)
		if (e < 100000)
			e = e * 10 + (*q - '0');
	*exp = sign * e;
	*p = q;
	return 0;
}

int import_add_detection(struct import_state *st, int line, const struct anno_target *t,
			 const char *label, const double *box, char *polygon, double score,
			 const char *generator)
{
	struct anno_record placed = {0};
	if (box && !import_set_box(st, line, &placed, box, (double)t->width, (double)t->height)) {
		free(polygon);
		return 0;
	}
	struct anno_record *rec = import_add(st, line, t->file, t->page, "tagging", NULL);
	if (!rec) {
		free(polygon);
		return -1;
	}
	rec->polygon = polygon;
	rec->has_xywh = placed.has_xywh;
	rec->x = placed.x, rec->y = placed.y, rec->w = placed.w, rec->h = placed.h;
	rec->has_score = score >= 0;
	rec->score = score >= 0 ? score : 0;
	rec->text = strdup(label);
	rec->generator = anno_strdup(generator);
	if (!rec->text || (generator && !rec->generator))
		return import_fail(st, line, "out of memory");
	return 0;
}

size_t import_head(const struct anno_input *in, char *head, size_t size)
{
	size_t n = 0;
	if (in->path) {
		FILE *f = fopen(in->path, "rb");
		if (f) {
			n = fread(head, 1, size - 1, f);
			fclose(f);
		}
	} else if (in->data) {
		n = in->len < size - 1 ? in->len : size - 1;
		memcpy(head, in->data, n);
	}
	head[n] = '\0';
	return n;
}

int import_number(const char *s, size_t len, double *out)
{
	const char *p = s, *end = s + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	bool neg = p < end && *p == '-';
	if (p < end && (*p == '-' || *p == '+'))
		p++;
	double v = 0;
	int digits = 0, scale = 0, exp = 0;
	for (; p < end && isdigit((unsigned char)*p); p++, digits++)
		v = v * 10 + (*p - '0');
	if (p < end && *p == '.')
		for (p++; p < end && isdigit((unsigned char)*p); p++, digits++, scale--)
			v = v * 10 + (*p - '0');
	if (!digits)
		return -1;
	if (p < end && (*p == 'e' || *p == 'E') && import_exponent(&p, end, &exp) < 0)
		return -1;
	if (p != end)
		return -1;
	scale += exp;
	if (v != 0)
		v = scale < 0 ? v / import_pow10(-scale) : v * import_pow10(scale);
	if (!isfinite(v))
		return -1;
	*out = neg ? -v : v;
	return 0;
}

char *import_strndup(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

int import_buf_add(struct import_buf *b, const char *s, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *data = realloc(b->data, cap);
		if (!data)
			return -1;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int import_buf_add_collapsed(struct import_buf *b, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && !isspace((unsigned char)s[j]))
			j++;
		if (j > i && import_buf_add(b, s + i, j - i) < 0)
			return -1;
		if (j == n)
			break;
		if (b->len && b->data[b->len - 1] != ' ' && import_buf_add(b, " ", 1) < 0)
			return -1;
		for (i = j; i < n && isspace((unsigned char)s[i]); i++)
			;
	}
	return 0;
}

int import_buf_add_word(struct import_buf *b, const char *s, size_t n)
{
	if (b->len && import_buf_add(b, " ", 1) < 0)
		return -1;
	return import_buf_add(b, s, n);
}

void import_buf_reset(struct import_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void import_buf_release(struct import_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int import_langs_push(struct import_langs *l, const char *lang, size_t len)
{
	if (l->depth >= IMPORT_MAX_DEPTH)
		return -1;
	char *own = NULL; /* BCP 47 ("eng" -> "en"); a value that is no language code is ignored */
	char *tag = lang && len ? pres_language_tag(lang, len) : NULL;
	if (tag && !(own = strdup(tag))) {
		g_free(tag);
		return -1;
	}
	g_free(tag);
	l->at[l->depth] = own ? own : (l->depth ? l->at[l->depth - 1] : NULL);
	l->own[l->depth] = own != NULL;
	l->depth++;
	return 0;
}

void import_langs_pop(struct import_langs *l)
{
	if (l->depth <= 0)
		return;
	l->depth--;
	if (l->own[l->depth])
		free(l->at[l->depth]);
	l->at[l->depth] = NULL;
	l->own[l->depth] = false;
}

const char *import_langs_top(const struct import_langs *l)
{
	return l->depth ? l->at[l->depth - 1] : NULL;
}

void import_langs_release(struct import_langs *l)
{
	while (l->depth)
		import_langs_pop(l);
}

int import_lines_open(struct import_lines *r, const struct anno_input *in, size_t max,
		      struct import_state *st)
{
	memset(r, 0, sizeof *r);
	r->buf.max = max;
	if (!in->path) {
		r->data = in->data;
		r->len = in->data ? in->len : 0;
		return 0;
	}
	r->f = fopen(in->path, "rb");
	if (!r->f)
		return import_fail(st, 0, "cannot open %s: %s", in->name, strerror(errno));
	return 0;
}

static int import_lines_getc(struct import_lines *r)
{
	if (r->f)
		return getc_unlocked(r->f);
	return r->pos < r->len ? (unsigned char)r->data[r->pos++] : EOF;
}

static void import_lines_ungetc(struct import_lines *r, int c)
{
	if (r->f)
		ungetc(c, r->f);
	else
		r->pos--;
}

int import_lines_next(struct import_lines *r, struct import_state *st)
{
	import_buf_reset(&r->buf);
	if (import_buf_add(&r->buf, "", 0) < 0)
		return import_fail(st, r->line + 1, "out of memory");
	int c = import_lines_getc(r);
	if (c == EOF)
		return r->f && ferror(r->f) ? import_fail(st, r->line + 1, "read error") : 0;
	r->line++;
	for (; c != EOF && c != '\n' && c != '\r'; c = import_lines_getc(r)) {
		char ch = (char)c;
		if (import_buf_add(&r->buf, &ch, 1) < 0)
			return import_fail(st, r->line, "line longer than %zu bytes", r->buf.max);
	}
	if (c == '\r' && (c = import_lines_getc(r)) != '\n' && c != EOF)
		import_lines_ungetc(r, c);
	if (r->f && ferror(r->f))
		return import_fail(st, r->line, "read error");
	const char *bad;
	if (!g_utf8_validate(r->buf.data, (gssize)r->buf.len, &bad))
		return import_fail(st, r->line, "not UTF-8 (byte 0x%02x at column %zu)",
				   (unsigned char)*bad, (size_t)(bad - r->buf.data) + 1);
	return 1;
}

void import_lines_close(struct import_lines *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
	import_buf_release(&r->buf);
}

/* Feeds a buffer in chunks of at most IMPORT_CHUNK bytes, then the final empty call. */
static int import_feed_buffer(const struct anno_input *in,
			      int (*feed)(void *ctx, const char *chunk, int len, int last),
			      void *ctx)
{
	size_t len = in->data ? in->len : 0;
	for (size_t off = 0; off < len; off += IMPORT_CHUNK) {
		size_t n = len - off < IMPORT_CHUNK ? len - off : IMPORT_CHUNK;
		int rc = feed(ctx, in->data + off, (int)n, 0);
		if (rc)
			return rc;
	}
	return feed(ctx, "", 0, 1);
}

int import_feed(const struct anno_input *in, struct import_state *st,
		int (*feed)(void *ctx, const char *chunk, int len, int last), void *ctx)
{
	if (!in->path)
		return import_feed_buffer(in, feed, ctx);
	int fd = open(in->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return import_fail(st, 0, "cannot open %s: %s", in->name, strerror(errno));
	struct stat sb;
	char *chunk = malloc(IMPORT_CHUNK);
	int rc = 0;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		rc = import_fail(st, 0, "%s is not a regular file", in->name);
	else if (!chunk)
		rc = import_fail(st, 0, "out of memory");
	while (rc == 0) {
		ssize_t n = read(fd, chunk, IMPORT_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = import_fail(st, 0, "cannot read %s: %s", in->name, strerror(errno));
			break;
		}
		rc = feed(ctx, chunk, (int)n, n == 0);
		if (n == 0)
			break;
	}
	free(chunk);
	close(fd);
	return rc;
}

/* Adds an OCR record with its shared strings; NULL after import_fail. */
static struct anno_record *import_ocr_add(struct import_ocr *o, int line, const char *granularity,
					  const char *text, size_t len, const char *lang)
{
	struct anno_record *rec = import_add(o->st, line, o->target->file, o->target->page,
					     "supplementing", granularity);
	if (!rec)
		return NULL;
	rec->text = import_strndup(text, len);
	rec->language = anno_strdup(lang);
	rec->generator = anno_strdup(o->generator);
	if (!rec->text || (lang && !rec->language) || (o->generator && !rec->generator)) {
		import_fail(o->st, line, "out of memory");
		return NULL;
	}
	return rec;
}

int import_ocr_line_start(struct import_ocr *o, int line, const double *box, const char *lang)
{
	if (!import_ocr_add(o, line, "line", "", 0, lang))
		return -1;
	o->index = o->st->out->count - 1; /* after import_add, which may have flushed */
	o->st->hold = true;
	o->in_line = true;
	o->has_box = box != NULL;
	if (box)
		memcpy(o->box, box, sizeof o->box);
	o->has_union = false;
	o->start = line;
	import_buf_reset(&o->text);
	return 0;
}

/* Grows the line's fallback region by a placed word. */
static void import_ocr_union(struct import_ocr *o, const struct anno_record *w)
{
	double *u = o->uni;
	if (!o->has_union) {
		u[0] = w->x, u[1] = w->y, u[2] = w->x + w->w, u[3] = w->y + w->h;
		o->has_union = true;
		return;
	}
	u[0] = fmin(u[0], w->x);
	u[1] = fmin(u[1], w->y);
	u[2] = fmax(u[2], w->x + w->w);
	u[3] = fmax(u[3], w->y + w->h);
}

int import_ocr_word(struct import_ocr *o, int line, const char *text, size_t len,
		    const double *box, double score, const char *lang)
{
	if (o->in_line && import_buf_add_word(&o->text, text, len) < 0)
		return import_fail(o->st, line, "line text longer than %zu bytes", o->text.max);
	struct anno_record placed = {0};
	if (box && !import_set_box(o->st, line, &placed, box, (double)o->target->width,
				   (double)o->target->height))
		return 0; /* outside the Canvas: kept in the line's text only */
	struct anno_record *rec = import_ocr_add(o, line, "word", text, len, lang);
	if (!rec)
		return -1;
	rec->has_xywh = placed.has_xywh;
	rec->x = placed.x, rec->y = placed.y, rec->w = placed.w, rec->h = placed.h;
	rec->has_score = score >= 0;
	rec->score = score >= 0 ? score : 0;
	if (!o->in_line)
		return 0;
	char id[32];
	snprintf(id, sizeof id, "#%zu", o->index);
	if (!(rec->line_id = strdup(id)))
		return import_fail(o->st, line, "out of memory");
	if (rec->has_xywh)
		import_ocr_union(o, rec);
	return 0;
}

int import_ocr_line_end(struct import_ocr *o, const struct import_buf *text)
{
	o->in_line = false;
	o->st->hold = false;
	const struct import_buf *t = text ? text : &o->text;
	size_t len = t->len;
	while (len && t->data[len - 1] == ' ')
		len--;
	if (!len) {
		import_truncate(o->st, o->index);
		return 0;
	}
	struct anno_record *rec = &o->st->out->items[o->index];
	free(rec->text);
	if (!(rec->text = import_strndup(t->data, len)))
		return import_fail(o->st, o->start, "out of memory");
	double x = o->box[0], y = o->box[1], w = o->box[2], h = o->box[3], *u = o->uni;
	if (o->has_box &&
	    import_clamp(&x, &y, &w, &h, (double)o->target->width, (double)o->target->height)) {
		rec->has_xywh = true;
		rec->x = x, rec->y = y, rec->w = w, rec->h = h;
	} else if (o->has_union) {
		rec->has_xywh = true;
		rec->x = u[0], rec->y = u[1], rec->w = u[2] - u[0], rec->h = u[3] - u[1];
	} else if (o->has_box) {
		import_truncate(o->st, o->index);
		import_drop(o->st, o->start);
	}
	return 0;
}

void import_xml_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, xmlInitParser);
}
