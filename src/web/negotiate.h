/*
 * negotiate.h: whether a client wants a page or the JSON, from its Accept header (RFC 9110
 * §12.5.1), so that browsers get HTML and IIIF clients keep getting JSON at the same URL.
 */
#ifndef IIIFD_WEB_NEGOTIATE_H
#define IIIFD_WEB_NEGOTIATE_H

#include <stdbool.h>

/*
 * True only when text/html (or application/xhtml+xml) gets a higher quality than both
 * application/json and application/ld+json (each by its most specific matching entry, so the
 * wildcards count). No header, a lone wildcard, ties and malformed q values all mean JSON:
 * IIIF clients never get a page by accident.
 */
bool negotiate_prefers_html(const char *accept);

#endif
