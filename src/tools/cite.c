/*
 * cite.c: `iiifd cite`: a content state for a citation: the target (a Canvas with #xywh= or #t=,
 * partOf its Manifest), a link to the viewer with it content-state-encoded, and the full
 * Annotation as JSON. Works on URLs alone: iiifd names a Manifest's pages {manifest}/canvas/N.
 */
#include "tools/cite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "contentstate/content_state.h"
#include "tools/cli.h"
#include "web/viewer.h"

#define CITE_PRES "/iiif/presentation/"

/* Fills v's Manifest and Canvas from the URL and --canvas; 0 or -1 with a message. */
static int cite_target(const struct tools_cite_args *a, struct content_state_view *v,
		       struct iiifd_error *err)
{
	const char *canvas_at = strstr(a->url, "/canvas/");
	int page = 1;
	if (a->canvas && tools_cli_int("canvas", a->canvas, 1, 1000000, &page, err) < 0)
		return -1;
	if (canvas_at) { /* a Canvas URL: its Manifest is what comes before /canvas/ */
		if (a->canvas)
			return iiifd_error_set(err, 400, "--canvas: the URL names a Canvas already");
		g_strlcpy(v->manifest, a->url, (size_t)(canvas_at - a->url) + 1);
		g_strlcpy(v->canvas, a->url, sizeof v->canvas);
	} else {
		g_strlcpy(v->manifest, a->url, sizeof v->manifest);
		if (a->canvas || a->region || a->time)
			snprintf(v->canvas, sizeof v->canvas, "%s/canvas/%d", a->url, page);
	}
	if (!g_str_has_suffix(v->manifest, "/manifest") || !strstr(v->manifest, CITE_PRES) ||
	    strncmp(v->manifest, "http", 4) != 0)
		return iiifd_error_set(err, 400, "URL: give a Manifest or Canvas URL of iiifd "
						 "(https://host/iiif/presentation/.../manifest)");
	return 0;
}

char *tools_cite_text(const struct tools_cite_args *a, struct iiifd_error *err)
{
	struct content_state_view v = { .has_xywh = false };
	const char *viewer = a->viewer ? a->viewer : "mirador";
	if (web_viewer_kind_parse(viewer) < 0) {
		iiifd_error_set(err, 400, "--viewer: mirador, uv, clover or tify");
		return NULL;
	}
	if (cite_target(a, &v, err) < 0)
		return NULL;
	if (a->region && content_state_parse_xywh(a->region, v.xywh) < 0) {
		iiifd_error_set(err, 400, "--region: x,y,w,h (numbers, w and h above 0)");
		return NULL;
	}
	v.has_xywh = a->region != NULL;
	if (a->time && content_state_parse_t(a->time, v.t) < 0) {
		iiifd_error_set(err, 400, "--time: a or a,b in seconds (or h:mm:ss)");
		return NULL;
	}
	v.has_t = a->time != NULL;
	json_t *target = content_state_target(&v);
	char *enc = content_state_encode_json(target); /* the compact target (§3.1: SHOULD) */
	json_t *anno = content_state_annotation(target, NULL);
	char *json = json_dumps(anno, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	const char *pres = strstr(v.manifest, CITE_PRES);
	char *text = enc && json ? g_strdup_printf("%.*s/viewer/%s?iiif-content=%s\n%s\n",
						   (int)(pres - v.manifest), v.manifest, viewer, enc,
						   json)
				 : NULL;
	free(enc);
	free(json);
	json_decref(anno);
	char *out = text ? strdup(text) : NULL;
	g_free(text);
	if (!out)
		iiifd_error_set(err, 500, "out of memory");
	return out;
}

int tools_cite_main(int argc, char **argv)
{
	struct tools_cite_args a = { 0 };
	const char *pos[1];
	const struct tools_cli_flag flags[] = {
		{ .name = "region", .value = &a.region }, { .name = "canvas", .value = &a.canvas },
		{ .name = "time", .value = &a.time },     { .name = "viewer", .value = &a.viewer },
		{ .name = NULL },
	};
	struct iiifd_error err = { 0 };
	int rc = tools_cli_parse(argc, argv, flags, pos, 1, &err);
	if (rc != 0) {
		fprintf(rc > 0 ? stdout : stderr,
			"%s%susage: iiifd cite URL [--region x,y,w,h] [--canvas N | --time a,b] "
			"[--viewer mirador|uv|clover|tify]\n",
			rc > 0 ? "" : err.msg, rc > 0 ? "" : "\n");
		return rc > 0 ? 0 : 2;
	}
	a.url = pos[0];
	char *text = tools_cite_text(&a, &err);
	if (!text) {
		fprintf(stderr, "iiifd cite: %s\n", err.msg);
		return 2;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}
