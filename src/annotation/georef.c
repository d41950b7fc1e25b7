/*
 * georef.c: Georeference Annotations of the write API. The record's text holds the annotation
 * as maps_annotation_json() served it when it was written; it is parsed again to be served, so
 * the Canvas page, the container and the annotation's own URL give the same JSON.
 */
#include "annotation/georef.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/webanno.h"
#include "core/log.h"
#include "maps/serve.h"

bool anno_georef_is(const json_t *doc)
{
	const char *m = json_string_value(json_object_get(doc, "motivation"));
	return m && strcmp(m, ANNO_GEOREF_MOTIVATION) == 0;
}

bool anno_georef_record(const struct anno_record *r)
{
	return r->motivation && strcmp(r->motivation, ANNO_GEOREF_MOTIVATION) == 0;
}

/* The Canvas n of idx as maps/serve.h takes it; canvas_id is g_free'd by the caller. */
static struct maps_canvas anno_georef_canvas(const struct pres_canvas_index *idx, size_t n)
{
	const struct pres_canvas_ref *ref = &idx->items[n - 1];
	return (struct maps_canvas){ .canvas_id = g_strdup_printf("%s/canvas/%zu",
								  idx->manifest_id, n),
				     .manifest_id = idx->manifest_id,
				     .width = (double)ref->width,
				     .height = (double)ref->height };
}

/* The Canvas the annotation's target names (a URL, {id} or a SpecificResource's source). */
static int anno_georef_target(const json_t *doc, const struct pres_canvas_index *idx, size_t *n,
			      struct iiifd_error *err)
{
	const json_t *t = json_object_get(doc, "target");
	if (json_is_object(t) && json_object_get(t, "source"))
		t = json_object_get(t, "source");
	const char *url = json_is_object(t) ? json_string_value(json_object_get(t, "id"))
					    : json_string_value(t);
	const char *fragment = NULL;
	if (!url)
		return iiifd_error_set(err, 400, "$.target: must name a Canvas of this Manifest");
	if (webanno_canvas(url, idx, n, &fragment, err) < 0)
		return -1;
	if (fragment)
		return iiifd_error_set(err, 400, "$.target: a Georeference Annotation targets the "
						 "whole Canvas (its mask goes in an SvgSelector), "
						 "not '#%s'", fragment);
	const struct pres_canvas_ref *ref = &idx->items[*n - 1];
	if (ref->width <= 0 || ref->height <= 0 || ref->duration > 0)
		return iiifd_error_set(err, 400, "$.target: '%s' is not an image Canvas", url);
	return 0;
}

int anno_georef_from_json(const json_t *doc, const struct pres_canvas_index *idx,
			  struct anno_record *rec, struct iiifd_error *err)
{
	memset(rec, 0, sizeof *rec);
	const char *type = json_string_value(json_object_get(doc, "type"));
	size_t n = 0;
	if (!type || strcmp(type, "Annotation") != 0)
		return iiifd_error_set(err, 400, "$.type: must be \"Annotation\"");
	if (anno_georef_target(doc, idx, &n, err) < 0)
		return -1;
	struct maps_georef g;
	struct maps_error merr;
	char msg[512];
	maps_georef_init(&g);
	if (maps_parse_annotation_json(doc, &g, &merr) < 0) {
		maps_error_format(&merr, "Georeference Annotation", msg, sizeof msg);
		return iiifd_error_set(err, 400, "%s", msg);
	}
	struct maps_canvas cv = anno_georef_canvas(idx, n);
	json_t *served = maps_annotation_json(&g, &cv);
	const struct pres_canvas_ref *ref = &idx->items[n - 1];
	rec->target_file = strdup(ref->file);
	rec->page = ref->page;
	rec->motivation = strdup(ANNO_GEOREF_MOTIVATION);
	rec->text = json_dumps(served, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(served);
	g_free((char *)cv.canvas_id);
	maps_georef_release(&g);
	return 0;
}

json_t *anno_georef_to_json(const struct anno_record *r, const struct pres_canvas_index *idx,
			    size_t n, const char *id)
{
	struct maps_georef g;
	struct maps_error merr = { 0 };
	maps_georef_init(&g);
	if (!r->text || maps_parse_annotation(r->text, strlen(r->text), &g, &merr) < 0) {
		log_warn("%s: stored georeferencing not served: %s", id, merr.msg);
		return NULL;
	}
	struct maps_canvas cv = anno_georef_canvas(idx, n);
	json_t *a = maps_annotation_json_as(&g, &cv, id);
	g_free((char *)cv.canvas_id);
	maps_georef_release(&g);
	return a;
}
