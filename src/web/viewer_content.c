/*
 * viewer_content.c: a IIIF Content State given to a viewer page (docs/content-state.md): read from
 * ?iiif-content= (GET: a URI as it is, JSON content-state-encoded) or a POST (a form field or a
 * JSON body, never encoded, §3.2), checked against this server and content-state-origins, and
 * turned into the page's settings. A refused state gets a page with its reason as plain text.
 */
#include "web/viewer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/html.h"
#include "core/strings.h"

/* The value of field name in an application/x-www-form-urlencoded body: g_free, or NULL. */
static char *viewer_form_field(const char *body, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = body, *end = body + len; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t flen = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (flen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			char *raw = g_strndup(p + nlen + 1, flen - nlen - 1);
			char *out = g_malloc(flen + 1);
			int n = strings_form_decode(raw, out, flen + 1);
			g_free(raw);
			if (n >= 0)
				return out;
			g_free(out);
			return NULL;
		}
		p += flen + 1;
	}
	return NULL;
}

/* The unencoded content state a POST carries (§3.2): g_free, NULL when none, -1 on a bad one. */
static int viewer_posted_state(const struct http_request *req, char **out,
			       struct iiifd_error *err)
{
	*out = NULL;
	if (strcmp(req->method, "POST") != 0)
		return 0;
	if (req->body_too_large)
		return iiifd_error_set(err, 413, "iiif-content: over %d bytes", CONTENT_STATE_MAX);
	const char *type = http_request_header(req, "Content-Type");
	if (!req->body || !req->body_len)
		return iiifd_error_set(err, 400, "iiif-content: the POST has no content state");
	if (type && g_ascii_strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
		if (!(*out = viewer_form_field(req->body, req->body_len, "iiif-content")))
			return iiifd_error_set(err, 400, "iiif-content: the form has no iiif-content "
							 "field (or a bad %%-escape in it)");
		return 0;
	}
	if (strlen(req->body) != req->body_len)
		return iiifd_error_set(err, 400, "iiif-content: NUL in the body");
	*out = g_strndup(req->body, req->body_len); /* application/json (§3.2), or text */
	return 0;
}

/* The page's fields from the state's first view. */
static void viewer_first_view(const struct content_state *st, struct web_viewer_params *p)
{
	if (st->n == 0)
		return;
	const struct content_state_view *v = &st->views[0];
	p->manifest = v->manifest;
	p->canvas = v->canvas[0] ? v->canvas : NULL;
	p->has_xywh = v->has_xywh;
	memcpy(p->xywh, v->xywh, sizeof p->xywh);
}

int web_viewer_content(const struct iiifd_config *cfg, const struct http_request *req,
		       const char *base, struct content_state *st, struct web_viewer_params *p,
		       struct iiifd_error *err)
{
	struct content_state_scope scope = { .base = base, .origins = cfg->content_state_origins };
	char *posted = NULL, *arg = NULL;
	int rc = viewer_posted_state(req, &posted, err);
	if (rc == 0 && posted) /* §3.2: plain, never content-state-encoded */
		rc = content_state_parse(posted, strlen(posted), &scope, st, err);
	else if (rc == 0 && (rc = http_request_arg_checked(req, "iiif-content", &arg, err)) == 0 &&
		 arg)
		rc = content_state_read_param(arg, &scope, st, err);
	bool given = posted || arg;
	g_free(posted);
	free(arg);
	if (rc < 0)
		return -1;
	if (!given)
		return 0;
	viewer_first_view(st, p);
	p->state = st;
	return 1;
}

static json_t *viewer_view_json(const struct content_state_view *v)
{
	json_t *o = json_pack("{s:s}", "manifest", v->manifest);
	if (v->collection)
		json_object_set_new(o, "collection", json_true());
	if (v->canvas[0])
		json_object_set_new(o, "canvas", json_string(v->canvas));
	if (v->range[0])
		json_object_set_new(o, "range", json_string(v->range));
	if (v->has_xywh)
		json_object_set_new(o, "xywh", json_pack("[f,f,f,f]", v->xywh[0], v->xywh[1],
							 v->xywh[2], v->xywh[3]));
	if (v->has_t)
		json_object_set_new(o, "t", json_pack("[f,f]", v->t[0], v->t[1]));
	return o;
}

void web_viewer_state_config(json_t *config, const struct content_state *st)
{
	if (st->resolve[0]) {
		json_object_set_new(config, "resolve", json_string(st->resolve));
		return;
	}
	json_t *first = viewer_view_json(&st->views[0]);
	json_object_update_missing(config, first); /* t, range, collection */
	json_decref(first);
	if (st->n > 1) {
		json_t *views = json_array();
		for (size_t i = 0; i < st->n; i++)
			json_array_append_new(views, viewer_view_json(&st->views[i]));
		json_object_set_new(config, "views", views);
	}
}

char *web_viewer_refusal_page(const char *reason)
{
	GString *h = g_string_new("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
				  "<title>This view cannot be opened - iiifd</title></head>\n<body>\n"
				  "<main>\n<h1>This view cannot be opened</h1>\n<p id=\"reason\">");
	html_escape(h, reason);
	g_string_append(h, "</p>\n<p>A link to a viewer carries what to show in "
			   "<code>iiif-content</code> (a IIIF Content State). This one was refused; "
			   "the reason above says why.</p>\n</main>\n</body>\n</html>\n");
	char *page = strdup(h->str);
	g_string_free(h, TRUE);
	return page;
}
