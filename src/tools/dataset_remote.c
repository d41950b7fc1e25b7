/*
 * dataset_remote.c: `iiifd dataset URL`: the same dataset from a remote IIIF server. Manifests
 * (a Collection's members, followed to a bounded depth) and their Canvases' AnnotationPages
 * (referenced or embedded, following `next`) are read as Presentation 3 JSON; pixels come from
 * each Canvas's Image service. Every request goes through one libcurl handle at most `rate` a
 * second, with a size cap and a timeout, so a dataset run never hammers a server.
 */
#include "tools/dataset.h"

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "annotation/import.h"
#include "annotation/polygon.h"

#define REMOTE_MAX_JSON (64 * 1024 * 1024)
#define REMOTE_MAX_IMAGE (256 * 1024 * 1024)
#define REMOTE_MAX_DEPTH 8   /* Collections within Collections */
#define REMOTE_MAX_PAGES 10000 /* AnnotationPages followed by next, per Canvas */

struct dataset_remote {
	CURL *h;
	double rate;
	gint64 last_us;
	int64_t requests;
};

struct remote_body {
	GByteArray *data;
	size_t max;
};

static size_t remote_write(char *p, size_t size, size_t n, void *ctx)
{
	struct remote_body *b = ctx;
	if (b->data->len + size * n > b->max)
		return 0; /* fails the transfer: over the cap */
	g_byte_array_append(b->data, (const guint8 *)p, (guint)(size * n));
	return size * n;
}

struct dataset_remote *dataset_remote_new(double rate)
{
	struct dataset_remote *r = g_new0(struct dataset_remote, 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r->h = curl_easy_init();
	r->rate = rate > 0 ? rate : 5;
	if (!r->h) {
		g_free(r);
		return NULL;
	}
	return r;
}

void dataset_remote_free(struct dataset_remote *r)
{
	if (!r)
		return;
	curl_easy_cleanup(r->h);
	g_free(r);
}

int64_t dataset_remote_requests(const struct dataset_remote *r)
{
	return r->requests;
}

/* GETs url (200 only) into a new byte array; NULL with msg. */
static GByteArray *remote_get(struct dataset_remote *r, const char *url, size_t max, char *msg,
			      size_t size)
{
	/* URLs come from the documents read: never file://, ftp:// or the like */
	if (g_ascii_strncasecmp(url, "http://", 7) != 0 &&
	    g_ascii_strncasecmp(url, "https://", 8) != 0) {
		snprintf(msg, size, "%.200s: not an http or https URL", url);
		return NULL;
	}
	gint64 gap = (gint64)(1e6 / r->rate), now = g_get_monotonic_time();
	if (r->last_us && now - r->last_us < gap)
		g_usleep((gulong)(gap - (now - r->last_us)));
	r->last_us = g_get_monotonic_time();
	r->requests++;
	struct remote_body b = {g_byte_array_new(), max};
	curl_easy_reset(r->h);
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(r->h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, "iiifd-dataset");
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, remote_write);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &b);
	CURLcode rc = curl_easy_perform(r->h);
	long status = 0, redirects = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	/* redirects were requests too: the next one waits for them, so the rate holds */
	curl_easy_getinfo(r->h, CURLINFO_REDIRECT_COUNT, &redirects);
	r->requests += redirects;
	r->last_us += gap * redirects;
	if (rc != CURLE_OK || status != 200) {
		snprintf(msg, size, "GET %.200s: %s", url,
			 rc != CURLE_OK ? curl_easy_strerror(rc) : "not 200");
		if (rc == CURLE_OK)
			snprintf(msg, size, "GET %.200s: HTTP %ld", url, status);
		g_byte_array_unref(b.data);
		return NULL;
	}
	return b.data;
}

static json_t *remote_json(struct dataset_remote *r, const char *url, char *msg, size_t size)
{
	GByteArray *b = remote_get(r, url, REMOTE_MAX_JSON, msg, size);
	if (!b)
		return NULL;
	json_error_t e;
	json_t *doc = json_loadb((const char *)b->data, b->len, 0, &e);
	if (!doc)
		snprintf(msg, size, "%.200s: not JSON (line %d: %.80s)", url, e.line, e.text);
	g_byte_array_unref(b);
	return doc;
}

static const char *remote_id(const json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	return id ? id : json_string_value(json_object_get(o, "@id"));
}

static const char *remote_first_string(const json_t *v)
{
	return json_is_array(v) ? json_string_value(json_array_get(v, 0)) : json_string_value(v);
}

/* The numbers of a points list up to end, in pairs, as one ring (SVG's separators: commas
 * and blanks in any mix, "10, 10" as well as "10,10"). */
static void remote_svg_ring(struct polygon_builder *b, const char *p, const char *end, double cw,
			    double ch)
{
	double xy[2];
	int k = 0;
	polygon_ring_start(b);
	while (p < end) {
		char *next;
		double v = g_ascii_strtod(p, &next);
		if (next == p || next > end) {
			p++; /* a separator */
			continue;
		}
		p = next;
		xy[k++] = v;
		if (k == 2 && polygon_point(b, xy[0], xy[1], cw, ch) < 0 && b->oom)
			return;
		k %= 2;
	}
}

/* The outline of an SvgSelector's <polygon>s, in the store's form (NULL: none). */
static char *remote_svg_outline(const char *svg, double cw, double ch)
{
	struct polygon_builder b = {0};
	double box[4];
	for (const char *p = svg; (p = strstr(p, "points=\""));) {
		p += 8;
		const char *end = strchr(p, '"');
		if (!end)
			break;
		remote_svg_ring(&b, p, end, cw, ch);
		p = end;
	}
	return polygon_finish(&b, box);
}

/* The region of a target on its Canvas: "#xywh=" of a string, or a SpecificResource's selectors. */
static void remote_target(const json_t *t, struct anno_record *rec, double cw, double ch)
{
	const char *frag = NULL, *svg = NULL;
	if (json_is_array(t))
		t = json_array_get(t, 0);
	if (json_is_string(t)) {
		frag = strchr(json_string_value(t), '#');
		frag = frag ? frag + 1 : NULL;
	} else {
		json_t *sel = json_object_get(t, "selector"), *one;
		size_t i;
		json_t *list = json_is_array(sel) ? sel : json_pack("[O]", sel ? sel : json_null());
		json_array_foreach(list, i, one) {
			const char *type = json_string_value(json_object_get(one, "type"));
			const char *v = json_string_value(json_object_get(one, "value"));
			if (type && v && strcmp(type, "SvgSelector") == 0)
				svg = v;
			else if (v && !frag)
				frag = v;
		}
		if (list != sel)
			json_decref(list);
	}
	double v[4];
	if (frag && g_str_has_prefix(frag, "xywh=") &&
	    sscanf(frag + 5 + (g_str_has_prefix(frag + 5, "pixel:") ? 6 : 0), "%lf,%lf,%lf,%lf",
		   &v[0], &v[1], &v[2], &v[3]) == 4 && isfinite(v[0]) && isfinite(v[1]) &&
	    /* the region as the local store keeps it: inside the Canvas, so crops are too */
	    import_clamp(&v[0], &v[1], &v[2], &v[3], cw, ch)) {
		rec->has_xywh = true;
		rec->x = v[0], rec->y = v[1], rec->w = v[2], rec->h = v[3];
	}
	if (svg && rec->has_xywh)
		rec->polygon = remote_svg_outline(svg, cw, ch);
}

/* One Web Annotation as a record (file = its Canvas's id); false when it has no text. */
static bool remote_record(const json_t *a, const char *canvas_id, double cw, double ch,
			  struct anno_record *rec)
{
	json_t *body = json_object_get(a, "body");
	body = json_is_array(body) ? json_array_get(body, 0) : body;
	const char *text = json_string_value(json_object_get(body, "value"));
	const char *motivation = remote_first_string(json_object_get(a, "motivation"));
	if (!text || !motivation)
		return false;
	memset(rec, 0, sizeof *rec);
	rec->target_file = anno_strdup(canvas_id);
	rec->motivation = anno_strdup(motivation);
	rec->text = anno_strdup(text);
	rec->granularity = anno_strdup(json_string_value(json_object_get(a, "textGranularity")));
	json_t *score = json_object_get(a, "score");
	rec->has_score = json_is_number(score);
	rec->score = json_number_value(score);
	json_t *gen = json_object_get(a, "generator");
	const char *g = json_string_value(json_object_get(gen, "name"));
	rec->generator = anno_strdup(g ? g : remote_id(gen));
	remote_target(json_object_get(a, "target"), rec, cw, ch);
	return true;
}

size_t dataset_remote_read_items(const void *items_json, struct dataset_canvas *c,
				 const struct dataset_opts *o, void *labels_set)
{
	const json_t *items = items_json;
	GHashTable *labels = labels_set;
	size_t i, added = 0;
	json_t *a;
	json_array_foreach(items, i, a) {
		struct anno_record rec;
		if (!remote_record(a, c->canvas_id, (double)c->width, (double)c->height, &rec))
			continue;
		/* words stay out unless asked for, as in the local store's listing */
		bool word = rec.granularity && strcmp(rec.granularity, "word") == 0;
		if ((!word || (o->granularity && strcmp(o->granularity, "word") == 0)) &&
		    (!o->motivation || strcmp(rec.motivation, o->motivation) == 0) &&
		    dataset_wanted(o, &rec)) {
			g_hash_table_add(labels, g_strdup(rec.text));
			*anno_list_add(&c->records) = rec;
			added++;
		} else {
			anno_record_release(&rec);
		}
	}
	return added;
}

struct remote_run {
	struct dataset_remote *r;
	const struct dataset_opts *o;
	GPtrArray *canvases;
	GHashTable *labels;
	GHashTable *seen; /* URLs of the Manifests and Collections read: each is read once */
	char *msg;
	size_t size;
};

/* Adds the chosen annotations of one AnnotationPage (and the pages after it) to c; a page
 * met again ends the chain (a `next` that loops). */
static int remote_pages(struct remote_run *run, json_t *page, struct dataset_canvas *c)
{
	GHashTable *pages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int rc = 0;
	json_incref(page);
	for (int n = 0; page && n < REMOTE_MAX_PAGES; n++) {
		json_t *items = json_object_get(page, "items");
		const char *id = remote_id(page);
		if (id && !g_hash_table_add(pages, g_strdup(id)))
			break;
		if (!items && id) { /* a reference: fetch it */
			json_t *full = remote_json(run->r, id, run->msg, run->size);
			json_decref(page);
			if (!(page = full)) {
				rc = -1;
				break;
			}
			items = json_object_get(page, "items");
		}
		dataset_remote_read_items(items, c, run->o, run->labels);
		json_t *next = json_object_get(page, "next");
		const char *next_id = json_is_string(next) ? json_string_value(next) : remote_id(next);
		if (next_id && g_hash_table_contains(pages, next_id))
			break;
		json_t *following = next_id ? remote_json(run->r, next_id, run->msg, run->size) : NULL;
		json_decref(page);
		page = following;
		if (next_id && !page) {
			rc = -1;
			break;
		}
	}
	json_decref(page);
	g_hash_table_destroy(pages);
	return rc;
}

/* The Image service of a Canvas's first painting annotation (no trailing slash). */
static char *remote_service(const json_t *canvas)
{
	json_t *page = json_array_get(json_object_get(canvas, "items"), 0);
	json_t *body = json_object_get(json_array_get(json_object_get(page, "items"), 0), "body");
	json_t *svc = json_object_get(body, "service");
	const char *id = remote_id(json_is_array(svc) ? json_array_get(svc, 0) : svc);
	if (!id)
		return NULL;
	char *s = g_strdup(id);
	size_t n = strlen(s);
	while (n && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* A path for names and the split: the URL without scheme and host. */
static char *remote_path(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return g_strdup(p ? p + 1 : url);
}

/* A Canvas of the Manifest m, whose id is manifest_id. */
static int remote_canvas(struct remote_run *run, const json_t *m, const char *manifest_id,
			 const json_t *canvas, size_t n)
{
	char *service = remote_service(canvas);
	const char *rights = json_string_value(json_object_get(m, "rights"));
	json_t *w = json_object_get(canvas, "width"), *h = json_object_get(canvas, "height");
	if (!service || !json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) <= 0 ||
	    json_integer_value(h) <= 0 || !remote_id(canvas) ||
	    !dataset_rights_ok(run->o->rights, rights)) {
		g_free(service);
		return 0; /* not an image Canvas, or rights not wanted */
	}
	struct dataset_canvas *c = g_new0(struct dataset_canvas, 1);
	c->manifest = remote_path(manifest_id);
	c->manifest_id = g_strdup(manifest_id);
	c->canvas_id = g_strdup(remote_id(canvas));
	c->service_id = service;
	c->rights = g_strdup(rights);
	c->file = g_strdup_printf("canvas%zu", n);
	c->width = json_integer_value(w);
	c->height = json_integer_value(h);
	c->split = dataset_split_of(c->manifest, run->o->seed, run->o->train, run->o->val);
	json_t *pages = json_object_get(canvas, "annotations"), *page;
	size_t i;
	int rc = 0;
	json_array_foreach(pages, i, page)
		if (rc == 0)
			rc = remote_pages(run, page, c);
	if (c->records.count)
		g_ptr_array_add(run->canvases, c);
	else
		dataset_canvas_free(c);
	return rc;
}

static int remote_document(struct remote_run *run, const char *url, int depth)
{
	if (!g_hash_table_add(run->seen, g_strdup(url)))
		return 0; /* a Collection that lists itself, or a Manifest listed twice */
	json_t *doc = remote_json(run->r, url, run->msg, run->size), *item;
	if (!doc)
		return -1;
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *id = remote_id(doc) ? remote_id(doc) : url;
	size_t i;
	int rc = 0;
	if (type && strcmp(type, "Manifest") == 0) {
		json_array_foreach(json_object_get(doc, "items"), i, item)
			if (rc == 0)
				rc = remote_canvas(run, doc, id, item, i + 1);
	} else if (type && strcmp(type, "Collection") == 0 && depth < REMOTE_MAX_DEPTH) {
		json_array_foreach(json_object_get(doc, "items"), i, item)
			if (rc == 0 && remote_id(item))
				rc = remote_document(run, remote_id(item), depth + 1);
	} else {
		bool deep = type && strcmp(type, "Collection") == 0;
		snprintf(run->msg, run->size, "%.200s: %s", url,
			 deep ? "a Collection nested " G_STRINGIFY(REMOTE_MAX_DEPTH)
				" deep, too deep to follow"
			      : "not a Presentation 3 Manifest or Collection");
		rc = -1;
	}
	json_decref(doc);
	return rc;
}

int dataset_remote_gather(struct dataset_remote *r, const char *url, const struct dataset_opts *o,
			  void *canvases, void *labels, char *msg, size_t size)
{
	struct remote_run run = {.r = r, .o = o, .canvases = canvases, .labels = labels,
				 .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
				 .msg = msg, .size = size};
	int rc = remote_document(&run, url, 0);
	g_hash_table_destroy(run.seen);
	return rc;
}

int dataset_remote_pixels(struct dataset_remote *r, const struct dataset_sample *s,
			  const char *size_param, void **bytes, size_t *len, int64_t *w,
			  int64_t *h, char *msg, size_t msg_size)
{
	char *url = g_strdup_printf("%s/%lld,%lld,%lld,%lld/%s/0/default.jpg", s->canvas->service_id,
				    (long long)s->rx, (long long)s->ry, (long long)s->rw,
				    (long long)s->rh, size_param);
	GByteArray *b = remote_get(r, url, REMOTE_MAX_IMAGE, msg, msg_size);
	g_free(url);
	if (!b)
		return -1;
	VipsImage *im = vips_image_new_from_buffer(b->data, b->len, "", NULL);
	if (!im) {
		snprintf(msg, msg_size, "the Image service did not send an image");
		vips_error_clear();
		g_byte_array_unref(b);
		return -1;
	}
	*w = vips_image_get_width(im);
	*h = vips_image_get_height(im);
	g_object_unref(im);
	*len = b->len;
	*bytes = g_byte_array_free(b, FALSE);
	return 0;
}
