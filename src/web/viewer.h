/*
 * viewer.h: the IIIF viewers iiifd serves itself (Mirador 4, Universal Viewer 4, Clover, TIFY), as
 * /viewer/{mirador|uv|clover|tify}?manifest=URL[&canvas=ID][&xywh=x,y,w,h][&q=words] or
 * ?iiif-content=STATE pages (GET or POST, docs/content-state.md) and their static files under
 * /viewer/assets/ (installed by scripts/install-web; see docs/viewers.md).
 */
#ifndef IIIFD_WEB_VIEWER_H
#define IIIFD_WEB_VIEWER_H

#include <stddef.h>

#include <jansson.h>

#include "core/config.h"
#include "core/error.h"
#include "contentstate/content_state.h"
#include "http/message.h"

enum web_viewer_kind { WEB_VIEWER_MIRADOR, WEB_VIEWER_UV, WEB_VIEWER_CLOVER, WEB_VIEWER_TIFY };

/* What a viewer page opens: strings are borrowed; canvas, xywh and q may be NULL. */
struct web_viewer_params {
	enum web_viewer_kind kind;
	const char *manifest; /* absolute URL of a Manifest of this server */
	const char *canvas;   /* a Canvas id of that Manifest */
	double xywh[4];       /* a region of the Canvas to show, when has_xywh */
	int has_xywh;
	const char *q;        /* words to search for on opening (viewers that can) */
	/* from an iiif-content content state (docs/content-state.md), else NULL: its first view
	 * is the fields above; the page also gets its time, Range, further views and resolve */
	const struct content_state *state;
};

/* "mirador" -> WEB_VIEWER_MIRADOR ...; -1 for an unknown name. */
int web_viewer_kind_parse(const char *name);

/*
 * The HTML page for p, its scripts at "assets/..." relative to the page (so it works below any
 * public-url prefix), each with "?v=version" to make them cacheable for long. Returns a
 * malloc'd NUL-terminated page (caller frees), or NULL with a 500 on overflow.
 */
char *web_viewer_page(const struct web_viewer_params *p, const char *version,
		      struct iiifd_error *err);

/*
 * The Content-Security-Policy header value of a viewer's page, with origins
 * (content-state-origins: space-separated, checked here; may be NULL) allowed where the viewers
 * fetch Manifests, images and media. malloc'd (caller frees).
 */
char *web_viewer_csp_for(enum web_viewer_kind kind, const char *origins);

/*
 * Reads a content state given to a viewer page (iiif-content by GET, or by POST as a form field
 * or a JSON body, never encoded there) into st, and p's fields from its first view (strings
 * borrowed from st). 1 when there was one, 0 when not, -1 with a 400 (docs/content-state.md).
 */
int web_viewer_content(const struct iiifd_config *cfg, const struct http_request *req,
		       const char *base, struct content_state *st, struct web_viewer_params *p,
		       struct iiifd_error *err);

/*
 * Adds to a page's settings what a content state asks beyond its first view's Manifest, Canvas
 * and region: "t" [start, end or -1], "range", "views" (every view, when several: Mirador opens
 * them side by side) and "resolve" (a URI the page fetches and reads as a content state).
 */
void web_viewer_state_config(json_t *config, const struct content_state *st);

/* The HTML page of a refused content state (400): the reason as text, nothing else. malloc'd. */
char *web_viewer_refusal_page(const char *reason);

/*
 * Parses "x,y,w,h" (plain non-negative decimals, w and h > 0) into out. Returns 0, or -1 with
 * a 400 naming the parameter.
 */
int web_viewer_parse_xywh(const char *s, double out[4], struct iiifd_error *err);

/*
 * Checks that manifest is a URL of this server: an absolute http(s) URL starting with base
 * (this server's base URL, no trailing slash) followed by '/', or a path starting with '/'.
 * Writes the absolute URL into out (size n). 0, or -1 with a 400.
 */
int web_viewer_own_url(const char *manifest, const char *base, char *out, size_t n,
		       struct iiifd_error *err);

/*
 * The folder of static files (realpath) into out (size n): cfg->web_assets_dir when set, else
 * the first folder that exists of <binary>/../web/assets (a build tree: build/asan/iiifd ->
 * build/web/assets), <binary>/../share/iiifd/web (installed), /usr/share/iiifd/web.
 * Returns 0, or -1 when none exists.
 */
int web_viewer_assets_dir(const struct iiifd_config *cfg, char *out, size_t n);

/*
 * Answers GET/HEAD /viewer/{rest}: the pages and /viewer/assets/{file}. When the viewers are
 * not installed, the pages are a 503 HTML page saying how to install them.
 */
void web_viewer_handle(const struct iiifd_config *cfg, const char *rest,
		       const struct http_request *req, struct http_response *resp);

#endif
