/*
 * dataset_prov.c: what ties a dataset image back to IIIF: its split (FNV-1a of Manifest path and
 * seed, so one book never straddles splits and reruns agree), a Content State per region, and
 * one JSON line of provenance per image.
 */
#include "tools/dataset.h"

#include <glib.h>
#include <jansson.h>
#include <string.h>

const char *const dataset_split_names[3] = {"train", "val", "test"};

enum dataset_split dataset_split_of(const char *manifest, const char *seed, int train, int val)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *s = seed; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL; /* keeps ("ab","c") apart from ("a","bc") */
	for (const char *s = manifest; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	int bucket = (int)(h % 100);
	return bucket < train ? SPLIT_TRAIN : bucket < train + val ? SPLIT_VAL : SPLIT_TEST;
}

/* encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) as UTF-8 %XX. */
static char *dataset_uri_component(const char *s)
{
	static const char keep[] = "-_.!~*'()";
	GString *out = g_string_new(NULL);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (g_ascii_isalnum(*p) || strchr(keep, *p))
			g_string_append_c(out, (char)*p);
		else
			g_string_append_printf(out, "%%%02X", *p);
	}
	return g_string_free(out, FALSE);
}

char *dataset_content_state(const char *manifest_id, const char *canvas_id, int64_t x, int64_t y,
			    int64_t w, int64_t h)
{
	char *target = g_strdup_printf("%s#xywh=%lld,%lld,%lld,%lld", canvas_id, (long long)x,
				       (long long)y, (long long)w, (long long)h);
	json_t *state = json_pack("{s:s, s:s, s:[s], s:{s:s, s:s, s:[{s:s, s:s}]}}", "@context",
				  "http://iiif.io/api/presentation/3/context.json", "type",
				  "Annotation", "motivation", "contentState", "target", "id",
				  target, "type", "Canvas", "partOf", "id", manifest_id, "type",
				  "Manifest");
	char *plain = json_dumps(state, JSON_COMPACT);
	char *uri = dataset_uri_component(plain);
	char *b64 = g_base64_encode((const guchar *)uri, strlen(uri));
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	size_t n = strlen(b64);
	while (n && b64[n - 1] == '=')
		b64[--n] = '\0';
	free(plain);
	g_free(uri);
	g_free(target);
	json_decref(state);
	return b64;
}

char *dataset_provenance(const struct dataset_sample *s, const char *size_param)
{
	const struct dataset_canvas *c = s->canvas;
	char *region = g_strdup_printf("%lld,%lld,%lld,%lld", (long long)s->rx, (long long)s->ry,
				       (long long)s->rw, (long long)s->rh);
	char *image = g_strdup_printf("%s/%s/%s/0/default.jpg", c->service_id, region, size_param);
	char *state = dataset_content_state(c->manifest_id, c->canvas_id, s->rx, s->ry, s->rw, s->rh);
	char *xywh = g_strdup_printf("xywh=%s", region);
	json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I}", "file",
				 s->path, "split", dataset_split_names[c->split], "image", image,
				 "manifest", c->manifest_id, "canvas", c->canvas_id, "region", xywh,
				 "contentState", state, "rights",
				 c->rights ? json_string(c->rights) : json_null(), "width",
				 (json_int_t)s->out_w, "height", (json_int_t)s->out_h);
	char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(12));
	char *out = g_strdup(text);
	free(text);
	json_decref(line);
	g_free(xywh);
	g_free(state);
	g_free(image);
	g_free(region);
	return out;
}
