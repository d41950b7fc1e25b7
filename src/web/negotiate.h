/*
 * negotiate.h: whether a client wants a page or the JSON, from its Accept header (RFC 9110
 * §12.5.1), so that browsers get HTML and IIIF clients keep getting JSON at the same URL.
 */
#ifndef IIIFD_WEB_NEGOTIATE_H
#define IIIFD_WEB_NEGOTIATE_H

#include <stdbool.h>

/*
 * True only when text/html (or application/xhtml+xml) is listed with a q above that of every
 * JSON type the client accepts (application/json, application/ld+json and the wildcards
 * "application/" + "*" and "*" + "/" + "*"). No header, a lone wildcard, ties and malformed values all mean JSON: IIIF clients never get a page by
 * accident.
 */
bool negotiate_prefers_html(const char *accept);

#endif
