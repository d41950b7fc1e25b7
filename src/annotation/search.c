/*
 * search.c: turns a search request into a db query, then the matching records into Annotation
 * Pages (2.0) or Annotation Lists (1.0), with each match located in its annotation's text
 * (TextQuoteSelector prefix/exact/suffix, or before/match/after) after the same case and
 * diacritic folding the index uses.
 */
#include "annotation/search.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/page_cache.h"
#include "annotation/search_match.h"
#include "annotation/webanno.h"
#include "presentation/canvas_index.h"
#include "presentation/manifest.h"
#include "storage/root.h"

#define SEARCH_PAGE_SIZE 50
#define SEARCH_MATCHES_PER_RECORD 16 /* matches of one annotation that are reported */
#define SEARCH_TERMS_LIMIT 50

static const char *const search_kind_names[] = { "search", "search1", "autocomplete",
						 "autocomplete1" };

const char *search_kind_name(enum search_kind kind)
{
	return search_kind_names[kind];
}

int search_kind_from_name(const char *name)
{
	for (int k = 0; k < 4; k++)
		if (strcmp(name, search_kind_names[k]) == 0)
			return k;
	return -1;
}

json_t *search_services(const char *id)
{
	char *s2 = g_strdup_printf("%s/search", id), *a2 = g_strdup_printf("%s/autocomplete", id);
	char *s1 = g_strdup_printf("%s/search1", id), *a1 = g_strdup_printf("%s/autocomplete1", id);
	json_t *services = json_pack(
		"[{s:s, s:s, s:[{s:s, s:s}]}, {s:s, s:s, s:s, s:[{s:s, s:s, s:s}]}]", "id", s2, "type",
		"SearchService2", "service", "id", a2, "type", "AutoCompleteService2", "@id", s1,
		"@type", "SearchService1", "profile", "http://iiif.io/api/search/1/search",
		"service", "@id", a1, "@type", "AutoCompleteService1", "profile",
		"http://iiif.io/api/search/1/autocomplete");
	g_free(s2);
	g_free(a2);
	g_free(s1);
	g_free(a1);
	return services;
}

/* ---- request parameters -------------------------------------------------------------- */

#define SEARCH_V2_CONTEXT "http://iiif.io/api/search/2/context.json"

struct search_params {
	char *q, *motivation, *date, *user, *page, *min, *after; /* decoded; NULL when absent */
	char *score; /* iiifd's own: "MIN" or "MIN/MAX" */
	gchar **motivations, **users, **dates;                   /* split on spaces */
	int64_t page_no;
	/*
	 * An empty q restricts nothing: the pages of such a search are read by key (after: the
	 * record key the page follows; 0 = the first page), so any page costs one page.
	 */
	bool keyset;
	int64_t after_key;
};

/* Space-separated values (empty ones dropped), NULL-terminated; NULL when there are none. */
static gchar **search_split(const char *value)
{
	if (!value)
		return NULL;
	gchar **parts = g_strsplit(value, " ", 64);
	int n = 0;
	for (int i = 0; parts[i]; i++) {
		if (*parts[i])
			parts[n++] = parts[i];
		else
			g_free(parts[i]);
	}
	parts[n] = NULL;
	if (n == 0) {
		g_free(parts);
		return NULL;
	}
	return parts;
}

static bool search_is_blank(const char *s)
{
	while (s && *s == ' ')
		s++;
	return !s || !*s;
}

/*
 * Search 1.0 names motivations as Presentation 2.1 does: "painting" is text on the Canvas, which
 * the store keeps as supplementing (OCR, transcripts, as in the 1.0 examples), "non-painting"
 * everything else; "sc:" and "oa:" prefixes are allowed. Rewrites list in the store's terms.
 */
static void search_motivations_v1(gchar ***list)
{
	if (!*list)
		return;
	GPtrArray *out = g_ptr_array_new();
	for (gchar **m = *list; *m; m++) {
		const char *name = *m;
		if (g_str_has_prefix(name, "sc:") || g_str_has_prefix(name, "oa:"))
			name += 3;
		if (strcmp(name, "painting") == 0)
			g_ptr_array_add(out, g_strdup("supplementing"));
		else if (strcmp(name, "non-painting") == 0)
			for (const char *const *k = webanno_motivations; *k; k++) {
				if (strcmp(*k, "supplementing") != 0)
					g_ptr_array_add(out, g_strdup(*k));
			}
		else
			g_ptr_array_add(out, g_strdup(name));
	}
	g_ptr_array_add(out, NULL);
	g_strfreev(*list);
	*list = (gchar **)g_ptr_array_free(out, FALSE);
}

static int search_params_read(const struct http_request *req, enum search_kind kind,
			      struct search_params *p, struct iiifd_error *err)
{
	memset(p, 0, sizeof *p);
	if (http_request_arg_checked(req, "q", &p->q, err) < 0 ||
	    http_request_arg_checked(req, "motivation", &p->motivation, err) < 0 ||
	    http_request_arg_checked(req, "date", &p->date, err) < 0 ||
	    http_request_arg_checked(req, "user", &p->user, err) < 0 ||
	    http_request_arg_checked(req, "page", &p->page, err) < 0 ||
	    http_request_arg_checked(req, "min", &p->min, err) < 0 ||
	    http_request_arg_checked(req, "after", &p->after, err) < 0 ||
	    http_request_arg_checked(req, "score", &p->score, err) < 0)
		return -1;
	p->keyset = (kind == SEARCH_V2 || kind == SEARCH_V1) && search_is_blank(p->q);
	if (p->keyset && p->after) {
		char *end = NULL;
		p->after_key = strtoll(p->after, &end, 10);
		if (end == p->after || *end || p->after_key < 0)
			return iiifd_error_set(err, 400, "after must be a record key, as in a next link");
	}
	p->motivations = search_split(p->motivation);
	if (kind == SEARCH_V1 || kind == AUTOCOMPLETE_V1)
		search_motivations_v1(&p->motivations);
	p->users = search_split(p->user);
	p->dates = search_split(p->date);
	char *end = NULL;
	p->page_no = p->page ? strtoll(p->page, &end, 10) : 0;
	if (p->page && (end == p->page || *end || p->page_no < 0 || p->page_no > 1000000))
		return iiifd_error_set(err, 400, "page must be a whole number from 0");
	return 0;
}

static void search_params_release(struct search_params *p)
{
	free(p->q);
	free(p->motivation);
	free(p->date);
	free(p->user);
	free(p->page);
	free(p->min);
	free(p->after);
	free(p->score);
	g_strfreev(p->motivations);
	g_strfreev(p->users);
	g_strfreev(p->dates);
}

/*
 * The request URL for the given page (-1 = without a paging parameter), parameters re-encoded;
 * for a keyset search "page" is the key the page follows (0 = the first page).
 */
static char *search_url(const char *service, const struct search_params *p, int64_t page)
{
	GString *url = g_string_new(service);
	const char *names[] = { "q", "motivation", "date", "user", "min", "score" };
	const char *values[] = { p->q, p->motivation, p->date, p->user, p->min, p->score };
	char sep = '?';
	for (int i = 0; i < 6; i++) {
		if (!values[i])
			continue;
		char *enc = g_uri_escape_string(values[i], NULL, FALSE);
		g_string_append_printf(url, "%c%s=%s", sep, names[i], enc);
		g_free(enc);
		sep = '&';
	}
	if (page >= 0 && p->keyset && page > 0)
		g_string_append_printf(url, "%cafter=%lld", sep, (long long)page);
	else if (page >= 0 && !p->keyset)
		g_string_append_printf(url, "%cpage=%lld", sep, (long long)page);
	return g_string_free(url, FALSE);
}

/* ---- canvases of the hits ------------------------------------------------------------ */

/* Canvas indexes of the Manifests that hits belong to, built once per request. */
/* Whether the Manifest rel is a folder (of a local or a remote root, storage/root.h). */
static bool search_is_folder(const struct pres_context *c, const char *rel)
{
	char *abs = g_build_filename(c->root_real, rel, NULL);
	struct storage_stat st;
	bool folder = storage_stat(abs, &st, NULL) == 0 && st.is_dir;
	g_free(abs);
	return folder;
}

static const struct pres_canvas_index *search_index(const struct pres_context *c,
						    GHashTable *indexes, const char *manifest)
{
	struct pres_canvas_index *idx = g_hash_table_lookup(indexes, manifest);
	if (idx)
		return idx->count ? idx : NULL;
	idx = calloc(1, sizeof *idx);
	bool folder = search_is_folder(c, manifest);
	pres_canvas_index_build(c, manifest, folder, idx, NULL);
	g_hash_table_insert(indexes, g_strdup(manifest), idx);
	return idx->count ? idx : NULL;
}

static void search_index_free(gpointer p)
{
	pres_canvas_index_release(p);
	free(p);
}

/* The Canvas URL of a record, or NULL when its file is no longer shown. g_free. */
static char *search_canvas(const struct pres_context *c, GHashTable *indexes,
			   const struct anno_record *r, char **id_base)
{
	const struct pres_canvas_index *idx = r->manifest ? search_index(c, indexes, r->manifest)
							   : NULL;
	size_t n = idx ? pres_canvas_index_find(idx, r->target_file, r->page) : 0;
	if (!n)
		return NULL;
	*id_base = g_strdup_printf("%s/annotations", idx->manifest_id);
	return g_strdup_printf("%s/canvas/%zu", idx->manifest_id, n);
}

/* ---- responses ----------------------------------------------------------------------- */

struct search_page {
	json_t *items, *highlights; /* v2 items and highlighting annotations */
	json_t *resources, *hits;   /* v1 */
};

/* The Search 1.0 resource of an annotation: its text on its target. */
static json_t *search_resource_v1(const struct anno_record *r, const char *id, const char *target)
{
	char *motivation = webanno_motivation_v2(r->motivation);
	json_t *res = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s}", "@id", id, "@type",
				"oa:Annotation", "motivation", motivation, "resource", "@type",
				"cnt:ContentAsText", "chars", r->text ? r->text : "", "on", target);
	g_free(motivation);
	return res;
}

/* A match: a highlighting annotation on the item (2.0) and a search:Hit (1.0). */
static void search_add_match(const char *item_id, const struct search_match *m,
			     const char *page_id, struct search_page *pg)
{
	char *hid = g_strdup_printf("%s#match-%zu", page_id, json_array_size(pg->highlights) + 1);
	json_array_append_new(
		pg->highlights,
		json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:[{s:s, s:s, s:s, s:s}]}}", "id", hid, "type",
			  "Annotation", "motivation", "highlighting", "target", "type",
			  "SpecificResource", "source", item_id, "selector", "type",
			  "TextQuoteSelector", "prefix", m->prefix, "exact", m->exact, "suffix",
			  m->suffix));
	json_array_append_new(pg->hits, json_pack("{s:s, s:[s], s:s, s:s, s:s}", "@type",
						  "search:Hit", "annotations", item_id, "match",
						  m->exact, "before", m->prefix, "after", m->suffix));
	g_free(hid);
}

/*
 * A result item for one match whose OCR words are known: the line annotation, but with its own
 * id and targeting just the matched words (box), so viewers highlight the words.
 */
static json_t *search_word_item(const struct anno_record *r, const json_t *anno,
				const char *canvas, size_t k, const double box[4], bool timed,
				struct search_page *pg)
{
	struct anno_record at = *r;
	at.has_xywh = !timed;
	at.x = box[0], at.y = box[1], at.w = box[2], at.h = box[3];
	at.has_time = timed; /* a transcript's words: the time they are spoken */
	at.start = box[0], at.end = box[1];
	char *target = webanno_target(&at, canvas);
	json_t *item = json_copy((json_t *)anno);
	json_object_set_new(item, "id", json_sprintf("%s/match/%zu", json_string_value(
							     json_object_get(anno, "id")), k));
	json_object_set_new(item, "target", json_string(target));
	json_array_append_new(pg->resources,
			      search_resource_v1(r, json_string_value(json_object_get(item, "id")),
						 target));
	g_free(target);
	return item;
}

/*
 * The items and matches of one record found. Every occurrence of every term is a match (up to
 * SEARCH_MATCHES_PER_RECORD); where the line's words are in the store, a match targets the union
 * of the boxes of the words it covers, otherwise the whole annotation.
 */
static void search_add_hits(struct db *db, const struct anno_record *r, json_t *anno,
			    const char *canvas, gchar **terms, const char *page_id,
			    struct search_page *pg)
{
	const char *text = r->text ? r->text : "";
	const char *anno_id = json_string_value(json_object_get(anno, "id"));
	struct anno_list words = { 0 };
	if (db && r->id && r->granularity && strcmp(r->granularity, "line") == 0)
		db_line_words(db, r->id, &words, NULL);
	struct search_folded f;
	search_fold(text, &f);
	json_t *word_items = json_array();
	bool whole = false; /* the annotation itself is an item: a match without words, or none */
	size_t matches = 0;
	for (int i = 0; terms && terms[i]; i++) {
		struct search_match m[SEARCH_MATCHES_PER_RECORD];
		size_t n = search_locate(text, &f, terms[i], m, SEARCH_MATCHES_PER_RECORD);
		for (size_t j = 0; j < n; j++) {
			double box[4];
			bool timed = r->has_time && !r->has_xywh;
			if (words.count &&
			    (timed ? search_words_time(text, &words, m[j].start, m[j].end, box)
				   : search_words_box(text, &words, m[j].start, m[j].end, box))) {
				json_t *item = search_word_item(r, anno, canvas,
								json_array_size(word_items) + 1,
								box, timed, pg);
				search_add_match(json_string_value(json_object_get(item, "id")), &m[j],
						 page_id, pg);
				json_array_append_new(word_items, item);
			} else {
				search_add_match(anno_id, &m[j], page_id, pg);
				whole = true;
			}
			search_match_release(&m[j]);
		}
		matches += n;
	}
	if (whole || matches == 0) {
		char *target = webanno_target(r, canvas);
		json_array_append_new(pg->resources, search_resource_v1(r, anno_id, target));
		json_array_append(pg->items, anno);
		g_free(target);
	}
	json_array_extend(pg->items, word_items);
	json_decref(word_items);
	search_folded_release(&f);
	anno_list_release(&words);
}

/*
 * In a Collection's results, each hit names the Manifest it is in (the client may not have
 * loaded it): Search 2.0 target.partOf, Search 1.0 on.within. Applies to the items and
 * resources from the given positions on.
 */
static void search_mark_manifest(struct search_page *pg, size_t items_from,
				 size_t resources_from, const json_t *ref)
{
	json_t *a;
	for (size_t i = items_from; (a = json_array_get(pg->items, i)); i++)
		json_object_set_new(a, "target",
				    json_pack("{s:O, s:O}", "id", json_object_get(a, "target"),
					      "partOf", ref));
	const char *label = "";
	const char *key;
	json_t *values;
	json_object_foreach(json_object_get(ref, "label"), key, values)
		if (json_array_size(values)) {
			label = json_string_value(json_array_get(values, 0));
			break;
		}
	for (size_t i = resources_from; (a = json_array_get(pg->resources, i)); i++)
		json_object_set_new(a, "on",
				    json_pack("{s:O, s:{s:O, s:s, s:s}}", "@id", json_object_get(a, "on"),
					      "within", "@id", json_object_get(ref, "id"), "@type",
					      "sc:Manifest", "label", label));
}

/* The Manifest reference of rel, built once per request (refs: rel -> reference). */
static const json_t *search_manifest_ref(const struct pres_context *c, GHashTable *refs,
					 const char *rel)
{
	json_t *ref = g_hash_table_lookup(refs, rel);
	if (!ref) {
		ref = pres_manifest_ref(c, rel, search_is_folder(c, rel));
		g_hash_table_insert(refs, g_strdup(rel), ref);
	}
	return ref;
}

static void search_collect(const struct pres_context *c, const struct anno_list *found,
			   gchar **terms, const char *page_id, bool in_collection,
			   struct search_page *pg)
{
	GHashTable *indexes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						    search_index_free);
	GHashTable *refs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						 (GDestroyNotify)json_decref);
	for (size_t i = 0; i < found->count; i++) {
		const struct anno_record *r = &found->items[i];
		char *id_base = NULL, *canvas = search_canvas(c, indexes, r, &id_base);
		if (!canvas)
			continue;
		size_t items_from = json_array_size(pg->items);
		size_t resources_from = json_array_size(pg->resources);
		json_t *anno = webanno_to_json(r, canvas, id_base);
		search_add_hits(c->db, r, anno, canvas, terms, page_id, pg);
		if (in_collection)
			search_mark_manifest(pg, items_from, resources_from,
					     search_manifest_ref(c, refs, r->manifest));
		json_decref(anno);
		g_free(canvas);
		g_free(id_base);
	}
	g_hash_table_destroy(refs);
	g_hash_table_destroy(indexes);
}

/* What one page of results is: the records, the total, and the paging around them. */
struct search_result {
	struct anno_list found;
	int64_t total;
	int64_t at;   /* this page: its number, or for a keyset search the key it follows */
	int64_t next; /* the next page's, -1 when this is the last */
};

static json_t *search_ref(const char *service, const struct search_params *p, int64_t at)
{
	char *url = search_url(service, p, at);
	json_t *ref = json_pack("{s:s, s:s}", "id", url, "type", "AnnotationPage");
	g_free(url);
	return ref;
}

/*
 * partOf/first/last/next/prev for a result set split into pages. A keyset page cannot know its
 * position without counting what lies before it: it has first and next, not last, prev or
 * startIndex.
 */
static void search_paging_v2(json_t *doc, const char *service, const struct search_params *p,
			     const struct search_result *res)
{
	int64_t last = res->total ? (res->total - 1) / SEARCH_PAGE_SIZE : 0;
	char *all = search_url(service, p, -1);
	json_t *part = json_pack("{s:s, s:s, s:I, s:o}", "id", all, "type", "AnnotationCollection",
				 "total", (json_int_t)res->total, "first", search_ref(service, p, 0));
	if (!p->keyset)
		json_object_set_new(part, "last", search_ref(service, p, last));
	json_object_set_new(doc, "partOf", part);
	if (res->next >= 0)
		json_object_set_new(doc, "next", search_ref(service, p, res->next));
	if (!p->keyset && p->page_no > 0)
		json_object_set_new(doc, "prev", search_ref(service, p, p->page_no - 1));
	if (!p->keyset)
		json_object_set_new(doc, "startIndex", json_integer(p->page_no * SEARCH_PAGE_SIZE));
	g_free(all);
}

static json_t *search_doc_v2(const char *service, const struct search_params *p,
			     const struct search_result *res, struct search_page *pg)
{
	char *id = search_url(service, p, res->at);
	json_t *doc = json_pack("{s:s, s:s, s:s}", "@context", SEARCH_V2_CONTEXT, "id", id, "type",
				"AnnotationPage");
	search_paging_v2(doc, service, p, res);
	json_object_set(doc, "items", pg->items);
	if (json_array_size(pg->highlights))
		json_object_set_new(doc, "annotations",
				    json_pack("[{s:s, s:O}]", "type", "AnnotationPage", "items",
					      pg->highlights));
	g_free(id);
	return doc;
}

static json_t *search_doc_v1(const char *service, const struct search_params *p,
			     const struct search_result *res, struct search_page *pg)
{
	int64_t last = res->total ? (res->total - 1) / SEARCH_PAGE_SIZE : 0;
	char *id = search_url(service, p, res->at), *first = search_url(service, p, 0);
	json_t *doc = json_pack("{s:[s, s], s:s, s:s, s:{s:s, s:I, s:s}}", "@context",
				"http://iiif.io/api/presentation/2/context.json",
				"http://iiif.io/api/search/1/context.json", "@id", id, "@type",
				"sc:AnnotationList", "within", "@type", "sc:Layer", "total",
				(json_int_t)res->total, "first", first);
	if (!p->keyset) {
		char *lastu = search_url(service, p, last);
		json_object_set_new(json_object_get(doc, "within"), "last", json_string(lastu));
		json_object_set_new(doc, "startIndex",
				    json_integer((json_int_t)(p->page_no * SEARCH_PAGE_SIZE)));
		g_free(lastu);
	}
	if (res->next >= 0) {
		char *next = search_url(service, p, res->next);
		json_object_set_new(doc, "next", json_string(next));
		g_free(next);
	}
	if (!p->keyset && p->page_no > 0) {
		char *prev = search_url(service, p, p->page_no - 1);
		json_object_set_new(doc, "prev", json_string(prev));
		g_free(prev);
	}
	json_object_set(doc, "resources", pg->resources);
	json_object_set(doc, "hits", pg->hits);
	g_free(id);
	g_free(first);
	return doc;
}

/* The cache key of a search's total: everything that restricts it but q (which is empty). */
static char *search_total_key(const struct db_query *q, const struct search_params *p)
{
	/* what is left out for access control counts too: one reader's total is not another's */
	char *excluded = q->exclude ? g_strjoinv("\t", (char **)q->exclude) : g_strdup("");
	char *key = g_strdup_printf("search-total\n%s\n%d\n%s\n%s\n%s\n%s\n%s",
				    q->scope ? q->scope : "", q->scope_is_folder,
				    p->motivation ? p->motivation : "", p->user ? p->user : "",
				    p->date ? p->date : "", p->score ? p->score : "", excluded);
	g_free(excluded);
	return key;
}

/* The total of a search without q: counted once per database state, then kept. */
static int search_keyset_total(struct db *db, struct page_cache *totals,
			       const struct db_query *q, const struct search_params *p,
			       int64_t *total, struct iiifd_error *err)
{
	char *key = search_total_key(q, p), *stamp = NULL;
	char *text = totals ? page_cache_get(totals, key, &stamp) : NULL;
	int rc = 0;
	if (text) {
		*total = strtoll(text, NULL, 10);
	} else if ((rc = db_search_count(db, q, total, err)) == 0 && totals) {
		char value[32];
		snprintf(value, sizeof value, "%lld", (long long)*total);
		page_cache_put(totals, key, value, stamp);
	}
	free(text);
	g_free(stamp);
	g_free(key);
	return rc;
}

/* One page of a search without q, by key: the page, then whether a record follows it. */
static int search_keyset(struct db *db, struct page_cache *totals, struct db_query *q,
			 const struct search_params *p, struct search_result *res,
			 struct iiifd_error *err)
{
	int64_t end = 0, ignored;
	q->keyset = true;
	q->after = p->after_key;
	q->next_after = &end;
	res->at = p->after_key;
	res->next = -1;
	if (db_search(db, q, &res->found, &ignored, err) < 0)
		return -1;
	if (res->found.count == SEARCH_PAGE_SIZE) {
		struct anno_list probe = { 0 };
		struct db_query more = *q;
		more.after = end;
		more.limit = 1;
		more.next_after = NULL;
		int rc = db_search(db, &more, &probe, &ignored, err);
		if (rc == 0 && probe.count)
			res->next = end;
		anno_list_release(&probe);
		if (rc < 0)
			return -1;
	}
	return search_keyset_total(db, totals, q, p, &res->total, err);
}

static json_t *search_run(struct db *db, struct page_cache *totals, const struct pres_context *c,
			  enum search_kind kind, const char *service, struct db_query *q,
			  const struct search_params *p, struct iiifd_error *err)
{
	struct search_result res = { .at = p->page_no, .next = -1 };
	int rc = p->keyset ? search_keyset(db, totals, q, p, &res, err)
			   : db_search(db, q, &res.found, &res.total, err);
	if (rc < 0) {
		anno_list_release(&res.found);
		return NULL;
	}
	if (!p->keyset && p->page_no < (res.total ? (res.total - 1) / SEARCH_PAGE_SIZE : 0))
		res.next = p->page_no + 1;
	struct search_page pg = { json_array(), json_array(), json_array(), json_array() };
	gchar **terms = search_terms(p->q);
	char *page_id = search_url(service, p, res.at);
	search_collect(c, &res.found, terms, page_id, q->scope_is_folder, &pg);
	g_free(page_id);
	json_t *doc = kind == SEARCH_V2 ? search_doc_v2(service, p, &res, &pg)
					: search_doc_v1(service, p, &res, &pg);
	if (kind == SEARCH_V2) /* hits may carry textGranularity or score: name their contexts */
		json_object_set_new(doc, "@context",
				    webanno_context_for(doc, c->base, SEARCH_V2_CONTEXT));
	g_strfreev(terms);
	json_decref(pg.items);
	json_decref(pg.highlights);
	json_decref(pg.resources);
	json_decref(pg.hits);
	anno_list_release(&res.found);
	return doc;
}

/*
 * One term of an autocomplete answer; a folded term carries its original form as label (2.0: a
 * language map, the form's language unknown; 1.0: a string). service: the service URL; the part
 * before its last path segment (base_len bytes) is where 1.0's "search1" sibling lives.
 */
static json_t *search_term_json(enum search_kind kind, const struct db_term *t,
				const char *service, size_t base_len)
{
	json_t *term;
	if (kind == AUTOCOMPLETE_V2) {
		term = json_pack("{s:s, s:I}", "value", t->term, "total", (json_int_t)t->count);
		if (t->label)
			json_object_set_new(term, "label",
					    json_pack("{s:[s]}", "none", t->label));
		return term;
	}
	char *q = g_uri_escape_string(t->term, NULL, FALSE);
	char *url = g_strdup_printf("%.*ssearch1?q=%s", (int)base_len, service, q);
	term = json_pack("{s:s, s:s, s:I}", "match", t->term, "url", url, "count",
			 (json_int_t)t->count);
	if (t->label)
		json_object_set_new(term, "label", json_string(t->label));
	g_free(q);
	g_free(url);
	return term;
}

static json_t *search_autocomplete(struct db *db, enum search_kind kind, const char *service,
				   const struct db_query *q, const struct search_params *p,
				   struct iiifd_error *err)
{
	struct db_terms terms = { 0 };
	int64_t min = p->min ? strtoll(p->min, NULL, 10) : 1;
	if (!p->q || !*p->q) {
		iiifd_error_set(err, 400, "autocomplete needs q");
		return NULL;
	}
	if (db_autocomplete(db, q, p->q, min > 0 ? min : 1, SEARCH_TERMS_LIMIT, &terms, err) < 0)
		return NULL;
	char *id = search_url(service, p, -1);
	json_t *ignored = json_array(), *items = json_array();
	const char *names[] = { "motivation", "date", "user" };
	const char *values[] = { p->motivation, p->date, p->user };
	for (int i = 0; i < 3; i++)
		if (values[i])
			json_array_append_new(ignored, json_string(names[i]));
	/* the service id ends in "autocomplete1": its search service is the sibling "search1" */
	size_t base_len = strlen(service) - strlen(search_kind_name(kind));
	for (size_t i = 0; i < terms.count; i++)
		json_array_append_new(items, search_term_json(kind, &terms.items[i], service,
							      base_len));
	json_t *doc = kind == AUTOCOMPLETE_V2
			      ? json_pack("{s:s, s:s, s:s}", "@context", SEARCH_V2_CONTEXT, "id",
					  id, "type", "TermPage")
			      : json_pack("{s:s, s:s, s:s}", "@context",
					  "http://iiif.io/api/search/1/context.json", "@id", id,
					  "@type", "search:TermList");
	if (json_array_size(ignored))
		json_object_set(doc, "ignored", ignored);
	json_object_set_new(doc, kind == AUTOCOMPLETE_V2 ? "items" : "terms", items);
	json_decref(ignored);
	db_terms_release(&terms);
	g_free(id);
	return doc;
}

json_t *search_handle(struct db *db, struct page_cache *totals, const struct pres_context *c,
		      enum search_kind kind, const char *service_url, const char *scope,
		      bool scope_is_folder, const char *const *exclude,
		      const struct http_request *req, struct iiifd_error *err)
{
	struct search_params p;
	json_t *doc = NULL;
	if (search_params_read(req, kind, &p, err) == 0) {
		struct db_query q = { .scope = scope, .scope_is_folder = scope_is_folder,
				      .q = p.q, .motivations = (const char *const *)p.motivations,
				      .users = (const char *const *)p.users,
				      .dates = (const char *const *)p.dates,
				      .offset = p.page_no * SEARCH_PAGE_SIZE,
				      .limit = SEARCH_PAGE_SIZE, .exclude = exclude };
		if (p.score && db_score_range_parse("score", p.score, &q, err) < 0)
			goto out;
		doc = kind == SEARCH_V2 || kind == SEARCH_V1
			      ? search_run(db, totals, c, kind, service_url, &q, &p, err)
			      : search_autocomplete(db, kind, service_url, &q, &p, err);
	}
out:
	search_params_release(&p);
	return doc;
}
