/*
 * search_match.h: where a search's words occur in an annotation's text (folded for case and
 * diacritics, at word boundaries), and which OCR word boxes such an occurrence covers, so a hit
 * can point at the matched words rather than the whole line.
 */
#ifndef IIIFD_ANNOTATION_SEARCH_MATCH_H
#define IIIFD_ANNOTATION_SEARCH_MATCH_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "annotation/record.h"

/* Characters of context on each side of a match (prefix and suffix). */
#define SEARCH_MATCH_CONTEXT_CHARS 40

/* text folded for case and diacritics, with the byte offset in text of each folded byte */
struct search_folded {
	GString *text;
	GArray *origin; /* size_t per byte of text, plus one for its end */
};

void search_fold(const char *text, struct search_folded *f);
void search_folded_release(struct search_folded *f);

/* The query's words and "quoted phrases", folded (g_strfreev). */
gchar **search_terms(const char *q);

struct search_match {
	char *prefix, *exact, *suffix; /* g_malloc'd, from the original text */
	size_t start, end;             /* byte offsets of exact in the original text */
};

/*
 * The occurrences of a folded term in text (f: text folded), at word boundaries, in order; at
 * most max of them go to out. Returns how many were stored; release each with
 * search_match_release().
 */
size_t search_locate(const char *text, const struct search_folded *f, const char *term,
		     struct search_match *out, size_t max);
void search_match_release(struct search_match *m);

/*
 * The union (x, y, w, h) of the boxes of the words that bytes [start, end) of a line's text
 * cover, words being the line's word records in reading order (each found in the text after the
 * one before). False when no word with a box covers that span.
 */
bool search_words_box(const char *line_text, const struct anno_list *words, size_t start,
		      size_t end, double box[4]);

/* The same for timed words (transcripts): the span (start, end) in seconds they cover. */
bool search_words_time(const char *line_text, const struct anno_list *words, size_t start,
		       size_t end, double span[2]);

#endif
