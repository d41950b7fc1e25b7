/*
 * degraded.c: the degraded tier's file (degraded.h), rendered by the ordinary pipeline as
 * full/!max,max/0/default.jpg.
 */
#include "image/degraded.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"

static char *degraded_path(const struct image_source *src, int max, const char *dir)
{
	char key[PATH_MAX + 128];
	snprintf(key, sizeof key, "%s|%d|%lld.%09ld|%lld|%d%s%s", src->path, src->page,
		 (long long)src->mtime, src->mtime_nsec, (long long)src->file_size, max,
		 src->file.etag[0] ? "|" : "", src->file.etag); /* a remote object's version */
	gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
	char *path = NULL;
	if (sum && asprintf(&path, "%s/degraded-%s.jpg", dir, sum) < 0)
		path = NULL;
	g_free(sum);
	return path;
}

char *image_degraded_file(const struct image_source *src, int max, const char *dir,
			  const struct image_encode_options *enc, struct iiifd_error *err)
{
	int64_t longest = src->width > src->height ? src->width : src->height;
	if (longest < max)
		max = (int)longest; /* small already: the tier is the image as it is */
	char *path = degraded_path(src, max, dir);
	struct stat st;
	if (!path)
		return iiifd_error_set(err, 500, "out of memory"), NULL;
	if (stat(path, &st) == 0 && st.st_size > 0)
		return path;
	char size[48];
	snprintf(size, sizeof size, "!%d,%d", max, max);
	struct image_request ir;
	struct image_geometry g;
	struct image_limits lim = { .max_width = max, .max_height = max,
				    .max_area = (int64_t)max * max, .max_upscale = 1 };
	void *body = NULL;
	size_t len = 0;
	g_mkdir_with_parents(dir, 0755);
	if (image_request_parse(IMAGE_API_V3, "full", size, "0", "default.jpg", &ir, err) < 0 ||
	    image_request_resolve(&ir, src->width, src->height, &lim, &g, err) < 0 ||
	    image_pipeline_render(src, &ir, &g, enc, &body, &len, err) < 0) {
		free(path);
		return NULL;
	}
	int rc = fileio_write_atomic(path, body, len, false);
	g_free(body);
	if (rc < 0) {
		iiifd_error_set(err, 500, "cannot store the degraded image: %s", strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}
