/*
 * html.h: making text safe in HTML pages: escaping for text and attribute values, and the
 * sanitizer for the HTML that Presentation 3.0 §4.5 lets summary, metadata values and
 * requiredStatement carry (only a, b, br, i, img, p, small, span, sub, sup survive).
 */
#ifndef IIIFD_CORE_HTML_H
#define IIIFD_CORE_HTML_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Appends s with & < > " ' escaped: safe in text and in quoted attribute values. */
void html_escape(GString *out, const char *s);
/* The same for the first n bytes of s. */
void html_escape_len(GString *out, const char *s, size_t n);

/* Whether a value is to be read as HTML (§4.5: its first byte is '<' and its last '>'). */
bool html_is_markup(const char *s);

/*
 * Appends the markup s reduced to what §4.5 allows: the ten tags above (lower-cased), href on a
 * (http, https or mailto only, entities decoded before the check), src (http or https) and alt
 * on img; every other tag dropped (script, style and similar with their content), comments,
 * CDATA, processing instructions and doctypes removed, text escaped, and every tag opened here
 * closed here, so the result nests well whatever surrounds it. Returns how many tags,
 * attributes and other constructs were left out (0: nothing but spelling changed).
 */
int html_sanitize(GString *out, const char *s);

/* The text of markup s, tags removed and character references decoded (g_free). */
char *html_to_text(const char *s);

/* A property value: html_sanitize() when html_is_markup(), else html_escape(). */
void html_value(GString *out, const char *s);

/*
 * Whether url may be a link target (http:, https:, mailto:) or, with image_only, an image
 * source (http:, https:): the scheme compared without case, no control characters or spaces.
 */
bool html_url_is_safe(const char *url, bool image_only);

#endif
