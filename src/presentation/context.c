/*
 * context.c: URL construction and the Image API objects (bodies, thumbnails, services) that
 * Canvases point at. Sizes come from the Image API's own geometry code, so a body's width and
 * height are exactly what the image URL returns.
 */
#include "presentation/context.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "core/path.h"
#include "core/strings.h"
#include "storage/root.h"

#define PRES_THUMB_EDGE 200

/* Percent-encodes each segment of rel, keeping the '/' between them. */
static char *pres_encode_path(const char *rel)
{
	GString *out = g_string_new(NULL);
	gchar **segs = g_strsplit(rel, "/", -1);
	for (int i = 0; segs[i]; i++) {
		char enc[3 * 256 + 1];
		if (strings_url_encode(segs[i], enc, sizeof enc) < 0)
			enc[0] = '\0';
		g_string_append_printf(out, "%s%s", i ? "/" : "", enc);
	}
	g_strfreev(segs);
	return g_string_free(out, FALSE);
}

char *pres_url_collection(const struct pres_context *c, const char *rel)
{
	if (*rel == '\0')
		return g_strdup_printf("%s/iiif/presentation/collection", c->base);
	char *enc = pres_encode_path(rel);
	char *url = g_strdup_printf("%s/iiif/presentation/%s/collection", c->base, enc);
	g_free(enc);
	return url;
}

char *pres_url_manifest(const struct pres_context *c, const char *rel)
{
	char *enc = pres_encode_path(rel);
	char *url = g_strdup_printf("%s/iiif/presentation/%s/manifest", c->base, enc);
	g_free(enc);
	return url;
}

char *pres_url_media(const struct pres_context *c, const char *rel)
{
	char *enc = pres_encode_path(rel);
	char *url = g_strdup_printf("%s/iiif/media/%s", c->base, enc);
	g_free(enc);
	return url;
}

char *pres_image_identifier(const char *rel, int page, int npages)
{
	char enc[3 * 4096 + 1];
	if (strings_url_encode(rel, enc, sizeof enc) < 0)
		enc[0] = '\0';
	return npages > 1 ? g_strdup_printf("%s;%d", enc, page + 1) : g_strdup(enc);
}

char *pres_join(const char *rel, const char *name)
{
	return *rel ? g_strdup_printf("%s/%s", rel, name) : g_strdup(name);
}

/* The output size of size (e.g. "max", "!200,200") applied to a width x height image. */
static int pres_output_size(const struct pres_context *c, const char *size, int64_t width,
			    int64_t height, int64_t *out_w, int64_t *out_h)
{
	struct image_request req;
	struct image_geometry g;
	if (image_request_parse(IMAGE_API_V3, "full", size, "0", "default.jpg", &req, NULL) < 0 ||
	    image_request_resolve(&req, width, height, &c->limits, &g, NULL) < 0)
		return -1;
	*out_w = g.out_w;
	*out_h = g.out_h;
	return 0;
}

json_t *pres_image_body(const struct pres_context *c, const char *identifier, int64_t width,
			int64_t height)
{
	int64_t w = width, h = height;
	pres_output_size(c, "max", width, height, &w, &h);
	char *id3 = g_strdup_printf("%s/iiif/3/%s", c->base, identifier);
	char *id2 = g_strdup_printf("%s/iiif/2/%s", c->base, identifier);
	char *url = g_strdup_printf("%s/full/max/0/default.jpg", id3);
	json_t *body = json_pack(
		"{s:s, s:s, s:s, s:I, s:I, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "id", url, "type",
		"Image", "format", "image/jpeg", "width", (json_int_t)w, "height", (json_int_t)h,
		"service", "id", id3, "type", "ImageService3", "profile", "level2", "@id", id2,
		"@type", "ImageService2", "profile", "http://iiif.io/api/image/2/level2.json");
	g_free(id3);
	g_free(id2);
	g_free(url);
	return body;
}

json_t *pres_thumbnail(const struct pres_context *c, const char *identifier, int64_t width,
		       int64_t height)
{
	int64_t w, h;
	char size[48];
	snprintf(size, sizeof size, "!%d,%d", PRES_THUMB_EDGE, PRES_THUMB_EDGE);
	if (width <= PRES_THUMB_EDGE && height <= PRES_THUMB_EDGE)
		snprintf(size, sizeof size, "max");
	if (pres_output_size(c, size, width, height, &w, &h) < 0)
		return NULL;
	char *service = g_strdup_printf("%s/iiif/3/%s", c->base, identifier);
	char *url = g_strdup_printf("%s/full/%lld,%lld/0/default.jpg", service, (long long)w,
				    (long long)h);
	json_t *thumb = json_pack("{s:s, s:s, s:s, s:I, s:I, s:[{s:s, s:s, s:s}]}", "id", url,
				  "type", "Image", "format", "image/jpeg", "width", (json_int_t)w,
				  "height", (json_int_t)h, "service", "id", service, "type",
				  "ImageService3", "profile", "level2");
	g_free(service);
	g_free(url);
	return thumb;
}

int pres_resolve(const char *root_real, const char *rel, const char *const *extensions,
		 bool folder, char **abs, struct iiifd_error *err)
{
	struct storage_root *remote = storage_root_of(root_real);
	*abs = NULL;
	if (remote)
		return folder ? storage_resolve_folder(remote, rel, abs, err)
			      : storage_resolve(remote, rel, extensions, abs, err);
	return folder ? path_resolve_folder(root_real, rel, abs, err)
		      : path_resolve(root_real, rel, extensions, abs, err);
}
