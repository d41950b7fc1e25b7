/*
 * stream.c: builds the OrderedCollection and OrderedCollectionPage documents of the activity
 * stream from stored activities, and parses the stream's URLs.
 */
#include "discovery/stream.h"

#include <glib.h>
#include <string.h>

#include "presentation/context.h"

int discovery_stream_parse(const char *path, struct discovery_target *out,
			   struct iiifd_error *err)
{
	*out = (struct discovery_target){ .collection = false, .page = -1 };
	if (strcmp(path, "all-changes") == 0) {
		out->collection = true;
		return 0;
	}
	if (strncmp(path, "page/", 5) != 0)
		return iiifd_error_set(err, 404, "no activity stream resource here; the stream is "
					    "at " DISCOVERY_PREFIX "all-changes");
	const char *digits = path + 5;
	size_t n = strlen(digits);
	if (n == 0 || n > 15 || strspn(digits, "0123456789") != n || (digits[0] == '0' && n > 1))
		return iiifd_error_set(err, 404, "page must be a page number (0, 1, 2...)");
	int64_t page = 0;
	for (size_t i = 0; i < n; i++)
		page = page * 10 + (digits[i] - '0');
	out->page = page;
	return 0;
}

int64_t discovery_stream_pages(int64_t total, int64_t page_size)
{
	if (page_size < 1)
		page_size = 1;
	return total <= 0 ? 1 : (total - 1) / page_size + 1;
}

char *discovery_stream_url(const char *base, int64_t page)
{
	if (page < 0)
		return g_strdup_printf("%s" DISCOVERY_PREFIX "all-changes", base);
	return g_strdup_printf("%s" DISCOVERY_PREFIX "page/%" G_GINT64_FORMAT, base, page);
}

static json_t *stream_ref(const char *base, int64_t page, const char *type)
{
	char *url = discovery_stream_url(base, page);
	json_t *ref = json_pack("{s:s, s:s}", "id", url, "type", type);
	g_free(url);
	return ref;
}

json_t *discovery_stream_collection(const char *base, int64_t total, int64_t page_size)
{
	char *id = discovery_stream_url(base, -1);
	int64_t last = discovery_stream_pages(total, page_size) - 1;
	json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "@context", DISCOVERY_CONTEXT,
				"id", id, "type", "OrderedCollection", "totalItems",
				(json_int_t)total, "first",
				stream_ref(base, 0, "OrderedCollectionPage"), "last",
				stream_ref(base, last, "OrderedCollectionPage"));
	g_free(id);
	return doc;
}

/* The URL of path in Presentation API variant version, or its HTML page (version 0). */
static char *stream_resource_url(const char *base, const char *type, const char *path,
				 int version)
{
	struct pres_context c = { .base = base };
	bool collection = strcmp(type, "Collection") == 0;
	char *v3 = collection ? pres_url_collection(&c, path) : pres_url_manifest(&c, path);
	if (version == 3)
		return v3;
	const char *rest = v3 + strlen(base) + strlen("/iiif/presentation/");
	char *url = g_strdup_printf("%s%s%s", base,
				    version == 2 ? "/iiif/presentation-v2/" : "/view/", rest);
	g_free(v3);
	return url;
}

static json_t *stream_object(const char *base, const char *type, const char *path, int version,
			     const char *label)
{
	char *id = stream_resource_url(base, type, path, version);
	char *canonical = stream_resource_url(base, type, path, 0);
	char *format = g_strdup_printf("application/ld+json;profile=\"http://iiif.io/api/"
				       "presentation/%d/context.json\"", version);
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type", type, "canonical",
				canonical, "format", format);
	json_t *lab = label ? json_loads(label, 0, NULL) : NULL;
	if (json_is_object(lab))
		json_object_set_new(obj, "label", lab);
	else
		json_decref(lab);
	g_free(id);
	g_free(canonical);
	g_free(format);
	return obj;
}

json_t *discovery_stream_activity(const char *base, const struct db_activity *a)
{
	json_t *act = json_pack("{s:s}", "type", a->type);
	if (a->path && a->object_type) {
		json_object_set_new(act, "object", stream_object(base, a->object_type, a->path,
								 a->version, a->label));
		if (a->target_path)
			json_object_set_new(act, "target",
					    stream_object(base, a->object_type, a->target_path,
							  a->version, a->label));
	}
	if (strcmp(a->type, "Refresh") == 0)
		json_object_set_new(act, "summary", json_string("iiifd rebuilt its activity log; "
								"every resource follows"));
	if (a->start_time)
		json_object_set_new(act, "startTime", json_string(a->start_time));
	if (a->end_time)
		json_object_set_new(act, "endTime", json_string(a->end_time));
	return act;
}

json_t *discovery_stream_page(const char *base, int64_t page, int64_t page_size, int64_t total,
			      const struct db_activity *items, size_t count)
{
	char *id = discovery_stream_url(base, page);
	json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:o}", "@context", DISCOVERY_CONTEXT, "id",
				id, "type", "OrderedCollectionPage", "startIndex",
				(json_int_t)(page * page_size), "partOf",
				stream_ref(base, -1, "OrderedCollection"));
	if (page > 0)
		json_object_set_new(doc, "prev", stream_ref(base, page - 1,
							    "OrderedCollectionPage"));
	if (page + 1 < discovery_stream_pages(total, page_size))
		json_object_set_new(doc, "next", stream_ref(base, page + 1,
							    "OrderedCollectionPage"));
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, discovery_stream_activity(base, &items[i]));
	json_object_set_new(doc, "orderedItems", list);
	g_free(id);
	return doc;
}
