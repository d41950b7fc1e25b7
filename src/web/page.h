/*
 * page.h: what every HTML page shares: the document frame (head, skip link, landmarks), the
 * security headers, language map output in the browser's language, links between pages, and
 * the parts common to Collection and Manifest pages (properties, IIIF links, search box,
 * paging).
 */
#ifndef IIIFD_WEB_PAGE_H
#define IIIFD_WEB_PAGE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "http/message.h"
#include "web/lang.h"

/* Sent with every page (docs/web.md explains each directive). */
#define PAGE_CSP                                                                                \
	"default-src 'self'; img-src 'self' data: https: http:; script-src 'self'; "           \
	"style-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "             \
	"form-action 'self'; frame-ancestors 'self'"

struct page {
	GString *html;                    /* owned: the page being written */
	const struct http_request *req;   /* borrowed */
	const struct iiifd_config *cfg;   /* borrowed */
	struct lang_list langs;
	char origin[900]; /* absolute base URL of this server, no trailing slash */
	char prefix[512]; /* its path ("" or "/prefix"): links between pages are path-absolute */
};

/* Prepares pg for req; origin as every absolute URL iiifd writes. Release with page_release. */
void page_init(struct page *pg, const struct iiifd_config *cfg, const char *fallback_host,
	       const struct http_request *req);
void page_release(struct page *pg);

/* Opens the document: head with title (plain text, escaped here), header, <main>. */
void page_begin(struct page *pg, const char *title);
/* Closes <main> and the document. */
void page_end(struct page *pg);

/* Sends the page: status, Content-Type, CSP and the other headers, ETag/304; takes the html. */
void page_respond(struct page *pg, struct http_response *resp, int status);

/* A whole error page (status, a message in plain text, escaped) sent as resp. */
void page_error(struct page *pg, struct http_response *resp, int status, const char *message);

/* ---- language maps --------------------------------------------------------------------- */

/* The values of map in the browser's language joined with "; ", plain text (g_free), or NULL. */
char *page_plain(const struct page *pg, const json_t *map);
/* The same, escaped, in a <span lang> when the language is known. */
void page_text(struct page *pg, const json_t *map);
/* Values that may be HTML (summary, metadata values, requiredStatement): sanitized. */
void page_markup(struct page *pg, const json_t *map);

/* ---- links ----------------------------------------------------------------------------- */

/*
 * The part of a Presentation id of this server after /iiif/presentation/ ("books/collection"),
 * borrowed from id, or NULL when id is not one of ours.
 */
const char *page_pres_path(const struct page *pg, const char *id);
/* Appends the path-absolute page URL for such a path ("/" for the root Collection). */
void page_view_url(const struct page *pg, GString *out, const char *pres_path);
/* Appends s %-encoded for a query value (everything but unreserved characters). */
void page_query_escape(GString *out, const char *s);
/* Appends an attribute value URL, escaped, but only when html_url_is_safe (else "#"). */
void page_attr_url(GString *out, const char *url, bool image);

/* ---- shared sections ------------------------------------------------------------------- */

/* Home / folder / folder / this: the folders of pres_path, each a link to its Collection page. */
void page_breadcrumbs(struct page *pg, const char *pres_path, const char *current);
/* The summary, sanitized. */
void page_summary(struct page *pg, const json_t *doc);
/* The About section: metadata, requiredStatement, rights, provider, homepage,
 * rendering, navDate of doc. */
void page_properties(struct page *pg, const json_t *doc);
/* The IIIF section: JSON URL with its copy button, drag-and-drop link. */
void page_iiif_links(struct page *pg, const char *id, bool collection);
/* The search box (GET to action, field q with its current value). */
void page_search_form(struct page *pg, const char *action, const char *q, const char *scope);
/* Previous / next links and "page n of m" (pages from 1), to base?page=n (base has no query). */
void page_pager(struct page *pg, const char *base, const char *extra_query, long page,
		long pages);
/* The first thumbnail id of a resource, borrowed, or NULL. */
const char *page_thumbnail(const json_t *resource);

#endif
