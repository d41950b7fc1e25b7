/*
 * v2_lists.c: the records of one Canvas page are read from the store a batch at a time (keyset
 * paging, as the 3.0 pages are) into a list of at most page_size resources, then one more
 * record is probed to know whether `next` is needed.
 */
#include "presentation/v2_lists.h"

#include <glib.h>
#include <inttypes.h>
#include <string.h>

#include "annotation/page_stream.h"
#include "annotation/webanno.h"
#include "maps/serve.h"

/* One record as a 2.1 annotation on canvas (the 2.1 Canvas id). */
static json_t *v2_list_resource(const struct anno_record *rec, const char *manifest_v2,
				const char *canvas)
{
	char *id = g_strdup_printf("%s/annotations/%s", manifest_v2, rec->id ? rec->id : "");
	char *on = webanno_target(rec, canvas);
	char *motivation = webanno_motivation_v2(rec->motivation);
	json_t *a = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s}", "@id", id, "@type",
			      "oa:Annotation", "motivation", motivation, "resource", "@type",
			      "cnt:ContentAsText", "chars", rec->text ? rec->text : "", "on", on);
	if (rec->language)
		json_object_set_new(json_object_get(a, "resource"), "language",
				    json_string(rec->language));
	g_free(id);
	g_free(on);
	g_free(motivation);
	return a;
}

json_t *pres_v2_list(struct db *db, const struct pres_v2_list_request *r,
		     struct iiifd_error *err)
{
	struct db_cursor cursor = { 0, 0 };
	if (page_stream_parse_after(r->after, &cursor, err) < 0)
		return NULL;
	if (r->canvas < 1 || r->canvas > r->idx->count) {
		iiifd_error_set(err, 404, "no Canvas %zu in this Manifest", r->canvas);
		return NULL;
	}
	if (strcmp(r->name, MAPS_PAGE_NAME) == 0) { /* written georeferencing: no 2.1 form */
		iiifd_error_set(err, 404, "Presentation 2.1 has no georeferencing");
		return NULL;
	}
	const struct pres_canvas_ref *ref = &r->idx->items[r->canvas - 1];
	char *canvas = g_strdup_printf("%s/canvas/%zu", r->manifest_v2, r->canvas);
	json_t *resources = json_array();
	int rc = 0;
	size_t got = 0;
	while (rc == 0 && got < (size_t)r->page_size) {
		struct anno_list batch = { 0 };
		int64_t want = r->page_size - (int64_t)got;
		rc = db_list_target_after(db, ref->file, ref->page, r->name, &cursor,
					  want < PAGE_STREAM_BATCH ? want : PAGE_STREAM_BATCH, &batch,
					  err);
		for (size_t i = 0; rc == 0 && i < batch.count; i++)
			json_array_append_new(resources, v2_list_resource(&batch.items[i],
									  r->manifest_v2, canvas));
		got += batch.count;
		bool done = batch.count == 0;
		anno_list_release(&batch);
		if (done)
			break;
	}
	struct anno_list probe = { 0 };
	struct db_cursor after = cursor;
	if (rc == 0 && got)
		rc = db_list_target_after(db, ref->file, ref->page, r->name, &after, 1, &probe, err);
	json_t *list = NULL;
	if (rc == 0 && got == 0 && !r->after) {
		iiifd_error_set(err, 404, "no %s annotations on this Canvas", r->name);
	} else if (rc == 0) {
		char *id = r->after ? g_strdup_printf("%s?after=%s", r->list_id, r->after)
				    : g_strdup(r->list_id);
		list = json_pack("{s:s, s:s, s:s, s:o}", "@context",
				 "http://iiif.io/api/presentation/2/context.json", "@id", id, "@type",
				 "sc:AnnotationList", "resources", json_incref(resources));
		if (probe.count)
			json_object_set_new(list, "next",
					    json_sprintf("%s?after=%" PRId64 ".%" PRId64, r->list_id,
							 cursor.seq, cursor.rowid));
		g_free(id);
	}
	anno_list_release(&probe);
	json_decref(resources);
	g_free(canvas);
	return list;
}
