/*
 * fold.c: case and diacritic folding for autocomplete terms ("Café" -> "cafe"), and splitting text
 * into folded terms the way the full-text tokenizer (unicode61, remove_diacritics 2) roughly does,
 * each with the word it was folded from when that differs by more than case.
 */
#include "db/backend.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static bool fold_is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* NFD, then every combining mark dropped (g_malloc'd). */
static char *fold_strip_marks(const char *text)
{
	char *nfd = g_utf8_normalize(text, -1, G_NORMALIZE_NFD);
	if (!nfd)
		return NULL;
	char *w = nfd;
	for (const char *r = nfd; *r;) {
		const char *next = g_utf8_next_char(r);
		if (!g_unichar_ismark(g_utf8_get_char(r))) {
			memmove(w, r, (size_t)(next - r));
			w += next - r;
		}
		r = next;
	}
	*w = '\0';
	return nfd;
}

char *db_fold(const char *text)
{
	if (!text || !g_utf8_validate(text, -1, NULL))
		return NULL;
	if (fold_is_ascii(text)) {
		char *out = strdup(text);
		for (char *p = out; p && *p; p++)
			*p = g_ascii_tolower(*p);
		return out;
	}
	char *bare = fold_strip_marks(text);
	char *lower = bare ? g_utf8_strdown(bare, -1) : NULL;
	/*
	 * Recompose: NFD splits Hangul syllables into jamo, which are letters, not marks; composed
	 * text is what the full-text tokenizer sees, so terms must be composed too to match it.
	 */
	char *nfc = lower ? g_utf8_normalize(lower, -1, G_NORMALIZE_NFC) : NULL;
	char *out = nfc ? strdup(nfc) : NULL;
	g_free(bare);
	g_free(lower);
	g_free(nfc);
	return out;
}

/* The common case (English OCR): no allocation, bytes folded as they are split. */
static int fold_terms_ascii(const char *text, db_term_fn fn, void *ctx)
{
	char term[DB_TERM_MAX];
	size_t len = 0;
	bool too_long = false;
	for (const char *p = text;; p++) {
		if (g_ascii_isalnum(*p)) {
			if (len < sizeof term)
				term[len++] = g_ascii_tolower(*p);
			else
				too_long = true;
			continue;
		}
		int rc = len && !too_long ? fn(term, len, NULL, 0, ctx) : 0;
		if (rc)
			return rc;
		len = 0;
		too_long = false;
		if (!*p)
			return 0;
	}
}

/* Whether c continues a word of the original text: a letter, a digit, or a combining mark. */
static gboolean fold_word_char(gunichar c)
{
	return g_unichar_isalnum(c) || g_unichar_ismark(c);
}

/* Calls on_run for each longest run of characters of text (valid UTF-8) that in_run accepts. */
static int fold_each_run(const char *text, gboolean (*in_run)(gunichar),
			 int (*on_run)(const char *run, size_t len, void *ctx), void *ctx)
{
	int rc = 0;
	const char *start = NULL;
	for (const char *p = text; !rc; p = g_utf8_next_char(p)) {
		bool inside = *p && in_run(g_utf8_get_char(p));
		if (inside && !start)
			start = p;
		if (!inside && start) {
			rc = on_run(start, (size_t)(p - start), ctx);
			start = NULL;
		}
		if (!*p)
			break;
	}
	return rc;
}

/* One word being split into terms: its form (when kept) and where the terms go. */
struct fold_word {
	const char *form; /* NULL when folding changed only the case */
	size_t form_len;
	db_term_fn fn;
	void *ctx;
};

static int fold_word_term(const char *term, size_t len, void *arg)
{
	const struct fold_word *w = arg;
	return len <= DB_TERM_MAX ? w->fn(term, len, w->form, w->form_len, w->ctx) : 0;
}

/*
 * The terms of one word of the original text (a run of fold_word_char, form_len bytes): folded,
 * then split again on what folding left that is not a letter or digit. Each term is given the
 * word as its form when folding changed more than the case (see db_term_fn).
 */
static int fold_terms_word(const char *form, size_t form_len, void *arg)
{
	const struct fold_word *outer = arg;
	char *word = g_strndup(form, form_len);
	if (fold_is_ascii(word)) { /* an ASCII word in other text: only its case can change */
		int rc = fold_terms_ascii(word, outer->fn, outer->ctx);
		g_free(word);
		return rc;
	}
	char *folded = db_fold(word);
	char *lower = g_utf8_strdown(word, -1);
	g_free(word);
	int rc = -1;
	if (folded) {
		bool keep_form = strcmp(folded, lower) != 0;
		struct fold_word w = {.form = keep_form ? form : NULL,
				      .form_len = keep_form ? form_len : 0,
				      .fn = outer->fn,
				      .ctx = outer->ctx};
		rc = fold_each_run(folded, g_unichar_isalnum, fold_word_term, &w);
	}
	free(folded);
	g_free(lower);
	return rc;
}

int db_fold_terms(const char *text, db_term_fn fn, void *ctx)
{
	if (!text)
		return 0;
	if (fold_is_ascii(text))
		return fold_terms_ascii(text, fn, ctx);
	if (!g_utf8_validate(text, -1, NULL))
		return -1;
	/* composed, so that a form is written as the full-text tokenizer and people see it */
	char *nfc = g_utf8_normalize(text, -1, G_NORMALIZE_NFC);
	if (!nfc)
		return -1;
	struct fold_word words = {.fn = fn, .ctx = ctx};
	int rc = fold_each_run(nfc, fold_word_char, fold_terms_word, &words);
	g_free(nfc);
	return rc;
}
