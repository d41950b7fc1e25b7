/*
 * render_tiff.c: plan (level, DCT scale, region, tiles), fetch the tiles in parallel through the
 * decoded-tile cache, resample once straight from the tiles (or paste them when the region is the
 * output), encode. The file is opened once per render and checked against the probed identity,
 * so a replaced file can never put its pixels under the old file's cache keys.
 */
#include "image/render_tiff.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "image/jpeg_codec.h"
#include "image/parallel.h"
#include "image/resample.h"
#include "image/scratch.h"

#define RENDER_MAX_TILE_BYTES (16u << 20)    /* a stored tile larger than this is not trusted */
#define RENDER_MAX_REGION_PIXELS (64 << 20) /* larger decodes go to libvips, which streams */
#define RENDER_MAX_DENOM 8 /* libjpeg's DCT scaling: 1/2, 1/4, 1/8 */

struct render_plan {
	int level, denom;           /* stored level, DCT scale 1/denom */
	const struct image_source_level *lvl;
	int64_t x0, y0, x1, y1;     /* the region on the level, whole pixels (as libvips crops) */
	int tw, th;                 /* decoded tile size */
	int64_t col0, row0, cols, rows; /* the tiles under the region */
	int64_t dx0, dy0, dw, dh;   /* the decoded region buffer, in decoded-level pixels */
};

/* The region on level index i (whole level pixels, as libvips crops) and its shrink factors. */
static void render_plan_level(const struct image_source *src, const struct image_geometry *g,
			      int i, struct render_plan *p, double *fx, double *fy)
{
	p->level = i;
	p->lvl = &src->levels[i];
	int64_t r[4];
	image_pipeline_level_rect(src, p->lvl, p->lvl->width, p->lvl->height, g, r);
	p->x0 = r[0], p->y0 = r[1], p->x1 = r[2], p->y1 = r[3];
	*fx = (double)(p->x1 - p->x0) / (double)g->out_w;
	*fy = (double)(p->y1 - p->y0) / (double)g->out_h;
}

/*
 * The level: libvips' choice, unless that would upscale (its level sizes round down, so an edge
 * tile can ask for one pixel more than the level has): then the next larger level, shrunk.
 */
static int render_plan_pick(const struct image_source *src, const struct image_geometry *g,
			    struct render_plan *p, double *fx, double *fy)
{
	int i = (int)(image_pipeline_level(src, g) - src->levels);
	render_plan_level(src, g, i, p, fx, fy);
	if ((*fx < 1.0 || *fy < 1.0) && i > 0 &&
	    (p->x1 - p->x0 + 1 >= g->out_w && p->y1 - p->y0 + 1 >= g->out_h))
		render_plan_level(src, g, i - 1, p, fx, fy);
	return *fx >= 1.0 && *fy >= 1.0 ? 0 : -1; /* real upscaling: libvips interpolates */
}

/* The decoded region: every decoded pixel under the region that holds only stored pixels. */
static int render_plan_region(struct render_plan *p)
{
	/* a partial last pixel of a DCT-scaled level mixes in the tile's padding: leave it out */
	int64_t dlw = p->lvl->width / p->denom, dlh = p->lvl->height / p->denom;
	if (dlw < 1 || dlh < 1)
		return -1;
	p->dx0 = p->x0 / p->denom;
	p->dy0 = p->y0 / p->denom;
	p->dx0 = p->dx0 < dlw - 1 ? p->dx0 : dlw - 1;
	p->dy0 = p->dy0 < dlh - 1 ? p->dy0 : dlh - 1;
	int64_t dx1 = (p->x1 + p->denom - 1) / p->denom, dy1 = (p->y1 + p->denom - 1) / p->denom;
	p->dw = (dx1 < dlw ? dx1 : dlw) - p->dx0;
	p->dh = (dy1 < dlh ? dy1 : dlh) - p->dy0;
	return p->dw > 0 && p->dh > 0 && p->dw * p->dh <= RENDER_MAX_REGION_PIXELS ? 0 : -1;
}

/* Fills p for g; 0, or -1 when the direct path does not apply. */
static int render_plan(const struct image_source *src, const struct image_geometry *g,
		       struct render_plan *p)
{
	double fx, fy;
	if (render_plan_pick(src, g, p, &fx, &fy) < 0)
		return -1;
	const struct image_source_jpeg_tiles *jt = p->lvl->jpeg_tiles;
	int64_t tw = src->tile_width, th = src->tile_height;
	if (!jt || tw <= 0 || th <= 0 || tw % 16 || th % 16 ||
	    jt->across != (p->lvl->width + tw - 1) / tw)
		return -1;
	p->denom = 1;
	/* keep a shrink of at least 2 for the resampler: closer to a full decode filtered once */
	while (p->denom < RENDER_MAX_DENOM && fx >= 4.0 * p->denom && fy >= 4.0 * p->denom)
		p->denom *= 2;
	p->tw = (int)tw / p->denom;
	p->th = (int)th / p->denom;
	if (render_plan_region(p) < 0)
		return -1;
	p->col0 = p->dx0 / p->tw;
	p->row0 = p->dy0 / p->th;
	p->cols = (p->dx0 + p->dw - 1) / p->tw - p->col0 + 1;
	p->rows = (p->dy0 + p->dh - 1) / p->th - p->row0 + 1;
	return (p->row0 + p->rows - 1) * jt->across + p->col0 + p->cols - 1 < (int64_t)jt->count
		       ? 0
		       : -1;
}

bool render_tiff_applies(const struct image_source *src, const struct image_request *req,
			 const struct image_geometry *g, const struct image_encode_options *opt)
{
	struct render_plan p;
	return opt->direct && src->kind == IMAGE_SOURCE_TIFF && !src->jp2 &&
	       src->orientation <= 1 && src->tile_width > 0 && req->format == IMAGE_FORMAT_JPG &&
	       req->rotation == 0.0 && !req->mirror &&
	       (req->quality == IMAGE_QUALITY_DEFAULT || req->quality == IMAGE_QUALITY_COLOR) &&
	       g->out_w > 0 && g->out_h > 0 && render_plan(src, g, &p) == 0;
}

/* One render's tile fetches; pool threads read it while the render waits for them. */
struct render_job {
	const struct image_source *src;
	const struct render_plan *plan;
	struct tile_cache *cache;
	struct storage_file *file; /* read by every pool thread at once (pread) */
	int64_t deadline_us;
	const struct tile_cache_tile **tiles; /* cols x rows, row-major */
	int64_t *missing;                     /* indexes into tiles of those not cached */
	gint failed, timed_out;
	GMutex err_lock;
	struct iiifd_error err; /* the first failure */
};

/* Reads and decodes one stored tile, or only part = { x0, y0, x1, y1 } of it (NULL: all). */
static int render_decode_part(const struct render_job *job, const struct tile_cache_key *key,
			      const int *part, struct tile_cache_tile **out,
			      struct iiifd_error *err)
{
	const struct image_source_jpeg_tiles *jt = job->plan->lvl->jpeg_tiles;
	uint64_t size = jt->sizes[key->tile], offset = jt->offsets[key->tile];
	if (size < 4 || size > RENDER_MAX_TILE_BYTES)
		return iiifd_error_set(err, 500, "tile %lld has a bad size", (long long)key->tile);
	uint8_t *data = malloc(size);
	if (!data)
		return iiifd_error_set(err, 500, "out of memory");
	int rc, tw = job->src->tile_width, th = job->src->tile_height, denom = job->plan->denom;
	struct iiifd_error why = { 0 };
	if (storage_file_pread(job->file, data, size, (int64_t)offset, &why) < 0)
		rc = iiifd_error_set(err, why.http_status == 409 ? 409 : 500,
				     "tile %lld cannot be read: %s", (long long)key->tile, why.msg);
	else if (part)
		rc = jpeg_codec_decode_tile_part(jt->tables, jt->tables_len, data, size, denom, tw,
						 th, part, out, err);
	else
		rc = jpeg_codec_decode_tile(jt->tables, jt->tables_len, data, size, denom, tw, th,
					    out, err);
	free(data);
	if (rc == 0 && ((*out)->width != job->plan->tw || (*out)->height != job->plan->th))
		rc = iiifd_error_set(err, 500, "tile %lld is not the stored tile size",
				     (long long)key->tile);
	return rc;
}

/* The tile cache's decode callback: a whole tile. */
static int render_decode(void *user, const struct tile_cache_key *key,
			 struct tile_cache_tile **out, struct iiifd_error *err)
{
	return render_decode_part(user, key, NULL, out, err);
}

static void render_fail(struct render_job *job, const struct iiifd_error *err)
{
	g_mutex_lock(&job->err_lock);
	if (!g_atomic_int_get(&job->failed))
		job->err = *err;
	g_atomic_int_set(&job->failed, 1);
	g_mutex_unlock(&job->err_lock);
}

/* The cache key of the i-th tile under the region. */
static struct tile_cache_key render_key(const struct render_job *job, int64_t i)
{
	const struct render_plan *p = job->plan;
	int64_t col = p->col0 + i % p->cols, row = p->row0 + i / p->cols;
	return (struct tile_cache_key){
		.dev = (uint64_t)job->src->dev, .ino = (uint64_t)job->src->ino,
		.mtime_sec = job->src->mtime, .mtime_nsec = job->src->mtime_nsec,
		.size = job->src->file_size, .producer = TILE_CACHE_TIFF_JPEG,
		.page = job->src->page, .level = p->level, .reduce = p->denom,
		.tile = row * p->lvl->jpeg_tiles->across + col,
	};
}

/*
 * The part of the i-th tile under the region, in the tile's pixels; whether that is at most
 * half the tile (RENDER_PART_MAX), then decoded alone and not cached: at the corners of a crop
 * a full decode would mostly make pixels nobody asked for, and on a large image a random crop's
 * tiles are rarely asked for again before they leave the cache.
 */
#define RENDER_PART_MAX 0.5
static bool render_tile_part(const struct render_plan *p, int64_t i, int part[4])
{
	int64_t tx = (p->col0 + i % p->cols) * p->tw, ty = (p->row0 + i / p->cols) * p->th;
	part[0] = (int)((p->dx0 > tx ? p->dx0 : tx) - tx);
	part[1] = (int)((p->dy0 > ty ? p->dy0 : ty) - ty);
	part[2] = (int)((p->dx0 + p->dw < tx + p->tw ? p->dx0 + p->dw : tx + p->tw) - tx);
	part[3] = (int)((p->dy0 + p->dh < ty + p->th ? p->dy0 + p->dh : ty + p->th) - ty);
	return (double)(part[2] - part[0]) * (part[3] - part[1]) <=
	       RENDER_PART_MAX * p->tw * p->th;
}

/* parallel_for item m: the m-th tile that was not in the cache. */
static void render_fetch(void *user, int m)
{
	struct render_job *job = user;
	if (g_atomic_int_get(&job->failed))
		return;
	if (job->deadline_us && g_get_monotonic_time() > job->deadline_us) {
		g_atomic_int_set(&job->timed_out, 1);
		g_atomic_int_set(&job->failed, 1);
		return;
	}
	int64_t i = job->missing[m];
	struct tile_cache_key key = render_key(job, i);
	struct iiifd_error err = { 0 };
	int part[4];
	if (render_tile_part(job->plan, i, part)) {
		struct tile_cache_tile *t = NULL;
		if (render_decode_part(job, &key, part, &t, &err) == 0)
			job->tiles[i] = t; /* uncached: tile_cache_release frees it */
		else
			tile_cache_tile_free(t);
	} else {
		job->tiles[i] = tile_cache_fetch(job->cache, &key, render_decode, job, &err);
	}
	if (!job->tiles[i])
		render_fail(job, &err);
}

/* Takes the cached tiles at once; lists the others in job->missing. Returns how many. */
static int render_take_cached(struct render_job *job, int64_t n)
{
	int missing = 0;
	for (int64_t i = 0; i < n; i++) {
		struct tile_cache_key key = render_key(job, i);
		job->tiles[i] = tile_cache_get(job->cache, &key);
		if (!job->tiles[i])
			job->missing[missing++] = i;
	}
	return missing;
}

/* Copies the part of each decoded tile that lies in the region into buf. */
static void render_paste(const struct render_job *job, struct resample_image *buf)
{
	const struct render_plan *p = job->plan;
	for (int64_t i = 0; i < p->cols * p->rows; i++) {
		const struct tile_cache_tile *t = job->tiles[i];
		int64_t tx = (p->col0 + i % p->cols) * p->tw, ty = (p->row0 + i / p->cols) * p->th;
		int64_t x0 = tx > p->dx0 ? tx : p->dx0, y0 = ty > p->dy0 ? ty : p->dy0;
		int64_t x1 = tx + t->width < p->dx0 + p->dw ? tx + t->width : p->dx0 + p->dw;
		int64_t y1 = ty + t->height < p->dy0 + p->dh ? ty + t->height : p->dy0 + p->dh;
		for (int64_t y = y0; y < y1; y++)
			memcpy(buf->pixels + (size_t)(y - p->dy0) * buf->stride +
				       (size_t)(x0 - p->dx0) * (size_t)buf->bands,
			       t->pixels + (size_t)(y - ty) * t->stride +
				       (size_t)(x0 - tx) * (size_t)buf->bands,
			       (size_t)(x1 - x0) * (size_t)buf->bands);
	}
}

/* Whether every tile decoded to the same band count; sets *bands. */
static int render_same_bands(const struct render_job *job, int *bands)
{
	int64_t n = job->plan->cols * job->plan->rows;
	*bands = job->tiles[0]->bands;
	for (int64_t i = 1; i < n; i++)
		if (job->tiles[i]->bands != *bands)
			return 0;
	return *bands == 1 || *bands == 3;
}

/* The region as a grid of the decoded tiles, read in place by the resampler. */
static int render_resample_tiles(const struct render_job *job, int bands,
				 const struct resample_image *region, double wx0, double wy0,
				 double wx1, double wy1, struct resample_image *img)
{
	const struct render_plan *p = job->plan;
	size_t n = (size_t)(p->cols * p->rows);
	const uint8_t **pixels = malloc(n * sizeof *pixels);
	size_t *strides = malloc(n * sizeof *strides);
	int rc = -1;
	if (pixels && strides) {
		for (size_t i = 0; i < n; i++) {
			pixels[i] = job->tiles[i]->pixels;
			strides[i] = job->tiles[i]->stride;
		}
		struct resample_tiles grid = {
			.pixels = pixels, .strides = strides, .cols = (int)p->cols,
			.rows = (int)p->rows, .tile_w = p->tw, .tile_h = p->th, .bands = bands,
			.x0 = (int)(p->dx0 - p->col0 * p->tw), .y0 = (int)(p->dy0 - p->row0 * p->th),
			.width = region->width, .height = region->height,
		};
		rc = resample_tiles_over_cores(&grid, wx0, wy0, wx1, wy1, img);
	}
	free(pixels);
	free(strides);
	return rc;
}

/* Region (decoded tiles) -> output size -> JPEG. */
static int render_finish(const struct render_job *job, const struct image_geometry *g,
			 int quality, void **out, size_t *len, struct iiifd_error *err)
{
	const struct render_plan *p = job->plan;
	int bands;
	if (!render_same_bands(job, &bands))
		return iiifd_error_set(err, 500, "the tiles disagree on their colour bands");
	struct resample_image region = { .width = (int)p->dw, .height = (int)p->dh, .bands = bands,
					 .stride = (size_t)p->dw * (size_t)bands };
	struct resample_image img = { .width = (int)g->out_w, .height = (int)g->out_h,
				      .bands = bands, .stride = (size_t)g->out_w * (size_t)bands };
	double d = p->denom;
	double wx0 = p->x0 / d - (double)p->dx0, wy0 = p->y0 / d - (double)p->dy0;
	double wx1 = fmin(p->x1 / d - (double)p->dx0, (double)p->dw);
	double wy1 = fmin(p->y1 / d - (double)p->dy0, (double)p->dh);
	wx0 = fmin(fmax(wx0, 0.0), wx1 - 1e-3);
	wy0 = fmin(fmax(wy0, 0.0), wy1 - 1e-3);
	size_t capacity;
	img.pixels = scratch_get(img.stride * (size_t)img.height, &capacity);
	if (!img.pixels)
		return iiifd_error_set(err, 500, "out of memory");
	int rc = 0;
	if (wx0 == 0 && wy0 == 0 && region.width == img.width && region.height == img.height &&
	    wx1 == img.width && wy1 == img.height)
		render_paste(job, &img); /* the region is the output */
	else if (render_resample_tiles(job, bands, &region, wx0, wy0, wx1, wy1, &img) < 0)
		rc = iiifd_error_set(err, 500, "out of memory while resampling");
	if (rc == 0)
		rc = jpeg_codec_encode(img.pixels, img.width, img.height, bands, img.stride, quality,
				       out, len, err);
	scratch_put(img.pixels, capacity);
	return rc;
}

/* Opens src's file, refusing one that is no longer the probed file (replaced since). */
static struct storage_file *render_open(const struct image_source *src)
{
	struct storage_file *f;
	if (storage_file_open(src->path, &src->file, &f, NULL) < 0)
		return NULL;
	if (storage_file_verify(f, &src->file, NULL) < 0) {
		storage_file_close(f);
		return NULL;
	}
	return f;
}

static int render_run(struct render_job *job, const struct image_geometry *g,
		      const struct image_encode_options *opt, void **out, size_t *len,
		      struct iiifd_error *err)
{
	int64_t n = job->plan->cols * job->plan->rows;
	job->tiles = calloc((size_t)n, sizeof *job->tiles);
	job->missing = calloc((size_t)n, sizeof *job->missing);
	if (!job->tiles || !job->missing) {
		free(job->tiles);
		free(job->missing);
		return iiifd_error_set(err, 500, "out of memory");
	}
	/* decodes only what the cache lacks, spread over the cores */
	parallel_for(render_take_cached(job, n), render_fetch, job);
	int rc = -1;
	if (g_atomic_int_get(&job->timed_out))
		iiifd_error_set(err, 503, "the image took too long to render; try again");
	else if (g_atomic_int_get(&job->failed))
		*err = job->err;
	else
		rc = render_finish(job, g, opt->jpeg_quality, out, len, err);
	for (int64_t i = 0; i < n; i++)
		tile_cache_release(job->cache, job->tiles[i]);
	free(job->tiles);
	free(job->missing);
	return rc;
}

int render_tiff(const struct image_source *src, const struct image_request *req,
		const struct image_geometry *g, const struct image_encode_options *opt,
		void **out, size_t *out_len, struct iiifd_error *err)
{
	(void)req;
	*out = NULL;
	*out_len = 0;
	struct render_plan plan;
	if (render_plan(src, g, &plan) < 0)
		return iiifd_error_set(err, 500, "no direct render plan");
	struct render_job job = { .src = src, .plan = &plan, .cache = opt->tiles,
				  .deadline_us = opt->deadline_us };
	job.file = render_open(src);
	if (!job.file) {
		metrics_render_done(METRICS_RENDER_ERROR, 0, 0);
		return iiifd_error_set(err, 503, "the image changed while it was read; try again");
	}
	g_mutex_init(&job.err_lock);
	int rc = render_run(&job, g, opt, out, out_len, err);
	g_mutex_clear(&job.err_lock);
	storage_file_close(job.file);
	if (rc == 0) {
		metrics_render_done(METRICS_RENDER_OK, plan.dw * plan.dh, g->out_w * g->out_h);
		return 0;
	}
	bool timeout = err->http_status == 503;
	metrics_render_done(timeout ? METRICS_RENDER_TIMEOUT : METRICS_RENDER_ERROR, 0, 0);
	if (timeout) {
		log_warn("%s: render abandoned at the request time limit", src->path);
		return -1;
	}
	if (err->http_status == 409) { /* a remote object replaced since its probe */
		log_warn("%s: %s", src->path, err->msg);
		return -1;
	}
	log_error("%s: cannot render: %s", src->path, err->msg);
	return iiifd_error_set(err, 500, "the image could not be decoded");
}
