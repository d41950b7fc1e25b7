/*
 * sidecar.c: a sidecar's top level: the IIIF properties (converted by sidecar_values, _links and
 * _geo), per-file canvases, the table of contents and chapters. Reading is in sidecar_yaml.c.
 */
#include "presentation/sidecar.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "presentation/sidecar_geo.h"
#include "presentation/sidecar_links.h"
#include "presentation/sidecar_values.h"
#include "presentation/sidecar_yaml.h"
#include "storage/root.h"

#define SIDECAR_MAX_TOC_DEPTH 16
#define SIDECAR_MAX_REPORTED 100000 /* versions remembered; beyond, start over (a rare repeat) */

static pthread_mutex_t sidecar_reported_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *sidecar_reported; /* "mtime|size|topic|path" already logged */

typedef json_t *(*sidecar_convert_fn)(struct sidecar_yaml *y, yaml_node_t *n, const char *where);

bool sidecar_report_once(const char *path, const char *topic)
{
	/* a version of a local file is its mtime and size; of an object, also its ETag */
	struct storage_stat st;
	char version[160] = "0.0|-1";
	if (storage_stat(path, &st, NULL) == 0)
		storage_stat_version(&st, version, sizeof version);
	char *key = g_strdup_printf("%s|%s|%s", version, topic, path);
	pthread_mutex_lock(&sidecar_reported_lock);
	if (!sidecar_reported || g_hash_table_size(sidecar_reported) >= SIDECAR_MAX_REPORTED) {
		if (sidecar_reported)
			g_hash_table_destroy(sidecar_reported);
		sidecar_reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	}
	bool first = g_hash_table_add(sidecar_reported, key); /* takes key either way */
	pthread_mutex_unlock(&sidecar_reported_lock);
	return first;
}

json_t *sidecar_language_map(const char *text)
{
	json_t *values = json_array(), *map = json_object();
	json_array_append_new(values, json_string(text ? text : ""));
	json_object_set_new(map, "none", values);
	return map;
}

static const struct {
	const char *key;
	sidecar_convert_fn convert;
	bool canvas; /* also a Canvas property */
} sidecar_props[] = {
	{ "label", sidecar_values_label, true },
	{ "summary", sidecar_values_langmap, true },
	{ "metadata", sidecar_values_metadata, true },
	{ "requiredStatement", sidecar_values_label_value, true },
	{ "rights", sidecar_values_rights, true },
	{ "provider", sidecar_links_provider, true },
	{ "homepage", sidecar_links_homepage, true },
	{ "seeAlso", sidecar_links_see_also, true },
	{ "rendering", sidecar_links_rendering, true },
	{ "navDate", sidecar_values_nav_date, true },
	{ "navPlace", sidecar_geo_nav_place, true },
	{ "behavior", sidecar_values_behavior, true },
	{ "viewingDirection", sidecar_values_viewing_direction, false },
};

#define SIDECAR_NPROPS (sizeof sidecar_props / sizeof sidecar_props[0])

/* The known keys of a top-level mapping or a canvas entry, NULL-terminated. */
static void sidecar_known_keys(bool canvas, const char **known)
{
	size_t n = 0;
	for (size_t i = 0; i < SIDECAR_NPROPS; i++)
		if (!canvas || sidecar_props[i].canvas)
			known[n++] = sidecar_props[i].key;
	if (!canvas) {
		known[n++] = "canvases";
		known[n++] = "toc";
		known[n++] = "chapters";
	}
	known[n] = NULL;
}

/* The IIIF properties of map (prefix names it in messages), or NULL when there are none. */
static json_t *sidecar_properties(struct sidecar_yaml *y, yaml_node_t *map, const char *prefix,
				  bool canvas)
{
	json_t *props = json_object();
	char w[300];
	for (size_t i = 0; i < SIDECAR_NPROPS; i++) {
		yaml_node_t *n;
		if ((canvas && !sidecar_props[i].canvas) ||
		    !(n = sidecar_yaml_get(y, map, sidecar_props[i].key)))
			continue;
		snprintf(w, sizeof w, "%s%s%s", prefix, *prefix ? " " : "", sidecar_props[i].key);
		if (sidecar_yaml_is_null(n))
			sidecar_yaml_problem(y, n, w, "no value");
		else
			json_object_set_new(props, sidecar_props[i].key,
					    sidecar_props[i].convert(y, n, w));
	}
	if (json_object_size(props))
		return props;
	json_decref(props);
	return NULL;
}

/* A file name in the same folder: no "/", not "." or "..". */
static const char *sidecar_file_name(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	const char *s = sidecar_yaml_text(y, n, where);
	if (s && (strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))) {
		sidecar_yaml_problem(y, n, where, "'%.60s' is not a file name in this folder", s);
		return NULL;
	}
	return s;
}

/* One canvases entry: file name -> Canvas properties, added to canvases when valid. */
static void sidecar_canvas(struct sidecar_yaml *y, const yaml_node_pair_t *p, json_t *canvases,
			   json_t *seen)
{
	const char *known[SIDECAR_NPROPS + 4];
	yaml_node_t *k = yaml_document_get_node(&y->doc, p->key), *v;
	const char *file = sidecar_file_name(y, k, "canvases");
	char w[300];
	if (!file)
		return;
	if (json_object_get(seen, file)) {
		sidecar_yaml_problem(y, k, "canvases",
				     "'%.80s' is given twice; the first one is used", file);
		return;
	}
	json_object_set_new(seen, file, json_true());
	snprintf(w, sizeof w, "canvas %.80s", file);
	sidecar_known_keys(true, known);
	if (!(v = sidecar_yaml_node(y, p->value)) ||
	    !sidecar_yaml_mapping(y, v, w, "a mapping of Canvas properties", known))
		return;
	unsigned outer = y->resource;
	y->resource = SIDECAR_ON_CANVAS;
	json_object_set_new(canvases, file, sidecar_properties(y, v, w, true));
	y->resource = outer;
}

static json_t *sidecar_canvases(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *canvases, *seen;
	if (!sidecar_yaml_expect(y, n, YAML_MAPPING_NODE, where,
				 "a mapping of file names to properties"))
		return NULL;
	canvases = json_object();
	seen = json_object();
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		sidecar_canvas(y, p, canvases, seen);
	json_decref(seen);
	if (json_object_size(canvases))
		return canvases;
	json_decref(canvases);
	return NULL;
}

static json_t *sidecar_toc_nodes(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				 int depth);

static void sidecar_add_file_name(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				  json_t *files)
{
	const char *f = sidecar_file_name(y, n, where);
	if (f)
		json_array_append_new(files, json_string(f));
}

/* The file names a toc node lists: one name or a list of names. */
static json_t *sidecar_toc_files(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *files = json_array();
	if (n->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			sidecar_add_file_name(y, sidecar_yaml_node(y, *it), where, files);
	else
		sidecar_add_file_name(y, n, where, files);
	return sidecar_json_nonempty(files);
}

static json_t *sidecar_toc_node(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				int depth)
{
	static const char *const keys[] = { "label", "canvases", "items", NULL };
	char w[300];
	if (!sidecar_yaml_mapping(y, n, where, "a mapping with label, canvases and items", keys))
		return NULL;
	yaml_node_t *files_n = sidecar_yaml_get(y, n, "canvases");
	yaml_node_t *items_n = sidecar_yaml_get(y, n, "items");
	json_t *label, *files = NULL, *items = NULL;
	if (!(label = sidecar_values_required_label(y, n, where)))
		return NULL;
	snprintf(w, sizeof w, "%.200s canvases", where);
	if (files_n)
		files = sidecar_toc_files(y, files_n, w);
	if (items_n && depth >= SIDECAR_MAX_TOC_DEPTH)
		sidecar_yaml_problem(y, items_n, where,
				     "the table of contents is nested deeper than %d levels",
				     SIDECAR_MAX_TOC_DEPTH);
	else if (items_n)
		items = sidecar_toc_nodes(y, items_n, where, depth + 1);
	if (!files && !items) {
		if (!files_n && !items_n)
			sidecar_yaml_problem(y, n, where, "lists no canvases and no items");
		json_decref(label);
		return NULL;
	}
	json_t *node = json_pack("{s:o}", "label", label);
	json_object_set_new(node, "canvases", files);
	json_object_set_new(node, "items", items);
	return node;
}

/* A list of toc nodes; where is the parent's ("toc", "toc item 2"), items numbered 2.1, 2.2... */
static json_t *sidecar_toc_nodes(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				 int depth)
{
	json_t *nodes = json_array();
	char w[300];
	int i = 0;
	if (!sidecar_yaml_expect(y, n, YAML_SEQUENCE_NODE, where,
				 "a list of table of contents entries")) {
		json_decref(nodes);
		return NULL;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		if (depth == 1)
			snprintf(w, sizeof w, "toc item %d", ++i);
		else
			snprintf(w, sizeof w, "%s.%d", where, ++i);
		json_array_append_new(nodes,
				      sidecar_toc_node(y, sidecar_yaml_node(y, *it), w, depth));
	}
	if (json_array_size(nodes))
		return nodes;
	json_decref(nodes);
	return NULL;
}

struct sidecar_chapter {
	double start;
	int order;
	json_t *json;
};

static json_t *sidecar_chapter(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			       double *start)
{
	static const char *const keys[] = { "label", "start", "end", "file", NULL };
	char w[300];
	double end;
	if (!sidecar_yaml_mapping(y, n, where, "a mapping with label, start and end", keys))
		return NULL;
	yaml_node_t *label_n = sidecar_yaml_get(y, n, "label");
	yaml_node_t *start_n = sidecar_yaml_get(y, n, "start");
	yaml_node_t *end_n = sidecar_yaml_get(y, n, "end");
	yaml_node_t *file_n = sidecar_yaml_get(y, n, "file");
	const char *file = NULL;
	for (int i = 0; i < 3; i++)
		if (!(i == 0 ? label_n : i == 1 ? start_n : end_n)) {
			sidecar_yaml_problem(y, n, where, "'%s' is missing", keys[i]);
			return NULL;
		}
	if (file_n && !(file = sidecar_file_name(y, file_n, where)))
		return NULL;
	snprintf(w, sizeof w, "%.200s start", where);
	if (!sidecar_values_seconds(y, start_n, w, start))
		return NULL;
	snprintf(w, sizeof w, "%.200s end", where);
	if (!sidecar_values_seconds(y, end_n, w, &end))
		return NULL;
	if (*start < 0) {
		sidecar_yaml_problem(y, start_n, where, "start %g is negative", *start);
		return NULL;
	}
	if (end <= *start) {
		sidecar_yaml_problem(y, end_n, where, "end %g is not after start %g", end, *start);
		return NULL;
	}
	snprintf(w, sizeof w, "%.200s label", where);
	json_t *label = sidecar_values_label(y, label_n, w);
	if (!label)
		return NULL;
	json_t *chapter = json_pack("{s:o,s:f,s:f}", "label", label, "start", *start, "end", end);
	if (file)
		json_object_set_new(chapter, "file", json_string(file));
	return chapter;
}

static int sidecar_chapter_cmp(const void *a, const void *b)
{
	const struct sidecar_chapter *p = a, *q = b;
	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	return p->order - q->order;
}

/* Chapters sorted by start (stable). */
static json_t *sidecar_chapters(struct sidecar_yaml *y, yaml_node_t *n)
{
	char w[300];
	int count = 0;
	if (!sidecar_yaml_expect(y, n, YAML_SEQUENCE_NODE, "chapters",
				 "a list of {label, start, end}"))
		return NULL;
	struct sidecar_chapter *list =
		calloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
		       sizeof *list);
	if (!list)
		return NULL;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		snprintf(w, sizeof w, "chapters item %d",
			 (int)(it - n->data.sequence.items.start) + 1);
		list[count].json =
			sidecar_chapter(y, sidecar_yaml_node(y, *it), w, &list[count].start);
		if (list[count].json)
			list[count].order = count, count++;
	}
	qsort(list, (size_t)count, sizeof *list, sidecar_chapter_cmp);
	json_t *chapters = count ? json_array() : NULL;
	for (int i = 0; i < count; i++)
		json_array_append_new(chapters, list[i].json);
	free(list);
	return chapters;
}

static int sidecar_convert(struct sidecar_yaml *y, struct sidecar *out)
{
	const char *known[SIDECAR_NPROPS + 4];
	yaml_node_t *root = yaml_document_get_root_node(&y->doc), *n;
	char buf[64];
	if (!root || sidecar_yaml_is_null(root) || root->type != YAML_MAPPING_NODE) {
		sidecar_yaml_add_problem(
			y->problems, root ? (int)root->start_mark.line + 1 : 1,
			"expected a mapping of keys such as 'label: ...', found %s",
			sidecar_yaml_describe(root, buf, sizeof buf));
		return -1;
	}
	sidecar_known_keys(false, known);
	sidecar_yaml_check_keys(y, root, "", known);
	out->props = sidecar_properties(y, root, "", false);
	if ((n = sidecar_yaml_get(y, root, "canvases")))
		out->canvases = sidecar_canvases(y, n, "canvases");
	if ((n = sidecar_yaml_get(y, root, "toc")))
		out->toc = sidecar_toc_nodes(y, n, "toc", 1);
	if ((n = sidecar_yaml_get(y, root, "chapters")))
		out->chapters = sidecar_chapters(y, n);
	return 0;
}

/* Kept problems in line order (stable: same-line ones stay in the order found). */
static void sidecar_sort_problems(struct sidecar_problems *pr)
{
	int n = pr->count < SIDECAR_MAX_PROBLEMS ? pr->count : SIDECAR_MAX_PROBLEMS;
	for (int i = 1; i < n; i++) {
		struct sidecar_problem p = pr->items[i];
		int j = i;
		for (; j > 0 && pr->items[j - 1].line > p.line; j--)
			pr->items[j] = pr->items[j - 1];
		pr->items[j] = p;
	}
}

int sidecar_load(const char *path, struct sidecar *out, struct sidecar_problems *problems)
{
	struct sidecar_yaml y;
	int rc;
	memset(out, 0, sizeof *out);
	problems->count = 0;
	rc = sidecar_yaml_load(&y, path, problems);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	y.resource = !strcmp(base, "collection.yml") ? SIDECAR_ON_COLLECTION
		     : !strcmp(base, "manifest.yml") ? SIDECAR_ON_MANIFEST
						     : SIDECAR_ON_MANIFEST | SIDECAR_ON_CANVAS;
	if (rc == 0)
		rc = sidecar_convert(&y, out);
	sidecar_yaml_release(&y);
	sidecar_sort_problems(problems);
	return rc;
}

void sidecar_release(struct sidecar *sc)
{
	json_decref(sc->props);
	json_decref(sc->canvases);
	json_decref(sc->toc);
	json_decref(sc->chapters);
	memset(sc, 0, sizeof *sc);
}
