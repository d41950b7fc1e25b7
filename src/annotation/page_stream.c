/*
 * page_stream.c: writes an AnnotationPage batch by batch. The header (context, id, prev) is
 * written first, then items as the store yields them, then the footer, where `next` and
 * `partOf` go once it is known whether records continue past this page (JSON members may come
 * in any order). Ownership: the stream owns its copies of every string and frees them with
 * page_stream_free() when the server is done with the response.
 */
#include "annotation/page_stream.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/webanno.h"
#include "core/log.h"

#define PAGE_STREAM_CHUNK (64 * 1024) /* bytes of JSON produced per call of the reader */

struct page_stream {
	struct db *db;
	char *file, *motivation;
	int page;
	char *canvas_id, *id_base; /* for webanno_to_json() */
	char *page_base;           /* the first page's URL; later pages add ?after= */
	bool later_page;           /* this page is not the first */
	struct db_cursor cursor;   /* the last record written (or the page's start) */
	int64_t remaining;         /* records this page may still hold */
	struct anno_list batch;
	size_t next_item;
	bool wrote_item;
	GString *out;              /* produced, not yet handed to the server */
	size_t out_sent;
	bool finished;             /* the footer is in out */
	bool failed;
};

static void page_stream_free(void *p)
{
	struct page_stream *s = p;
	if (!s)
		return;
	g_free(s->file);
	g_free(s->motivation);
	g_free(s->canvas_id);
	g_free(s->id_base);
	g_free(s->page_base);
	anno_list_release(&s->batch);
	if (s->out)
		g_string_free(s->out, TRUE);
	g_free(s);
}

int page_stream_parse_after(const char *after, struct db_cursor *c, struct iiifd_error *err)
{
	char *end;
	if (!after)
		return 0;
	long long seq = strtoll(after, &end, 10);
	if (end != after && *end == '.') {
		const char *r = end + 1;
		long long rowid = strtoll(r, &end, 10);
		if (end != r && !*end && rowid >= 0) {
			*c = (struct db_cursor){ seq, rowid };
			return 0;
		}
	}
	return iiifd_error_set(err, 400, "after must be SEQ.ROWID as given in a page's next link");
}

static void page_stream_append_json(GString *out, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10) |
					     JSON_ENCODE_ANY);
	if (text)
		g_string_append(out, text);
	free(text);
}

/* {"id": base[?after=SEQ.ROWID], "type": type}: a link to a page or the collection. */
static json_t *page_stream_link(const char *base, const struct db_cursor *after, const char *type)
{
	char *id = after ? g_strdup_printf("%s?after=%" PRId64 ".%" PRId64, base, after->seq,
					   after->rowid)
			 : g_strdup(base);
	json_t *link = json_pack("{s:s, s:s}", "id", id, "type", type);
	g_free(id);
	return link;
}

static void page_stream_append_link(GString *out, const char *key, const char *base,
				    const struct db_cursor *after, const char *type)
{
	json_t *link = page_stream_link(base, after, type);
	g_string_append_printf(out, ",\"%s\":", key);
	page_stream_append_json(out, link);
	json_decref(link);
}

/* The page before this one starts after the record page_size places before our start. */
static int page_stream_header(struct page_stream *s, const struct page_stream_request *r,
			      const struct db_cursor *start, struct iiifd_error *err)
{
	json_t *ctx = webanno_context(r->origin);
	g_string_append(s->out, "{\"@context\":");
	page_stream_append_json(s->out, ctx);
	json_decref(ctx);
	g_string_append(s->out, ",\"id\":\"");
	g_string_append(s->out, s->page_base);
	if (s->later_page)
		g_string_append_printf(s->out, "?after=%" PRId64 ".%" PRId64, start->seq,
				       start->rowid);
	g_string_append(s->out, "\",\"type\":\"AnnotationPage\"");
	if (s->later_page) {
		struct db_cursor prev;
		bool found;
		if (db_cursor_back(s->db, s->file, s->page, s->motivation, start, r->page_size,
				   &prev, &found, err) < 0)
			return -1;
		page_stream_append_link(s->out, "prev", s->page_base, found ? &prev : NULL,
					"AnnotationPage");
	}
	g_string_append(s->out, ",\"items\":[");
	return 0;
}

static int page_stream_fetch(struct page_stream *s, struct iiifd_error *err)
{
	anno_list_release(&s->batch);
	memset(&s->batch, 0, sizeof s->batch);
	s->next_item = 0;
	int64_t limit = s->remaining < PAGE_STREAM_BATCH ? s->remaining : PAGE_STREAM_BATCH;
	return db_list_target_after(s->db, s->file, s->page, s->motivation, &s->cursor, limit,
				    &s->batch, err);
}

/* Closes items; next and partOf when records continue here or came before. */
static int page_stream_footer(struct page_stream *s, struct iiifd_error *err)
{
	struct anno_list probe = { 0 };
	struct db_cursor after = s->cursor;
	int rc = s->remaining > 0 ? 0
				  : db_list_target_after(s->db, s->file, s->page, s->motivation,
							 &after, 1, &probe, err);
	bool more = probe.count > 0;
	anno_list_release(&probe);
	if (rc < 0)
		return -1;
	g_string_append(s->out, "]");
	if (more || s->later_page) {
		char *collection = g_strdup_printf("%s/collection", s->page_base);
		page_stream_append_link(s->out, "partOf", collection, NULL, "AnnotationCollection");
		g_free(collection);
	}
	if (more)
		page_stream_append_link(s->out, "next", s->page_base, &s->cursor, "AnnotationPage");
	g_string_append(s->out, "}");
	s->finished = true;
	return 0;
}

/* Adds items (fetching batches as needed) until a chunk's worth is ready or the page ends. */
static int page_stream_fill(struct page_stream *s, struct iiifd_error *err)
{
	while (!s->finished && s->out->len - s->out_sent < PAGE_STREAM_CHUNK) {
		if (s->next_item == s->batch.count) {
			if (s->remaining == 0 || (page_stream_fetch(s, err) < 0) ||
			    s->batch.count == 0) {
				if (err->http_status)
					return -1;
				return page_stream_footer(s, err);
			}
		}
		json_t *a = webanno_to_json(&s->batch.items[s->next_item++], s->canvas_id,
					    s->id_base);
		if (s->wrote_item)
			g_string_append_c(s->out, ',');
		page_stream_append_json(s->out, a);
		json_decref(a);
		s->wrote_item = true;
		s->remaining--;
	}
	return 0;
}

static long page_stream_read(void *cls, char *buf, size_t max)
{
	struct page_stream *s = cls;
	struct iiifd_error err = { 0 };
	if (s->out->len == s->out_sent) {
		g_string_truncate(s->out, 0);
		s->out_sent = 0;
		if (page_stream_fill(s, &err) < 0) {
			log_warn("annotation page stream stopped: %s", err.msg);
			return -1;
		}
	}
	size_t n = s->out->len - s->out_sent;
	if (n > max)
		n = max;
	memcpy(buf, s->out->str + s->out_sent, n);
	s->out_sent += n;
	return (long)n;
}

static struct page_stream *page_stream_new(struct db *db, const struct page_stream_request *r)
{
	const struct pres_canvas_ref *ref = &r->idx->items[r->canvas - 1];
	struct page_stream *s = g_new0(struct page_stream, 1);
	s->db = db;
	s->file = g_strdup(ref->file);
	s->page = ref->page;
	s->motivation = g_strdup(r->motivation);
	s->canvas_id = g_strdup_printf("%s/canvas/%zu", r->idx->manifest_id, r->canvas);
	s->id_base = g_strdup_printf("%s/annotations", r->idx->manifest_id);
	s->page_base = g_strdup_printf("%s/annotations/%s", s->canvas_id, r->motivation);
	s->later_page = r->after != NULL;
	s->remaining = r->page_size;
	s->out = g_string_new(NULL);
	return s;
}

json_t *page_stream_answer(struct db *db, const struct page_stream_request *r,
			   struct http_response *resp, bool *streamed, struct iiifd_error *err)
{
	*streamed = false;
	if (r->canvas == 0 || r->canvas > r->idx->count) {
		iiifd_error_set(err, 404, "no Canvas %zu in this Manifest", r->canvas);
		return NULL;
	}
	struct page_stream *s = page_stream_new(db, r);
	struct db_cursor start = { 0, 0 };
	if (page_stream_parse_after(r->after, &start, err) < 0)
		goto fail;
	s->cursor = start;
	if (page_stream_fetch(s, err) < 0)
		goto fail;
	if (s->batch.count == 0) {
		iiifd_error_set(err, 404, "no %s annotations on this Canvas%s", r->motivation,
				r->after ? " after that point" : "");
		goto fail;
	}
	if (page_stream_header(s, r, &start, err) < 0 || page_stream_fill(s, err) < 0)
		goto fail;
	if (s->finished) { /* it all fitted in one chunk: an ordinary, cacheable document */
		json_error_t jerr;
		json_t *doc = json_loadb(s->out->str, s->out->len, 0, &jerr);
		page_stream_free(s);
		if (!doc)
			iiifd_error_set(err, 500, "annotation page: %s", jerr.text);
		return doc;
	}
	http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Cache-Control", "no-cache");
	http_response_stream(resp, page_stream_read, s, page_stream_free);
	*streamed = true;
	return NULL;
fail:
	page_stream_free(s);
	return NULL;
}

/* The `after` of the last page: pages start every page_size records from the first. */
static int page_stream_last_start(struct page_stream *s, int64_t total, int64_t page_size,
				  struct db_cursor *after, bool *found, struct iiifd_error *err)
{
	struct db_cursor end = { INT64_MAX, INT64_MAX }, last;
	int64_t last_page_start = (total - 1) / page_size * page_size;
	*found = false;
	if (last_page_start == 0)
		return 0;
	if (db_cursor_back(s->db, s->file, s->page, s->motivation, &end, 0, &last, found, err) < 0)
		return -1;
	return db_cursor_back(s->db, s->file, s->page, s->motivation, &last,
			      total - last_page_start, after, found, err);
}

json_t *page_stream_collection(struct db *db, const struct page_stream_request *r,
			       struct iiifd_error *err)
{
	if (r->canvas == 0 || r->canvas > r->idx->count) {
		iiifd_error_set(err, 404, "no Canvas %zu in this Manifest", r->canvas);
		return NULL;
	}
	struct page_stream *s = page_stream_new(db, r);
	int64_t total = 0;
	struct db_cursor last;
	bool paged = false;
	json_t *doc = NULL;
	if (db_count_target(db, s->file, s->page, s->motivation, &total, err) == 0 && total == 0)
		iiifd_error_set(err, 404, "no %s annotations on this Canvas", r->motivation);
	if (!err->http_status &&
	    page_stream_last_start(s, total, r->page_size, &last, &paged, err) == 0) {
		char *id = g_strdup_printf("%s/collection", s->page_base);
		char *label = g_strdup_printf("%s annotations of Canvas %zu", r->motivation, r->canvas);
		doc = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:I, s:o, s:o}", "@context",
				"http://iiif.io/api/presentation/3/context.json", "id", id, "type",
				"AnnotationCollection", "label", "none", label, "total",
				(json_int_t)total, "first",
				page_stream_link(s->page_base, NULL, "AnnotationPage"), "last",
				page_stream_link(s->page_base, paged ? &last : NULL, "AnnotationPage"));
		g_free(id);
		g_free(label);
	}
	page_stream_free(s);
	return doc;
}
