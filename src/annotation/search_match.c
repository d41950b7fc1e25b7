/*
 * search_match.c: folding (NFD, marks dropped, lower case) keeps a map back to the original
 * bytes, so a match found in folded text is cut from the original with its context.
 */
#include "annotation/search_match.h"

#include <string.h>

void search_fold(const char *text, struct search_folded *f)
{
	f->text = g_string_new(NULL);
	f->origin = g_array_new(FALSE, FALSE, sizeof(size_t));
	for (const char *p = text; p && *p; p = g_utf8_next_char(p)) {
		size_t at = (size_t)(p - text);
		gchar *one = g_utf8_normalize(p, g_utf8_next_char(p) - p, G_NORMALIZE_NFD);
		for (const char *q = one; q && *q; q = g_utf8_next_char(q)) {
			gunichar c = g_utf8_get_char(q);
			if (g_unichar_ismark(c))
				continue;
			char buf[8];
			int n = g_unichar_to_utf8(g_unichar_tolower(c), buf);
			g_string_append_len(f->text, buf, n);
			for (int k = 0; k < n; k++)
				g_array_append_val(f->origin, at);
		}
		g_free(one);
	}
	size_t end = text ? strlen(text) : 0;
	g_array_append_val(f->origin, end);
}

void search_folded_release(struct search_folded *f)
{
	g_string_free(f->text, TRUE);
	g_array_free(f->origin, TRUE);
}

gchar **search_terms(const char *q)
{
	GPtrArray *terms = g_ptr_array_new();
	for (const char *p = q; p && *p;) {
		while (*p == ' ')
			p++;
		const char *end = *p == '"' ? strchr(p + 1, '"') : strchr(p, ' ');
		const char *start = *p == '"' ? p + 1 : p;
		if (!end)
			end = p + strlen(p);
		if (end > start) {
			struct search_folded f;
			char *raw = g_strndup(start, (gsize)(end - start));
			search_fold(raw, &f);
			g_ptr_array_add(terms, g_strdup(g_strstrip(f.text->str)));
			search_folded_release(&f);
			g_free(raw);
		}
		p = *end ? end + 1 : end;
	}
	g_ptr_array_add(terms, NULL);
	return (gchar **)g_ptr_array_free(terms, FALSE);
}

static bool search_is_word_byte(char c)
{
	return g_ascii_isalnum(c) || (unsigned char)c >= 0x80;
}

/* The match of term at [a, b) of the folded text, with its context, from the original text. */
static void search_match_at(const char *text, const struct search_folded *f, size_t a, size_t b,
			    struct search_match *m)
{
	size_t oa = g_array_index(f->origin, size_t, a);
	size_t ob = g_array_index(f->origin, size_t, b);
	const char *ctx0 = text + oa;
	for (int i = 0; i < SEARCH_MATCH_CONTEXT_CHARS && ctx0 > text; i++)
		ctx0 = g_utf8_prev_char(ctx0);
	const char *ctx1 = text + ob;
	for (int i = 0; i < SEARCH_MATCH_CONTEXT_CHARS && *ctx1; i++)
		ctx1 = g_utf8_next_char(ctx1);
	m->prefix = g_strndup(ctx0, (gsize)(text + oa - ctx0));
	m->exact = g_strndup(text + oa, ob - oa);
	m->suffix = g_strndup(text + ob, (gsize)(ctx1 - (text + ob)));
	m->start = oa;
	m->end = ob;
}

size_t search_locate(const char *text, const struct search_folded *f, const char *term,
		     struct search_match *out, size_t max)
{
	size_t tl = strlen(term), n = 0;
	const char *folded = f->text->str;
	for (const char *hit = strstr(folded, term); tl && hit && n < max;
	     hit = strstr(hit + 1, term)) {
		size_t a = (size_t)(hit - folded), b = a + tl;
		if ((a > 0 && search_is_word_byte(folded[a - 1])) || search_is_word_byte(folded[b]))
			continue;
		search_match_at(text, f, a, b, &out[n++]);
		hit = folded + b - 1; /* occurrences do not overlap */
	}
	return n;
}

void search_match_release(struct search_match *m)
{
	g_free(m->prefix);
	g_free(m->exact);
	g_free(m->suffix);
}

/*
 * Calls add(w, ctx) for each word (in reading order, each found after the one before) that
 * bytes [start, end) of the line's text cover.
 */
static void search_words_covering(const char *line_text, const struct anno_list *words,
				  size_t start, size_t end,
				  void (*add)(const struct anno_record *w, void *ctx), void *ctx)
{
	size_t cursor = 0, len = strlen(line_text);
	for (size_t i = 0; i < words->count; i++) {
		const struct anno_record *w = &words->items[i];
		const char *at = w->text && *w->text && cursor <= len
					 ? strstr(line_text + cursor, w->text)
					 : NULL;
		if (!at)
			continue;
		size_t ws = (size_t)(at - line_text), we = ws + strlen(w->text);
		cursor = we;
		if (we > start && ws < end)
			add(w, ctx);
	}
}

/* x0 y0 x1 y1 (boxes) or t0 t1 (times), and whether any was added. */
struct search_union {
	double v[4];
	bool any;
};

static void search_union_box(const struct anno_record *w, void *ctx)
{
	struct search_union *u = ctx;
	if (!w->has_xywh)
		return;
	double b[4] = {w->x, w->y, w->x + w->w, w->y + w->h};
	for (int k = 0; k < 4; k++)
		if (!u->any || (k < 2 ? b[k] < u->v[k] : b[k] > u->v[k]))
			u->v[k] = b[k];
	u->any = true;
}

static void search_union_time(const struct anno_record *w, void *ctx)
{
	struct search_union *u = ctx;
	if (!w->has_time)
		return;
	if (!u->any || w->start < u->v[0])
		u->v[0] = w->start;
	if (!u->any || w->end > u->v[1])
		u->v[1] = w->end;
	u->any = true;
}

bool search_words_box(const char *line_text, const struct anno_list *words, size_t start,
		      size_t end, double box[4])
{
	struct search_union u = {{0}, false};
	search_words_covering(line_text, words, start, end, search_union_box, &u);
	if (u.any)
		box[0] = u.v[0], box[1] = u.v[1], box[2] = u.v[2] - u.v[0], box[3] = u.v[3] - u.v[1];
	return u.any;
}

bool search_words_time(const char *line_text, const struct anno_list *words, size_t start,
		       size_t end, double span[2])
{
	struct search_union u = {{0}, false};
	search_words_covering(line_text, words, start, end, search_union_time, &u);
	if (u.any)
		span[0] = u.v[0], span[1] = u.v[1];
	return u.any;
}
