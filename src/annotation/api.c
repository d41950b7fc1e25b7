/*
 * api.c: reads come straight from the store; writes are authorised, validated against the
 * Manifest's Canvases, and guarded by ETags (If-Match) so two editors cannot silently overwrite
 * each other.
 */
#include "annotation/api.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/georef.h"
#include "annotation/webanno.h"
#include "core/strings.h"
#include "discovery/discovery.h"
#include "maps/serve.h"

#define API_LIST_LIMIT 1000

/* One request to a Manifest's annotation container, and what answering it needs. */
struct api_call {
	struct db *db;
	const struct pres_canvas_index *idx;
	const json_t *manifest; /* built, for GET of the container; else NULL */
	const char *manifest_rel;
	const char *origin;
	const struct http_request *req;
	struct http_response *resp;
	char who[128]; /* the writer, once authorised */
};

/*
 * Stored record r on Canvas n (1-based) as served: {manifest}/annotations/{id}. A Georeference
 * Annotation as the Canvas embeds it (NULL if it no longer parses). New reference.
 */
static json_t *api_record_to_json(const struct pres_canvas_index *idx,
				  const struct anno_record *r, size_t n)
{
	char *id_base = g_strdup_printf("%s/annotations", idx->manifest_id);
	json_t *anno;
	if (anno_georef_record(r)) {
		char *id = g_strdup_printf("%s/%s", id_base, r->id);
		anno = anno_georef_to_json(r, idx, n, id);
		g_free(id);
	} else {
		char *canvas = g_strdup_printf("%s/canvas/%zu", idx->manifest_id, n);
		anno = webanno_to_json(r, canvas, id_base);
		g_free(canvas);
	}
	g_free(id_base);
	return anno;
}

/*
 * The Annotation JSON of a stored record of this Manifest, @context first (with the extension
 * contexts its properties need); NULL with 404 otherwise.
 */
static json_t *api_record_json(const struct api_call *call, const char *id,
			       struct iiifd_error *err)
{
	struct anno_record r = { 0 };
	json_t *out = NULL;
	if (db_get(call->db, id, &r, err) < 0)
		return NULL;
	size_t n = pres_canvas_index_find(call->idx, r.target_file, r.page);
	if (!r.manifest || strcmp(r.manifest, call->manifest_rel) != 0 || n == 0) {
		iiifd_error_set(err, 404, "no annotation '%s' in this Manifest", id);
	} else {
		json_t *anno = api_record_to_json(call->idx, &r, n);
		if (!anno)
			iiifd_error_set(err, 500, "annotation '%s' cannot be read back", id);
		else
			out = webanno_with_context(anno, webanno_context_for(
				anno, call->origin, WEBANNO_PRESENTATION_CONTEXT));
		json_decref(anno);
	}
	anno_record_release(&r);
	return out;
}

/* The strong ETag of an annotation's JSON, as http_response_json() computes it. */
static char *api_etag(const json_t *anno)
{
	char *text = json_dumps(anno, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	char etag[40];
	strings_etag(text ? text : "", etag, sizeof etag);
	free(text);
	return g_strdup(etag);
}

/* Compares in time independent of where the strings differ, so tokens cannot be guessed by timing. */
static bool api_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	for (size_t i = 0; i < alen; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (blen ? blen : 1)];
	return diff == 0 && blen;
}

/*
 * Finds token among "name=token, token2, ..." (a bare token is named ANNO_API_DEFAULT_WRITER);
 * writes its name to who. Returns whether it was found.
 */
static bool api_token_lookup(const char *tokens, const char *token, char *who, size_t who_len)
{
	bool found = false;
	size_t tlen = strlen(token);
	for (const char *p = tokens; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *entry = p, *eq;
		while (len && *entry == ' ')
			entry++, len--;
		while (len && entry[len - 1] == ' ')
			len--;
		eq = memchr(entry, '=', len);
		const char *secret = eq ? eq + 1 : entry;
		size_t slen = eq ? len - (size_t)(eq + 1 - entry) : len;
		if (!found && api_token_equal(token, tlen, secret, slen)) {
			found = true; /* no early return: every entry costs the same time */
			if (eq)
				snprintf(who, who_len, "%.*s", (int)(eq - entry), entry);
			else
				snprintf(who, who_len, "%s", ANNO_API_DEFAULT_WRITER);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return found;
}

int anno_api_authorise(const char *tokens, const struct http_request *req,
		       struct http_response *resp, char *who, size_t who_len,
		       struct iiifd_error *err)
{
	const char *auth = http_request_header(req, "Authorization");
	if (!tokens || !*tokens)
		return iiifd_error_set(err, 403, "annotation writes are switched off "
						 "(set api-token in the configuration)");
	if (!auth || strncmp(auth, "Bearer ", 7) != 0) {
		if (resp)
			http_response_header(resp, "WWW-Authenticate", "Bearer realm=\"iiifd\"");
		return iiifd_error_set(err, 401, "writes need an Authorization: Bearer token");
	}
	if (!api_token_lookup(tokens, auth + 7, who, who_len))
		return iiifd_error_set(err, 403, "that token may not write annotations");
	return 0;
}

/* The request body as a validated record of this Manifest. */
static int api_parse_body(const struct api_call *call, struct anno_record *rec,
			  struct iiifd_error *err)
{
	const struct http_request *req = call->req;
	json_error_t jerr;
	if (req->body_too_large)
		return iiifd_error_set(err, 413, "the annotation is larger than %d bytes",
				       ANNO_API_MAX_BODY);
	json_t *doc = req->body ? json_loadb(req->body, req->body_len, 0, &jerr) : NULL;
	if (!doc)
		return iiifd_error_set(err, 400, "the body is not JSON (%s, line %d)",
				       req->body ? jerr.text : "empty", req->body ? jerr.line : 0);
	int rc = anno_georef_is(doc) ? anno_georef_from_json(doc, call->idx, rec, err)
				     : webanno_from_json(doc, call->idx, rec, err);
	json_decref(doc);
	if (rc == 0) {
		rec->manifest = strdup(call->manifest_rel);
		rec->creator = strdup(call->who);
	}
	return rc;
}

/*
 * The Web Annotation Protocol's headers: what the resource is (Link rel="type": an Annotation
 * is an ldp:Resource, the container an ldp:BasicContainer) and which methods it takes.
 */
static void api_protocol_headers(struct http_response *resp, bool container)
{
	if (container) {
		http_response_header(resp, "Link", "<http://www.w3.org/ns/ldp#BasicContainer>; "
						   "rel=\"type\", <http://www.w3.org/TR/"
						   "annotation-protocol/>; rel=\"http://www.w3.org/ns/"
						   "ldp#constrainedBy\"");
		http_response_header(resp, "Allow", "GET, HEAD, POST, OPTIONS");
		http_response_header(resp, "Accept-Post", "application/ld+json; "
							  "profile=\"http://www.w3.org/ns/anno.jsonld\"");
	} else {
		http_response_header(resp, "Link", "<http://www.w3.org/ns/ldp#Resource>; rel=\"type\"");
		http_response_header(resp, "Allow", "GET, HEAD, PUT, DELETE, OPTIONS");
	}
}

/* The annotation with status (a conditional GET may turn it into 304); its ETag is api_etag(). */
static void api_send(const struct api_call *call, json_t *anno, int status)
{
	struct http_response *resp = call->resp;
	const struct http_request *req = call->req;
	resp->status = status;
	http_response_json(resp, req, anno, NULL, false, "no-store", false);
	api_protocol_headers(resp, false);
	if (status == 201)
		http_response_header(resp, "Location", "%s",
				     json_string_value(json_object_get(anno, "id")));
}

static int api_create(const struct api_call *call, struct iiifd_error *err)
{
	struct anno_record rec = { 0 };
	if (api_parse_body(call, &rec, err) < 0 || db_insert(call->db, &rec, err) < 0) {
		anno_record_release(&rec);
		return -1;
	}
	json_t *anno = api_record_json(call, rec.id, err);
	anno_record_release(&rec);
	if (!anno)
		return -1;
	api_send(call, anno, 201);
	json_decref(anno);
	return 0;
}

/* If-Match must name the current version: 428 without it (for PUT), 412 when it is stale. */
static int api_precondition(const json_t *current, const struct http_request *req, bool required,
			    struct iiifd_error *err)
{
	const char *if_match = http_request_header(req, "If-Match");
	if (!if_match)
		return required ? iiifd_error_set(err, 428, "replacing needs If-Match with the "
							    "annotation's ETag")
				: 0;
	char *etag = api_etag(current);
	bool ok = strcmp(if_match, "*") == 0 || strstr(if_match, etag) != NULL;
	g_free(etag);
	return ok ? 0 : iiifd_error_set(err, 412, "the annotation changed since that ETag");
}

static int api_replace(const struct api_call *call, const char *id, const json_t *current,
		       struct iiifd_error *err)
{
	struct anno_record rec = { 0 };
	if (api_precondition(current, call->req, true, err) < 0)
		return -1;
	if (api_parse_body(call, &rec, err) < 0) {
		anno_record_release(&rec);
		return -1;
	}
	rec.id = strdup(id);
	int rc = db_update(call->db, &rec, err);
	anno_record_release(&rec);
	json_t *anno = rc == 0 ? api_record_json(call, id, err) : NULL;
	if (!anno)
		return -1;
	api_send(call, anno, 200);
	json_decref(anno);
	return 0;
}

/* The container's stored records, filtered by the request's score and motivation. */
static int api_list_query(const struct api_call *call, struct anno_list *list, bool *georef,
			  struct iiifd_error *err)
{
	struct db_query q = { .scope = call->manifest_rel, .limit = API_LIST_LIMIT };
	int64_t total = 0;
	char *score = NULL, *motivation = NULL;
	const char *motivations[2] = { NULL, NULL };
	int rc = http_request_arg_checked(call->req, "score", &score, err);
	if (rc == 0)
		rc = http_request_arg_checked(call->req, "motivation", &motivation, err);
	if (rc == 0 && score)
		rc = db_score_range_parse("score", score, &q, err);
	motivations[0] = motivation;
	q.motivations = motivation ? motivations : NULL;
	/* georeferencing has no score */
	*georef = !score && (!motivation || strcmp(motivation, ANNO_GEOREF_MOTIVATION) == 0);
	if (rc == 0)
		rc = db_search(call->db, &q, list, &total, err);
	free(score);
	free(motivation);
	return rc;
}

/*
 * Appends the Georeference Annotations the Manifest's Canvases embed, those of the files next to
 * the images and the stored ones alike, exactly as embedded. Returns how many.
 */
static size_t api_list_georef(const json_t *manifest, json_t *items)
{
	size_t i, j, k, count = 0;
	json_t *canvas, *page, *anno;
	json_array_foreach(json_object_get(manifest, "items"), i, canvas) {
		json_array_foreach(json_object_get(canvas, "annotations"), j, page) {
			const char *id = json_string_value(json_object_get(page, "id"));
			if (!id || !g_str_has_suffix(id, "/annotations/" MAPS_PAGE_NAME))
				continue;
			json_array_foreach(json_object_get(page, "items"), k, anno) {
				json_array_append(items, anno);
				count++;
			}
		}
	}
	return count;
}

static int api_list(const struct api_call *call, struct iiifd_error *err)
{
	const struct pres_canvas_index *idx = call->idx;
	struct anno_list list = { 0 };
	bool georef = false;
	if (api_list_query(call, &list, &georef, err) < 0)
		return -1;
	json_t *items = json_array();
	json_t *context = webanno_context(call->origin);
	if (georef && api_list_georef(call->manifest, items))
		json_array_insert_new(context, 0, json_string(MAPS_GEOREF_CONTEXT));
	for (size_t i = 0; i < list.count; i++) {
		size_t n = pres_canvas_index_find(idx, list.items[i].target_file, list.items[i].page);
		/* db_search() leaves georeferencing out: it is listed above, from the Manifest */
		json_t *anno = n ? api_record_to_json(idx, &list.items[i], n) : NULL;
		if (anno)
			json_array_append_new(items, anno);
	}
	char *id = g_strdup_printf("%s/annotations", idx->manifest_id);
	json_t *page = json_pack("{s:o, s:s, s:s, s:o}", "@context", context, "id", id, "type",
				 "AnnotationPage", "items", items);
	http_response_json(call->resp, call->req, page, NULL, false, "no-cache", false);
	api_protocol_headers(call->resp, true);
	json_decref(page);
	anno_list_release(&list);
	g_free(id);
	return 0;
}

static int api_item(struct api_call *call, const char *token, const char *id,
		    struct iiifd_error *err)
{
	const char *method = call->req->method;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (!get && anno_api_authorise(token, call->req, call->resp, call->who, sizeof call->who,
				       err) < 0)
		return -1;
	json_t *current = api_record_json(call, id, err);
	int rc = current ? 0 : -1;
	if (current && get) {
		api_send(call, current, 200);
	} else if (current && strcmp(method, "PUT") == 0) {
		rc = api_replace(call, id, current, err);
	} else if (current && strcmp(method, "DELETE") == 0) {
		rc = api_precondition(current, call->req, false, err);
		if (rc == 0 && (rc = db_delete(call->db, id, err)) == 0)
			call->resp->status = 204;
	} else if (current) {
		rc = iiifd_error_set(err, 405, "an annotation takes GET, PUT and DELETE");
	}
	json_decref(current);
	return rc;
}

void anno_api_container(struct db *db, const struct anno_api_manifest *m, const char *origin,
			const char *token, const char *id, const struct http_request *req,
			struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct api_call call = { .db = db, .idx = m->idx, .manifest = m->doc,
				 .manifest_rel = m->rel, .origin = origin, .req = req,
				 .resp = resp };
	int rc;
	if (id)
		rc = api_item(&call, token, id, &err);
	else if (strcmp(req->method, "POST") == 0)
		rc = anno_api_authorise(token, req, resp, call.who, sizeof call.who, &err) < 0
			     ? -1
			     : api_create(&call, &err);
	else if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
		rc = api_list(&call, &err);
	else
		rc = iiifd_error_set(&err, 405, "the container takes GET and POST");
	if (rc < 0)
		http_response_error(resp, &err);
	else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		discovery_note_edit(db, m->rel); /* the Manifest's annotations changed */
}
