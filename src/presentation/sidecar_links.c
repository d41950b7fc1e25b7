/*
 * sidecar_links.c: homepage, seeAlso, rendering and provider from URLs or mappings, with type,
 * format and label filled in where the sidecar leaves them out.
 */
#include "presentation/sidecar_links.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "presentation/sidecar_values.h"

enum sidecar_link_kind { SIDECAR_HOMEPAGE, SIDECAR_SEE_ALSO, SIDECAR_RENDERING, SIDECAR_LOGO };

static const char *const sidecar_link_keys[] = {
	"id", "type", "label", "format", "profile", "language", "width", "height", NULL,
};

static const char *const sidecar_types[] = {
	"Dataset", "Image", "Model", "Sound", "Text", "Video", NULL,
};

static const char *const sidecar_formats[][2] = {
	{ "png", "image/png" },         { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },       { "gif", "image/gif" },
	{ "svg", "image/svg+xml" },     { "webp", "image/webp" },
	{ "tif", "image/tiff" },        { "tiff", "image/tiff" },
	{ "jp2", "image/jp2" },         { "avif", "image/avif" },
	{ "pdf", "application/pdf" },   { "epub", "application/epub+zip" },
	{ "html", "text/html" },        { "htm", "text/html" },
	{ "txt", "text/plain" },        { "xml", "text/xml" },
	{ "json", "application/json" }, { "jsonld", "application/ld+json" },
	{ "ttl", "text/turtle" },       { "rdf", "application/rdf+xml" },
	{ "csv", "text/csv" },          { "mp3", "audio/mpeg" },
	{ "m4a", "audio/mp4" },         { "ogg", "audio/ogg" },
	{ "wav", "audio/wav" },         { "flac", "audio/flac" },
	{ "mp4", "video/mp4" },         { "webm", "video/webm" },
	{ "vtt", "text/vtt" },          { "glb", "model/gltf-binary" },
	{ "gltf", "model/gltf+json" },
};

/* The last path segment of url, without query or fragment, copied into buf ("" if none). */
static const char *sidecar_url_file(const char *url, char *buf, size_t size)
{
	size_t end = strcspn(url, "?#"), start = end;
	while (start && url[start - 1] != '/')
		start--;
	snprintf(buf, size, "%.*s", (int)(end - start), url + start);
	return buf;
}

static const char *sidecar_format_for(const char *url)
{
	char file[256], *dot;
	dot = strrchr(sidecar_url_file(url, file, sizeof file), '.');
	if (!dot)
		return NULL;
	for (size_t i = 0; i < sizeof sidecar_formats / sizeof sidecar_formats[0]; i++)
		if (!strcasecmp(dot + 1, sidecar_formats[i][0]))
			return sidecar_formats[i][1];
	return NULL;
}

/* seeAlso documents meant for machines are Datasets (as in the specification's example). */
static bool sidecar_data_format(const char *f)
{
	return !strstr(f, "html") &&
	       (strstr(f, "xml") || strstr(f, "json") || strstr(f, "rdf") || strstr(f, "turtle") ||
		strstr(f, "csv") || strstr(f, "triples"));
}

static const char *sidecar_type_for(const char *format, enum sidecar_link_kind kind)
{
	if (kind == SIDECAR_LOGO)
		return "Image";
	if (kind == SIDECAR_HOMEPAGE || !format)
		return "Text";
	if (!strncmp(format, "image/", 6))
		return "Image";
	if (!strncmp(format, "video/", 6))
		return "Video";
	if (!strncmp(format, "audio/", 6))
		return "Sound";
	if (!strncmp(format, "model/", 6))
		return "Model";
	return kind == SIDECAR_SEE_ALSO && sidecar_data_format(format) ? "Dataset" : "Text";
}

/* An http(s) URL with a host and no spaces, or NULL after a problem. */
static const char *sidecar_url(struct sidecar_yaml *y, const yaml_node_t *n, const char *where)
{
	const char *s = sidecar_yaml_text(y, n, where), *host = NULL;
	if (!s)
		return NULL;
	if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8))
		host = strchr(s, '/') + 2;
	if (host && *host && *host != '/' && sidecar_yaml_no_space(s))
		return s;
	sidecar_yaml_problem(y, n, where, "'%.80s' is not an http(s) URL", s);
	return NULL;
}

static void sidecar_set_text(struct sidecar_yaml *y, json_t *o, const yaml_node_t *m,
			     const char *key, const char *where)
{
	yaml_node_t *n = sidecar_yaml_get(y, m, key);
	const char *s = n ? sidecar_yaml_text(y, n, where) : NULL;
	if (s)
		json_object_set_new(o, key, json_string(s));
}

/* language (codes), width and height (positive integers) of a link written as a mapping. */
static void sidecar_link_extras(struct sidecar_yaml *y, json_t *o, const yaml_node_t *m,
				const char *where)
{
	yaml_node_t *n = sidecar_yaml_get(y, m, "language");
	if (n) {
		json_t *codes = json_array();
		sidecar_values_texts(y, n, where, codes);
		for (size_t i = 0; i < json_array_size(codes); i++)
			if (!sidecar_values_language_ok(
				    json_string_value(json_array_get(codes, i)))) {
				sidecar_yaml_problem(y, n, where,
						     "language: '%.40s' is not a language code",
						     json_string_value(json_array_get(codes, i)));
				json_array_remove(codes, i--);
			}
		if (json_array_size(codes))
			json_object_set_new(o, "language", codes);
		else
			json_decref(codes);
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "height" : "width";
		double v;
		json_t *num;
		if (!(n = sidecar_yaml_get(y, m, key)) ||
		    !(num = sidecar_yaml_number(y, n, where, &v)))
			continue;
		if (json_is_integer(num) && v > 0) {
			json_object_set_new(o, key, num);
		} else {
			sidecar_yaml_problem(y, n, where, "%s must be a positive integer", key);
			json_decref(num);
		}
	}
}

/* type: given (one of the specification's classes) or guessed from the format. */
static void sidecar_link_type(struct sidecar_yaml *y, json_t *o, const yaml_node_t *m,
			      const char *where, enum sidecar_link_kind kind)
{
	const char *format = json_string_value(json_object_get(o, "format"));
	const char *type = sidecar_type_for(format, kind);
	yaml_node_t *n = m ? sidecar_yaml_get(y, m, "type") : NULL;
	const char *given = n ? sidecar_yaml_text(y, n, where) : NULL;
	if (given && kind != SIDECAR_LOGO && sidecar_yaml_in(given, sidecar_types))
		type = given;
	else if (given)
		sidecar_yaml_problem(y, n, where, "type '%.40s' is not %s", given,
				     kind == SIDECAR_LOGO
					     ? "Image"
					     : "one of Dataset, Image, Model, Sound, Text, Video");
	json_object_set_new(o, "type", json_string(type));
}

/* label: given, or a default (homepage: the given one or the URL; rendering: the file name). */
static void sidecar_link_label(struct sidecar_yaml *y, json_t *o, const yaml_node_t *m,
			       const char *where, enum sidecar_link_kind kind, json_t *fallback)
{
	yaml_node_t *n = m ? sidecar_yaml_get(y, m, "label") : NULL;
	const char *url = json_string_value(json_object_get(o, "id"));
	json_t *label = NULL;
	char file[256];
	if (n)
		label = sidecar_values_label(y, n, where);
	else if (kind == SIDECAR_HOMEPAGE)
		label = fallback ? json_deep_copy(fallback) : sidecar_language_map(url);
	else if (kind == SIDECAR_RENDERING)
		label = sidecar_language_map(*sidecar_url_file(url, file, sizeof file) ? file
										       : url);
	if (label)
		json_object_set_new(o, "label", label);
}

/* One link from a URL or a mapping {id, label, format, ...}. */
static json_t *sidecar_link(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			    enum sidecar_link_kind kind, json_t *fallback_label)
{
	yaml_node_t *m = NULL, *id = n;
	const char *url, *format;
	if (n && n->type == YAML_MAPPING_NODE) {
		sidecar_yaml_check_keys(y, m = n, where, sidecar_link_keys);
		if (!(id = sidecar_yaml_get(y, m, "id"))) {
			sidecar_yaml_problem(y, m, where, "'id' (the URL) is missing");
			return NULL;
		}
	} else if (!sidecar_yaml_expect(y, n, YAML_SCALAR_NODE, where,
					"a URL or a mapping with id")) {
		return NULL;
	}
	if (!(url = sidecar_url(y, id, where)))
		return NULL;
	json_t *o = json_pack("{s:s}", "id", url);
	if (m)
		sidecar_set_text(y, o, m, "format", where);
	format = kind == SIDECAR_HOMEPAGE ? "text/html" : sidecar_format_for(url);
	if (!json_object_get(o, "format") && format)
		json_object_set_new(o, "format", json_string(format));
	sidecar_link_type(y, o, m, where, kind);
	sidecar_link_label(y, o, m, where, kind, fallback_label);
	if (m) {
		sidecar_set_text(y, o, m, "profile", where);
		sidecar_link_extras(y, o, m, where);
	}
	return o;
}

/* A link, or a list of them, as an array (NULL when none is valid). */
static json_t *sidecar_links(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			     enum sidecar_link_kind kind, json_t *fallback_label)
{
	json_t *list = json_array();
	char w[300];
	int i = 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			snprintf(w, sizeof w, "%.200s item %d", where, ++i);
			json_array_append_new(list, sidecar_link(y, sidecar_yaml_node(y, *it), w,
								 kind, fallback_label));
		}
	} else {
		json_array_append_new(list, sidecar_link(y, n, where, kind, fallback_label));
	}
	if (json_array_size(list))
		return list;
	json_decref(list);
	return NULL;
}

json_t *sidecar_links_homepage(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	return sidecar_links(y, n, where, SIDECAR_HOMEPAGE, NULL);
}

json_t *sidecar_links_see_also(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	return sidecar_links(y, n, where, SIDECAR_SEE_ALSO, NULL);
}

json_t *sidecar_links_rendering(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	return sidecar_links(y, n, where, SIDECAR_RENDERING, NULL);
}

static const char *const sidecar_agent_keys[] = {
	"id", "label", "homepage", "logo", "seeAlso", NULL
};

/* The Agent's id: given, or its first homepage (without fragment) + "#provider". */
static json_t *sidecar_agent_id(struct sidecar_yaml *y, const yaml_node_t *m, const char *where,
				json_t *homepage)
{
	yaml_node_t *n = sidecar_yaml_get(y, m, "id");
	const char *url;
	if (n)
		return (url = sidecar_url(y, n, where)) ? json_string(url) : NULL;
	url = json_string_value(json_object_get(json_array_get(homepage, 0), "id"));
	if (!url) {
		sidecar_yaml_problem(y, m, where,
				     "needs an id or a homepage (an Agent must have an id)");
		return NULL;
	}
	char id[1024];
	snprintf(id, sizeof id, "%.*s#provider", (int)strcspn(url, "#"), url);
	return json_string(id);
}

static json_t *sidecar_agent(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	char w[300];
	json_t *label, *id, *links[3] = { NULL };
	static const char *const link_keys[] = { "homepage", "logo", "seeAlso" };
	static const enum sidecar_link_kind kinds[] = { SIDECAR_HOMEPAGE, SIDECAR_LOGO,
							SIDECAR_SEE_ALSO };
	if (!sidecar_yaml_mapping(y, n, where, "a mapping with label and homepage",
				  sidecar_agent_keys))
		return NULL;
	if (!(label = sidecar_values_required_label(y, n, where)))
		return NULL;
	for (int i = 0; i < 3; i++) {
		yaml_node_t *v = sidecar_yaml_get(y, n, link_keys[i]);
		snprintf(w, sizeof w, "%.200s %s", where, link_keys[i]);
		links[i] = v ? sidecar_links(y, v, w, kinds[i], label) : NULL;
	}
	if (!(id = sidecar_agent_id(y, n, where, links[0]))) {
		json_decref(label);
		for (int i = 0; i < 3; i++)
			json_decref(links[i]);
		return NULL;
	}
	json_t *agent = json_pack("{s:o,s:s,s:o}", "id", id, "type", "Agent", "label", label);
	for (int i = 0; i < 3; i++)
		json_object_set_new(agent, link_keys[i], links[i]);
	return agent;
}

/* A list of Agents, or one written as a mapping. */
json_t *sidecar_links_provider(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *list = json_array();
	if (n->type == YAML_SEQUENCE_NODE)
		sidecar_yaml_items(y, n, where, sidecar_agent, list);
	else
		json_array_append_new(list, sidecar_agent(y, n, where));
	return sidecar_json_nonempty(list);
}
