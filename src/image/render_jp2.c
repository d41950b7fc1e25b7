/*
 * render_jp2.c: see render_jp2.h. Level and area are those of the libvips path (pipeline.c:
 * the smallest resolution level at or above the output, every level pixel the region touches,
 * scaled whole to the output size, as vips_resize does there), so both paths give the same
 * picture; an area of the output's size is encoded as it is.
 */
#include "image/render_jp2.h"

#include <glib.h>
#include <stdlib.h>
#include <vips/vips.h>

#include "core/log.h"
#include "core/metrics.h"
#include "image/jp2.h"
#include "image/jpeg_codec.h"
#include "image/resample.h"
#include "image/source.h"

bool render_jp2_applies(const struct image_source *src, const struct image_request *req,
			const struct image_geometry *g, const struct image_encode_options *opt)
{
	if (!opt->direct || !src->jp2 || src->kind != IMAGE_SOURCE_JP2 ||
	    src->orientation > 1 || req->format != IMAGE_FORMAT_JPG || req->rotation != 0.0 ||
	    req->mirror ||
	    (req->quality != IMAGE_QUALITY_DEFAULT && req->quality != IMAGE_QUALITY_COLOR) ||
	    g->out_w <= 0 || g->out_h <= 0 || !jp2_shared_applies(src->jp2, opt->tiles) ||
	    jp2_index_has_icc(src->jp2))
		return false;
	const struct image_source_level *lvl = image_pipeline_level(src, g);
	int64_t r[4];
	image_pipeline_level_rect(src, lvl, lvl->width, lvl->height, g, r);
	return g->out_w <= r[2] - r[0] && g->out_h <= r[3] - r[1]; /* no upscaling */
}

/* The whole decoded area to dst, over the cores (a 1 x 1 grid for the resampler). */
static int render_jp2_resample(const struct resample_image *src, struct resample_image *dst)
{
	const uint8_t *pixels[1] = { src->pixels };
	size_t strides[1] = { src->stride };
	struct resample_tiles grid = { .pixels = pixels, .strides = strides, .cols = 1, .rows = 1,
				       .tile_w = src->width, .tile_h = src->height,
				       .bands = src->bands, .width = src->width,
				       .height = src->height };
	return resample_tiles_over_cores(&grid, 0, 0, src->width, src->height, dst);
}

/* The decoded area -> output size -> JPEG. */
static int render_jp2_finish(const struct image_source *src, const struct image_geometry *g,
			     const int64_t r[4], uint8_t *pixels, int quality, void **out,
			     size_t *len, struct iiifd_error *err)
{
	int bands = jp2_index_layout(src->jp2)->bands;
	struct resample_image area = { .pixels = pixels, .width = (int)(r[2] - r[0]),
				       .height = (int)(r[3] - r[1]), .bands = bands };
	area.stride = (size_t)area.width * (size_t)bands;
	if (area.width == g->out_w && area.height == g->out_h)
		return jpeg_codec_encode(pixels, area.width, area.height, bands, area.stride,
					 quality, out, len, err);
	struct resample_image img = { .width = (int)g->out_w, .height = (int)g->out_h,
				      .bands = bands, .stride = (size_t)g->out_w * (size_t)bands };
	img.pixels = malloc(img.stride * (size_t)img.height);
	int rc = img.pixels ? render_jp2_resample(&area, &img) : -1;
	if (rc < 0)
		rc = iiifd_error_set(err, 500, "out of memory while resampling");
	else
		rc = jpeg_codec_encode(img.pixels, img.width, img.height, bands, img.stride,
				       quality, out, len, err);
	free(img.pixels);
	return rc;
}

int render_jp2(const struct image_source *src, const struct image_request *req,
	       const struct image_geometry *g, const struct image_encode_options *opt,
	       void **out, size_t *out_len, struct iiifd_error *err)
{
	(void)req;
	*out = NULL;
	*out_len = 0;
	const struct image_source_level *lvl = image_pipeline_level(src, g);
	int64_t r[4];
	image_pipeline_level_rect(src, lvl, lvl->width, lvl->height, g, r);
	struct jp2_rect area = { r[0], r[1], r[2], r[3] };
	struct tile_cache_key file = { .dev = src->dev, .ino = src->ino, .mtime_sec = src->mtime,
				       .mtime_nsec = src->mtime_nsec, .size = src->file_size };
	uint8_t *pixels = NULL;
	enum jp2_decode_status s = jp2_decode_shared_pixels(src->jp2, src->path, lvl->page, &area,
							     opt->deadline_us, opt->tiles, &file,
							     &pixels);
	int rc = -1;
	if (s == JP2_DECODED)
		rc = render_jp2_finish(src, g, r, pixels, opt->jpeg_quality, out, out_len, err);
	g_free(pixels);
	if (rc == 0) {
		metrics_render_done(METRICS_RENDER_OK, (r[2] - r[0]) * (r[3] - r[1]),
				    g->out_w * g->out_h);
		return 0;
	}
	metrics_render_done(s == JP2_TIMED_OUT ? METRICS_RENDER_TIMEOUT : METRICS_RENDER_ERROR, 0,
			    0);
	if (s == JP2_TIMED_OUT) {
		vips_error_clear();
		log_warn("%s: render abandoned at the request time limit", src->path);
		return iiifd_error_set(err, 503, "the image took too long to render; try again");
	}
	log_error("%s: cannot render: %s", src->path,
		  s == JP2_DECODED ? err->msg : vips_error_buffer());
	vips_error_clear();
	return iiifd_error_set(err, 500, "the image could not be decoded");
}
