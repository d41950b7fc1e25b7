/*
 * fold.c: case and diacritic folding for autocomplete terms ("Café" -> "cafe"), and splitting text
 * into folded terms the way the full-text tokenizer (unicode61, remove_diacritics 2) roughly does.
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
static int fold_terms_ascii(const char *text, int (*fn)(const char *, size_t, void *), void *ctx)
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
		int rc = len && !too_long ? fn(term, len, ctx) : 0;
		if (rc)
			return rc;
		len = 0;
		too_long = false;
		if (!*p)
			return 0;
	}
}

int db_fold_terms(const char *text, int (*fn)(const char *term, size_t len, void *ctx),
		  void *ctx)
{
	if (!text)
		return 0;
	if (fold_is_ascii(text))
		return fold_terms_ascii(text, fn, ctx);
	char *folded = db_fold(text);
	if (!folded)
		return -1;
	int rc = 0;
	const char *start = NULL;
	for (const char *p = folded; !rc; p = g_utf8_next_char(p)) {
		bool word = *p && g_unichar_isalnum(g_utf8_get_char(p));
		if (word && !start)
			start = p;
		if (!word && start) {
			size_t len = (size_t)(p - start);
			rc = len <= DB_TERM_MAX ? fn(start, len, ctx) : 0;
			start = NULL;
		}
		if (!*p)
			break;
	}
	free(folded);
	return rc;
}
