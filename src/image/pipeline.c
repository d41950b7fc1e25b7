/*
 * pipeline.c: one Image API request as a chain of libvips operations. Every intermediate image
 * lives in a local array owned by one context object, so a single unref frees them on any path.
 */
#include "image/pipeline.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <vips/vips.h>

#include "core/log.h"
#include "core/metrics.h"
#include "image/jp2.h"
#include "image/pdf.h"
#include "image/render_jp2.h"
#include "image/render_tiff.h"

#define PIPE_SLOTS 32

struct pipe {
	VipsObject *ctx;   /* owns every image in t */
	VipsImage **t;
	int n;
	VipsImage *cur;    /* the latest image in the chain */
	int64_t deadline_us;
	bool timed_out;
};

/* The slot the next operation writes into; the chain is short, so slots never run out. */
static VipsImage **pipe_slot(struct pipe *p)
{
	return &p->t[p->n < PIPE_SLOTS - 1 ? p->n++ : p->n];
}

/* Call after an operation that wrote into the last slot; makes its output current. */
static int pipe_advance(struct pipe *p, int rc)
{
	if (rc)
		return -1;
	p->cur = p->t[p->n - 1];
	return 0;
}

/* The same loads as pipeline_load, from a remote object read through the block cache. */
static int pipeline_load_remote(struct pipe *p, const struct image_source *src,
				const struct image_source_level *lvl, VipsAccess access)
{
	if (src->kind == IMAGE_SOURCE_OTHER) {
		VipsImage **out = pipe_slot(p);
		*out = image_source_load(src, access, src->npages > 1 ? src->page : -1, true);
		return pipe_advance(p, *out ? 0 : -1);
	}
	VipsSource *source = storage_vips_source(src->path, &src->file, NULL);
	if (!source)
		return -1;
	VipsImage **out = pipe_slot(p);
	int rc = -1;
	if (src->kind == IMAGE_SOURCE_TIFF)
		rc = vips_tiffload_source(source, out, "page", lvl->page, "subifd", lvl->subifd,
					  "access", access, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	else if (src->kind == IMAGE_SOURCE_JPEG)
		rc = vips_jpegload_source(source, out, "shrink", lvl->shrink, "access", access,
					  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	else if (src->kind == IMAGE_SOURCE_JP2)
		rc = vips_jp2kload_source(source, out, "page", lvl->page, "fail_on",
					  VIPS_FAIL_ON_ERROR, NULL);
	g_object_unref(source); /* the image holds it while it decodes */
	return pipe_advance(p, rc);
}

static int pipeline_load(struct pipe *p, const struct image_source *src,
			 const struct image_source_level *lvl, int random)
{
	VipsAccess access = random ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
	if (storage_spec_is_remote(src->path))
		return pipeline_load_remote(p, src, lvl, access);
	VipsImage **out = pipe_slot(p);
	switch (src->kind) {
	case IMAGE_SOURCE_TIFF:
		return pipe_advance(p, vips_tiffload(src->path, out, "page", lvl->page, "subifd",
						     lvl->subifd, "access", access, "fail_on",
						     VIPS_FAIL_ON_ERROR, NULL));
	case IMAGE_SOURCE_JPEG:
		return pipe_advance(p, vips_jpegload(src->path, out, "shrink", lvl->shrink, "access",
						     access, "fail_on", VIPS_FAIL_ON_ERROR, NULL));
	case IMAGE_SOURCE_JP2:
		return pipe_advance(p, vips_jp2kload(src->path, out, "page", lvl->page, "fail_on",
						     VIPS_FAIL_ON_ERROR, NULL));
	case IMAGE_SOURCE_OTHER:
		break;
	}
	/* "page" goes last so that single-page formats, which lack the option, never see it */
	*out = vips_image_new_from_file(src->path, "access", access, "fail_on",
					VIPS_FAIL_ON_ERROR, src->npages > 1 ? "page" : NULL,
					src->page, NULL);
	return pipe_advance(p, *out ? 0 : -1);
}

/* Full-resolution pixels per level pixel when the level is an exact reduction (JPEG 2000
 * resolution levels, JPEG DCT scaling: the level's pixel i covers [i*f, (i+1)*f)), else 0. */
static int64_t pipeline_exact_factor(const struct image_source *src,
				     const struct image_source_level *lvl)
{
	if (src->kind == IMAGE_SOURCE_JP2)
		return (int64_t)1 << (lvl->page > 0 ? lvl->page : 0);
	return src->kind == IMAGE_SOURCE_JPEG ? lvl->shrink : 0;
}

/* The requested region, mapped from full-resolution pixels onto level lvl, loaded as lw x lh
 * pixels; at least one pixel wide and high. */
static struct jp2_rect pipeline_level_rect(const struct image_source *src,
					   const struct image_source_level *lvl, int64_t lw,
					   int64_t lh, const struct image_geometry *g)
{
	int64_t f = pipeline_exact_factor(src, lvl), x0, y0, x1, y1;
	if (f) { /* every level pixel that the region touches */
		x0 = g->x / f;
		y0 = g->y / f;
		x1 = (g->x + g->w + f - 1) / f;
		y1 = (g->y + g->h + f - 1) / f;
	} else {
		double sx = (double)src->width / (double)lw, sy = (double)src->height / (double)lh;
		x0 = llround(g->x / sx);
		y0 = llround(g->y / sy);
		x1 = llround((g->x + g->w) / sx);
		y1 = llround((g->y + g->h) / sy);
	}
	x0 = x0 < lw - 1 ? x0 : lw - 1;
	y0 = y0 < lh - 1 ? y0 : lh - 1;
	x1 = x1 < lw ? (x1 > x0 ? x1 : x0 + 1) : lw;
	y1 = y1 < lh ? (y1 > y0 ? y1 : y0 + 1) : lh;
	return (struct jp2_rect){ x0, y0, x1, y1 };
}

/* Crops the requested region out of the loaded level. */
static int pipeline_crop(struct pipe *p, const struct image_source *src,
			 const struct image_source_level *lvl, const struct image_geometry *g)
{
	struct jp2_rect r = pipeline_level_rect(src, lvl, p->cur->Xsize, p->cur->Ysize, g);
	if (r.x0 == 0 && r.y0 == 0 && r.x1 == p->cur->Xsize && r.y1 == p->cur->Ysize)
		return 0;
	return pipe_advance(p, vips_extract_area(p->cur, pipe_slot(p), (int)r.x0, (int)r.y0,
						 (int)(r.x1 - r.x0), (int)(r.y1 - r.y0), NULL));
}

/* A tiled JPEG 2000: decode just the codestream tiles under the region (jp2.h). */
static int pipeline_decode_jp2(struct pipe *p, const struct image_source *src,
			       const struct image_source_level *lvl,
			       const struct image_geometry *g, struct tile_cache *tiles)
{
	struct jp2_rect area = pipeline_level_rect(src, lvl, lvl->width, lvl->height, g);
	struct tile_cache_key file = { .dev = src->dev, .ino = src->ino, .mtime_sec = src->mtime,
				       .mtime_nsec = src->mtime_nsec, .size = src->file_size };
	enum jp2_decode_status s = jp2_decode_shared(src->jp2, src->path, lvl->page, &area,
						     p->deadline_us, tiles, &file, pipe_slot(p));
	p->timed_out = s == JP2_TIMED_OUT;
	return pipe_advance(p, s == JP2_DECODED ? 0 : -1);
}

/* Converts to 8-bit sRGB (or 8-bit grey for grey sources), honouring an embedded ICC profile. */
static int pipeline_to_srgb(struct pipe *p)
{
	if (vips_image_get_typeof(p->cur, VIPS_META_ICC_NAME)) {
		if (pipe_advance(p, vips_icc_transform(p->cur, pipe_slot(p), "srgb", "embedded",
						       TRUE, "depth", 8, NULL)) < 0)
			vips_error_clear(); /* a broken profile: fall back to plain conversion */
	}
	VipsInterpretation in = vips_image_guess_interpretation(p->cur);
	VipsInterpretation want = (in == VIPS_INTERPRETATION_B_W ||
				   in == VIPS_INTERPRETATION_GREY16)
					  ? VIPS_INTERPRETATION_B_W
					  : VIPS_INTERPRETATION_sRGB;
	if (in != want || p->cur->BandFmt != VIPS_FORMAT_UCHAR)
		if (pipe_advance(p, vips_colourspace(p->cur, pipe_slot(p), want, NULL)) < 0)
			return -1;
	if (p->cur->BandFmt != VIPS_FORMAT_UCHAR)
		return pipe_advance(p, vips_cast_uchar(p->cur, pipe_slot(p), NULL));
	return 0;
}

/* Scales to exactly w x h; alpha is premultiplied so transparent pixels do not bleed colour. */
static int pipeline_resize(struct pipe *p, int64_t w, int64_t h)
{
	if (p->cur->Xsize == w && p->cur->Ysize == h)
		return 0;
	double hs = (double)w / p->cur->Xsize, vs = (double)h / p->cur->Ysize;
	int alpha = vips_image_hasalpha(p->cur);
	if (alpha && pipe_advance(p, vips_premultiply(p->cur, pipe_slot(p), NULL)) < 0)
		return -1;
	if (pipe_advance(p, vips_resize(p->cur, pipe_slot(p), hs, "vscale", vs, NULL)) < 0)
		return -1;
	if (alpha && (pipe_advance(p, vips_unpremultiply(p->cur, pipe_slot(p), NULL)) < 0 ||
		      pipe_advance(p, vips_cast_uchar(p->cur, pipe_slot(p), NULL)) < 0))
		return -1;
	if (p->cur->Xsize == w && p->cur->Ysize == h)
		return 0;
	/* resize rounds each axis on its own; pin the last pixel row/column to the exact size */
	return pipe_advance(p, vips_gravity(p->cur, pipe_slot(p), VIPS_COMPASS_DIRECTION_NORTH_WEST,
					    (int)w, (int)h, "extend", VIPS_EXTEND_COPY, NULL));
}

static int pipeline_format_has_alpha(enum image_format format)
{
	return format == IMAGE_FORMAT_PNG || format == IMAGE_FORMAT_WEBP ||
	       format == IMAGE_FORMAT_GIF || format == IMAGE_FORMAT_TIF;
}

/* Arbitrary angles leave corners: transparent where the format allows it, else white. */
static int pipeline_rotate_arbitrary(struct pipe *p, double angle, enum image_format format)
{
	int transparent = pipeline_format_has_alpha(format);
	if (transparent && !vips_image_hasalpha(p->cur) &&
	    pipe_advance(p, vips_bandjoin_const1(p->cur, pipe_slot(p), 255.0, NULL)) < 0)
		return -1;
	double bg[4];
	for (int i = 0; i < 4; i++)
		bg[i] = transparent ? 0.0 : 255.0;
	VipsArrayDouble *background = vips_array_double_new(bg, p->cur->Bands < 4 ? p->cur->Bands : 4);
	int rc = vips_rotate(p->cur, pipe_slot(p), angle, "background", background, NULL);
	vips_area_unref(VIPS_AREA(background));
	return pipe_advance(p, rc);
}

static int pipeline_orient(struct pipe *p, const struct image_request *req)
{
	if (req->mirror &&
	    pipe_advance(p, vips_flip(p->cur, pipe_slot(p), VIPS_DIRECTION_HORIZONTAL, NULL)) < 0)
		return -1;
	double angle = fmod(req->rotation, 360.0);
	if (angle == 0.0)
		return 0;
	if (angle == 90.0 || angle == 180.0 || angle == 270.0) {
		VipsAngle a = angle == 90.0 ? VIPS_ANGLE_D90
			      : angle == 180.0 ? VIPS_ANGLE_D180 : VIPS_ANGLE_D270;
		return pipe_advance(p, vips_rot(p->cur, pipe_slot(p), a, NULL));
	}
	return pipeline_rotate_arbitrary(p, angle, req->format);
}

static int pipeline_flatten(struct pipe *p)
{
	if (!vips_image_hasalpha(p->cur))
		return 0;
	VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
	int rc = vips_flatten(p->cur, pipe_slot(p), "background", white, NULL);
	vips_area_unref(VIPS_AREA(white));
	return pipe_advance(p, rc);
}

static int pipeline_quality(struct pipe *p, enum image_quality quality)
{
	if (quality == IMAGE_QUALITY_DEFAULT || quality == IMAGE_QUALITY_COLOR)
		return 0;
	if (p->cur->Bands >= 3 &&
	    pipe_advance(p, vips_colourspace(p->cur, pipe_slot(p), VIPS_INTERPRETATION_B_W,
					     NULL)) < 0)
		return -1;
	if (quality == IMAGE_QUALITY_GRAY)
		return 0;
	if (pipeline_flatten(p) < 0)
		return -1;
	return pipe_advance(p, vips_moreeq_const1(p->cur, pipe_slot(p), 128.0, NULL));
}

/* libvips reports progress while computing; past the deadline it is told to stop. */
static void pipeline_on_eval(VipsImage *image, VipsProgress *progress, void *user)
{
	struct pipe *p = user;
	(void)progress;
	if (g_get_monotonic_time() > p->deadline_us) {
		p->timed_out = true;
		vips_image_set_kill(image, TRUE);
	}
}

static void pipeline_watch_deadline(struct pipe *p)
{
	if (!p->deadline_us)
		return;
	vips_image_set_progress(p->cur, TRUE);
	g_signal_connect(p->cur, "eval", G_CALLBACK(pipeline_on_eval), p);
}

static int pipeline_encode(struct pipe *p, enum image_format format,
			   const struct image_encode_options *opt, void **out, size_t *len)
{
	if (!pipeline_format_has_alpha(format) && pipeline_flatten(p) < 0)
		return -1;
	pipeline_watch_deadline(p);
	switch (format) {
	case IMAGE_FORMAT_JPG:
		return vips_jpegsave_buffer(p->cur, out, len, "Q", opt->jpeg_quality, "strip", TRUE,
					    NULL);
	case IMAGE_FORMAT_PNG:
		return vips_pngsave_buffer(p->cur, out, len, "strip", TRUE, NULL);
	case IMAGE_FORMAT_WEBP:
		return vips_webpsave_buffer(p->cur, out, len, "Q", opt->webp_quality, "strip", TRUE,
					    NULL);
	case IMAGE_FORMAT_TIF:
		return vips_tiffsave_buffer(p->cur, out, len, "compression",
					    VIPS_FOREIGN_TIFF_COMPRESSION_LZW, "strip", TRUE, NULL);
	case IMAGE_FORMAT_GIF:
		return vips_gifsave_buffer(p->cur, out, len, "strip", TRUE, NULL);
	case IMAGE_FORMAT_JP2:
		return vips_jp2ksave_buffer(p->cur, out, len, "Q", opt->jpeg_quality, NULL);
	case IMAGE_FORMAT_PDF:
		return image_pdf_from_image(p->cur, opt->jpeg_quality, out, len);
	case IMAGE_FORMAT_COUNT:
		break;
	}
	return -1;
}

int image_pipeline_can_encode(enum image_format format)
{
	static const char *const savers[IMAGE_FORMAT_COUNT] = {
		[IMAGE_FORMAT_JPG] = ".jpg", [IMAGE_FORMAT_PNG] = ".png",
		[IMAGE_FORMAT_WEBP] = ".webp", [IMAGE_FORMAT_TIF] = ".tif",
		[IMAGE_FORMAT_GIF] = ".gif", [IMAGE_FORMAT_JP2] = ".jp2",
		[IMAGE_FORMAT_PDF] = ".jpg", /* our PDF wraps a JPEG */
	};
	if ((int)format < 0 || format >= IMAGE_FORMAT_COUNT)
		return 0;
	return vips_foreign_find_save_buffer(savers[format]) != NULL;
}

/* Whether the chain will need pixels out of top-to-bottom order. */
static int pipeline_needs_random_access(const struct image_source *src,
					const struct image_request *req)
{
	return src->kind == IMAGE_SOURCE_TIFF || src->kind == IMAGE_SOURCE_JP2 ||
	       src->orientation > 1 || req->rotation != 0.0 || req->mirror;
}

static const struct image_source_level *pipeline_level(const struct image_source *src,
						      const struct image_geometry *g)
{
	/* one pixel of slack: sizes are rounded up (info.json) while stored levels may be rounded
	 * down, and a 1/1000 upscale of the right level beats decoding twice as many pixels */
	double shrink = fmin((double)g->w / (double)(g->out_w > 1 ? g->out_w - 1 : 1),
			     (double)g->h / (double)(g->out_h > 1 ? g->out_h - 1 : 1));
	return &src->levels[image_source_pick_level(src, shrink)];
}

int64_t image_pipeline_estimate_bytes(const struct image_source *src,
				      const struct image_request *req,
				      const struct image_geometry *g)
{
	const struct image_source_level *lvl = pipeline_level(src, g);
	int64_t out = g->out_w * g->out_h;
	if (fmod(req->rotation, 90.0) != 0.0)
		out *= 2; /* the rotated bounding box */
	if (src->jp2) {
		struct jp2_rect area = pipeline_level_rect(src, lvl, lvl->width, lvl->height, g);
		return jp2_decode_bytes(src->jp2, lvl->page, &area) + 2 * out * 4;
	}
	double scale = (double)src->width / (double)lvl->width;
	int64_t decoded;
	if (src->tile_width || src->kind == IMAGE_SOURCE_JP2)
		decoded = (int64_t)((double)g->w / scale * ((double)g->h / scale));
	else if (pipeline_needs_random_access(src, req))
		decoded = lvl->width * lvl->height; /* decoded whole before the crop */
	else
		decoded = lvl->width * 256; /* streamed a strip at a time */
	return (decoded + 2 * out) * 4;
}

static int pipeline_run(struct pipe *p, const struct image_source *src,
			const struct image_request *req, const struct image_geometry *g,
			const struct image_encode_options *opt, void **out, size_t *len)
{
	const struct image_source_level *lvl = pipeline_level(src, g);
	if (src->jp2) {
		if (pipeline_decode_jp2(p, src, lvl, g, opt->tiles) < 0)
			return -1;
	} else {
		if (pipeline_load(p, src, lvl, pipeline_needs_random_access(src, req)) < 0)
			return -1;
		if (src->orientation > 1 &&
		    pipe_advance(p, vips_autorot(p->cur, pipe_slot(p), NULL)) < 0)
			return -1;
		if (pipeline_crop(p, src, lvl, g) < 0)
			return -1;
	}
	if (pipeline_to_srgb(p) < 0 ||
	    pipeline_resize(p, g->out_w, g->out_h) < 0 || pipeline_orient(p, req) < 0 ||
	    pipeline_quality(p, req->quality) < 0)
		return -1;
	return pipeline_encode(p, req->format, opt, out, len);
}

int image_pipeline_render(const struct image_source *src, const struct image_request *req,
			  const struct image_geometry *g, const struct image_encode_options *opt,
			  void **out, size_t *out_len, struct iiifd_error *err)
{
	*out = NULL;
	*out_len = 0;
	if (image_source_ready(src, err) < 0)
		return -1;
	if (!image_pipeline_can_encode(req->format))
		return iiifd_error_set(err, 415, "format '%s' is not available on this server",
				       image_format_name(req->format));
	if (render_tiff_applies(src, req, g, opt))
		return render_tiff(src, req, g, opt, out, out_len, err);
	if (render_jp2_applies(src, req, g, opt))
		return render_jp2(src, req, g, opt, out, out_len, err);
	struct pipe p = { 0 };
	p.deadline_us = opt->deadline_us;
	p.ctx = VIPS_OBJECT(vips_image_new());
	p.t = (VipsImage **)vips_object_local_array(p.ctx, PIPE_SLOTS);
	int rc = pipeline_run(&p, src, req, g, opt, out, out_len);
	g_object_unref(p.ctx);
	if (rc == 0) {
		const struct image_source_level *lvl = pipeline_level(src, g);
		struct jp2_rect r = pipeline_level_rect(src, lvl, lvl->width, lvl->height, g);
		metrics_render_done(METRICS_RENDER_OK, (r.x1 - r.x0) * (r.y1 - r.y0),
				    g->out_w * g->out_h);
		return 0;
	}
	metrics_render_done(p.timed_out ? METRICS_RENDER_TIMEOUT : METRICS_RENDER_ERROR, 0, 0);
	g_free(*out);
	*out = NULL;
	if (p.timed_out) {
		vips_error_clear();
		log_warn("%s: render abandoned at the request time limit", src->path);
		return iiifd_error_set(err, 503, "the image took too long to render; try again");
	}
	/* libvips' error buffer is process-wide: good enough for the log, never for the client */
	log_error("%s: cannot render: %s", src->path, vips_error_buffer());
	vips_error_clear();
	return iiifd_error_set(err, 500, "the image could not be decoded");
}

const struct image_source_level *image_pipeline_level(const struct image_source *src,
						      const struct image_geometry *g)
{
	return pipeline_level(src, g);
}

void image_pipeline_level_rect(const struct image_source *src,
			       const struct image_source_level *lvl, int64_t lw, int64_t lh,
			       const struct image_geometry *g, int64_t rect[4])
{
	struct jp2_rect r = pipeline_level_rect(src, lvl, lw, lh, g);
	rect[0] = r.x0;
	rect[1] = r.y0;
	rect[2] = r.x1;
	rect[3] = r.y1;
}
