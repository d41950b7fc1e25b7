/*
 * labelstudio.c: Label Studio's JSON export (a list of tasks, each an image in data with its
 * annotations and predictions) to "tagging" records: rectangles (rotation turns them into
 * outlines), polygons, and whole-image choices, coordinates in percent of the image. A
 * prediction's model_version is its generator and its score the score of results without one.
 */
#include "annotation/importers.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/import_json.h"
#include "annotation/polygon.h"

struct ls {
	struct import_state *st;
	anno_resolve_fn resolve;
	void *ctx;
	struct anno_target target; /* of the task being read */
	const char *generator;     /* of the prediction being read */
	double score;              /* of the prediction being read, -1: none */
	char path[160];            /* of the result being read */
};

/* The task's image: data.image (or the first string in data), by its file name. */
static int ls_image(struct ls *l, const json_t *task, size_t i)
{
	json_t *data = json_object_get(task, "data");
	const char *url = import_json_string(data, "image"), *k;
	json_t *v;
	if (!url && json_is_object(data))
		json_object_foreach(data, k, v)
			if ((url = json_string_value(v)))
				break;
	if (!url)
		return import_fail(l->st, 0, "[%zu].data: no image", i);
	const char *slash = strrchr(url, '/'), *name = slash ? slash + 1 : url;
	char *clean = g_uri_unescape_string(name, NULL);
	const char *dash = clean ? strchr(clean, '-') : NULL;
	/* uploads are named "<8 hex digits>-<original name>" */
	int rc = clean ? l->resolve(l->ctx, clean, &l->target) : -1;
	if (rc != 0 && dash && dash - clean == 8)
		rc = l->resolve(l->ctx, dash + 1, &l->target);
	g_free(clean);
	if (rc != 0 || !l->target.file || l->target.width <= 0 || l->target.height <= 0)
		return import_fail(l->st, 0, "[%zu].data.image '%.80s': no such image next to the "
					     "file", i, name);
	return 0;
}

/* The first label of value (rectanglelabels, polygonlabels, labels, choices). */
static const char *ls_label(const json_t *value, const char *type)
{
	json_t *labels = json_object_get(value, type);
	if (!labels)
		labels = json_object_get(value, "labels");
	return json_string_value(json_array_get(labels, 0));
}

/* A rectangle in percent, rotated by degrees about its top-left corner, as an outline. */
static int ls_rectangle(struct ls *l, const json_t *value, struct polygon_builder *b)
{
	double v[5] = {0, 0, 0, 0, 0};
	static const char *const keys[] = {"x", "y", "width", "height", "rotation"};
	for (int k = 0; k < 5; k++) {
		int rc = import_json_number(l->st, value, keys[k], l->path, k < 2 ? -1e3 : 0,
					    k < 4 ? 1e3 : 360, &v[k]);
		if (rc < 0 || (rc == 0 && k < 4))
			return rc < 0 ? -1
				      : import_fail(l->st, 0, "%s.%s: missing", l->path, keys[k]);
	}
	double cw = (double)l->target.width, ch = (double)l->target.height;
	double a = v[4] * M_PI / 180, co = cos(a), si = sin(a);
	double x = v[0] * cw / 100, y = v[1] * ch / 100, w = v[2] * cw / 100, h = v[3] * ch / 100;
	double corners[4][2] = {{0, 0}, {w, 0}, {w, h}, {0, h}};
	polygon_ring_start(b);
	for (int i = 0; i < 4; i++)
		polygon_point(b, x + corners[i][0] * co - corners[i][1] * si,
			      y + corners[i][0] * si + corners[i][1] * co, cw, ch);
	return 0;
}

static int ls_polygon(struct ls *l, const json_t *value, struct polygon_builder *b)
{
	json_t *points = json_object_get(value, "points"), *p;
	size_t i;
	double cw = (double)l->target.width, ch = (double)l->target.height;
	if (!json_is_array(points))
		return import_fail(l->st, 0, "%s.points: not an array", l->path);
	polygon_ring_start(b);
	json_array_foreach(points, i, p) {
		json_t *x = json_array_get(p, 0), *y = json_array_get(p, 1);
		if (!json_is_number(x) || !json_is_number(y) || json_array_size(p) != 2)
			return import_fail(l->st, 0, "%s.points[%zu]: not [x, y]", l->path, i);
		if (polygon_point(b, json_number_value(x) * cw / 100, json_number_value(y) * ch / 100,
				  cw, ch) < 0)
			return import_fail(l->st, 0, "%s.points: too many", l->path);
	}
	return 0;
}

static int ls_add(struct ls *l, const char *label, char *polygon, const double box[4],
		  double score)
{
	return import_add_detection(l->st, 0, &l->target, label, box, polygon, score, l->generator);
}

static int ls_result(struct ls *l, const json_t *r)
{
	const char *type = import_json_string(r, "type");
	json_t *value = json_object_get(r, "value");
	if (!json_is_object(r) || !type || !json_is_object(value))
		return import_fail(l->st, 0, "%s: not a result with type and value", l->path);
	bool rect = strcmp(type, "rectanglelabels") == 0, poly = strcmp(type, "polygonlabels") == 0;
	bool choice = strcmp(type, "choices") == 0;
	if (!rect && !poly && !choice)
		return 0; /* keypoints, text areas, relations...: not regions iiifd keeps */
	const char *label = ls_label(value, type);
	double score = l->score;
	int has = import_json_number(l->st, r, "score", l->path, 0, 1, &score);
	if (has < 0)
		return -1;
	size_t plen = strlen(l->path); /* value's members are named from here on */
	snprintf(l->path + plen, sizeof l->path - plen, ".value");
	if (!label || !*label)
		return import_fail(l->st, 0, "%s.%s: no label", l->path, type);
	if (choice)
		return ls_add(l, label, NULL, NULL, has ? score : l->score);
	struct polygon_builder b = {0};
	if ((rect ? ls_rectangle(l, value, &b) : ls_polygon(l, value, &b)) < 0) {
		polygon_builder_release(&b);
		return -1;
	}
	double box[4];
	char *polygon = polygon_finish(&b, box);
	if (!polygon) {
		import_drop(l->st, 0);
		return 0;
	}
	box[2] -= box[0], box[3] -= box[1];
	bool axis_aligned = rect && !json_number_value(json_object_get(value, "rotation"));
	if (axis_aligned) { /* a plain box needs no outline */
		free(polygon);
		polygon = NULL;
	}
	return ls_add(l, label, polygon, box, has ? score : l->score);
}

/* The results of one element of annotations or predictions. */
static int ls_results(struct ls *l, const json_t *a, const char *where)
{
	json_t *results = json_object_get(a, "result"), *r;
	size_t k;
	if (!json_is_object(a) || !json_is_array(results))
		return import_fail(l->st, 0, "%s: no \"result\" array", where);
	json_array_foreach(results, k, r) {
		snprintf(l->path, sizeof l->path, "%s.result[%zu]", where, k);
		if (ls_result(l, r) < 0)
			return -1;
	}
	return 0;
}

static int ls_task(struct ls *l, const json_t *task, size_t i)
{
	static const char *const lists[] = {"annotations", "predictions"};
	if (!json_is_object(task))
		return import_fail(l->st, 0, "[%zu]: not a task object", i);
	if (ls_image(l, task, i) < 0)
		return -1;
	for (int p = 0; p < 2; p++) {
		json_t *list = json_object_get(task, lists[p]), *a;
		size_t j;
		if (list && !json_is_array(list))
			return import_fail(l->st, 0, "[%zu].%s: not an array", i, lists[p]);
		json_array_foreach(list, j, a) {
			char where[96];
			snprintf(where, sizeof where, "[%zu].%s[%zu]", i, lists[p], j);
			l->generator = p ? import_json_string(a, "model_version") : NULL;
			l->score = -1;
			if (p && import_json_number(l->st, a, "score", where, 0, 1, &l->score) < 0)
				return -1;
			if (json_is_object(a) && json_is_true(json_object_get(a, "was_cancelled")))
				continue;
			if (ls_results(l, a, where) < 0)
				return -1;
		}
	}
	return 0;
}

int anno_parse_label_studio(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
			    const struct anno_sink *sink, struct anno_import_error *err)
{
	struct import_state st;
	struct ls l = {.st = &st, .resolve = resolve, .ctx = ctx};
	import_begin(&st, NULL, sink, err);
	json_t *doc = import_json_load(in, &st), *task;
	int rc = doc ? 0 : -1;
	size_t i;
	if (doc && !json_is_array(doc))
		rc = import_fail(&st, 1, "not a Label Studio export (a list of tasks)");
	else if (doc)
		json_array_foreach(doc, i, task)
			if ((rc = ls_task(&l, task, i)) < 0)
				break;
	json_decref(doc);
	return import_finish(&st, rc);
}
