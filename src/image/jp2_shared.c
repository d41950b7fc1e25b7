/*
 * jp2_shared.c: JPEG 2000 / HTJ2K regions assembled from decoded codestream tiles kept in the
 * shared tile cache (tile_cache.h), see jp2_decode_shared() in jp2.h.
 *
 * A request's area at reduction r is covered by codestream tiles; each is decoded once (whole,
 * at r) and kept under the file's identity, so the tiles of one thumbnail, of adjacent crops and
 * of the same image under another name (a hard link) are decoded once. The work is cut into
 * pieces of tile rows (a row, or a part of one when there are few rows); in a piece, cached
 * tiles are copied and each run of missing tiles side by side is decoded by one OpenJPEG call
 * (one codec set-up and assembled codestream for the run instead of one per tile), then cut
 * into tiles for the cache. A lone missing tile goes through the cache's fetch, so concurrent
 * requests for it decode it once. The pieces of a request that runs alone are taken by as many
 * threads as there are cores (one request then uses every core), by one thread otherwise.
 * OpenJPEG's own thread pool is not used here: its per-code-block hand-offs cost more kernel
 * time (futex waits and wake-ups) than they save.
 */
#include "image/jp2_internal.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

/* What every worker of one request reads and writes. */
struct shared_job {
	const struct jp2_index *ix;
	const char *path;
	int reduce;
	struct tile_cache *cache;
	struct tile_cache_key key; /* the file's fields filled; tile set per tile */
	struct jp2_rect tiles;     /* codestream tile columns [x0, x1) and rows [y0, y1) */
	struct jp2_rect area;      /* the level pixels wanted */
	uint8_t *pixels;           /* the area, interleaved 8-bit */
	int64_t deadline_us;
	int pieces_per_row;        /* each tile row is cut into this many pieces of columns */
	int bands;                 /* > 0: the work is this many bands of whole rows instead */
	atomic_long next;          /* the next piece (row-major) or band to take */
	atomic_int status;         /* JP2_DECODED, or the first failure */
};

/* Decodes one codestream tile whole (tile_cache_decode_fn). */
static int shared_decode_tile(void *user, const struct tile_cache_key *key,
			      struct tile_cache_tile **out, struct iiifd_error *err)
{
	struct shared_job *job = user;
	const struct jp2_layout *l = &job->ix->layout;
	struct jp2_rect span;
	jp2_layout_tile_span(l, job->reduce, (uint32_t)(key->tile % l->tiles_across),
			     (uint32_t)(key->tile / l->tiles_across), &span);
	VipsImage *img = NULL;
	enum jp2_decode_status s = jp2_decode(job->ix, job->path, job->reduce, &span, 0, &img);
	if (s != JP2_DECODED)
		return iiifd_error_set(err, 500, "tile %lld", (long long)key->tile);
	struct tile_cache_tile *t = tile_cache_tile_new(img->Xsize, img->Ysize, img->Bands);
	if (t) {
		size_t line = VIPS_IMAGE_SIZEOF_LINE(img);
		for (int y = 0; y < img->Ysize; y++)
			memcpy(t->pixels + (size_t)y * t->stride, VIPS_IMAGE_ADDR(img, 0, y), line);
	}
	g_object_unref(img);
	*out = t;
	return t ? 0 : iiifd_error_set(err, 500, "out of memory");
}

/* Copies the part of tile (covering span) inside the job's area into its pixels. */
static void shared_paste(struct shared_job *job, const struct tile_cache_tile *tile,
			 const struct jp2_rect *span)
{
	const struct jp2_rect *a = &job->area;
	int64_t x0 = span->x0 > a->x0 ? span->x0 : a->x0, x1 = span->x1 < a->x1 ? span->x1 : a->x1;
	int64_t y0 = span->y0 > a->y0 ? span->y0 : a->y0, y1 = span->y1 < a->y1 ? span->y1 : a->y1;
	if (x1 <= x0 || y1 <= y0 || tile->width != span->x1 - span->x0 ||
	    tile->height != span->y1 - span->y0)
		return;
	size_t bands = (size_t)tile->bands, out_stride = (size_t)(a->x1 - a->x0) * bands;
	for (int64_t y = y0; y < y1; y++)
		memcpy(job->pixels + (size_t)(y - a->y0) * out_stride + (size_t)(x0 - a->x0) * bands,
		       tile->pixels + (size_t)(y - span->y0) * tile->stride +
			       (size_t)(x0 - span->x0) * bands,
		       (size_t)(x1 - x0) * bands);
}

static struct tile_cache_key shared_key(const struct shared_job *job, uint32_t col, uint32_t row)
{
	struct tile_cache_key k = job->key;
	k.tile = (int64_t)row * job->ix->layout.tiles_across + col;
	return k;
}

static bool shared_cached(struct shared_job *job, uint32_t col, uint32_t row)
{
	struct tile_cache_key key = shared_key(job, col, row);
	const struct tile_cache_tile *t = tile_cache_get(job->cache, &key);
	if (t)
		tile_cache_release(job->cache, t);
	return t != NULL;
}

/* Fetches one tile (decoding it alone when missing) and pastes it. */
static int shared_fetch_paste(struct shared_job *job, uint32_t col, uint32_t row)
{
	struct tile_cache_key key = shared_key(job, col, row);
	struct iiifd_error err = { 0 };
	const struct tile_cache_tile *t =
		tile_cache_fetch(job->cache, &key, shared_decode_tile, job, &err);
	if (!t)
		return -1;
	struct jp2_rect span;
	jp2_layout_tile_span(&job->ix->layout, job->reduce, col, row, &span);
	shared_paste(job, t, &span);
	tile_cache_release(job->cache, t);
	return 0;
}

/* Cuts tile (col, row) out of img, which holds `window` (level pixels), caches and pastes it. */
static int shared_store_paste(struct shared_job *job, VipsImage *img,
			      const struct jp2_rect *window, uint32_t col, uint32_t row)
{
	struct jp2_rect s;
	jp2_layout_tile_span(&job->ix->layout, job->reduce, col, row, &s);
	struct tile_cache_tile *t =
		tile_cache_tile_new((int)(s.x1 - s.x0), (int)(s.y1 - s.y0), img->Bands);
	if (!t)
		return -1;
	for (int64_t y = s.y0; y < s.y1; y++)
		memcpy(t->pixels + (size_t)(y - s.y0) * t->stride,
		       VIPS_IMAGE_ADDR(img, (int)(s.x0 - window->x0), (int)(y - window->y0)),
		       t->stride);
	struct tile_cache_key key = shared_key(job, col, row);
	const struct tile_cache_tile *cached = tile_cache_put(job->cache, &key, t);
	shared_paste(job, cached, &s);
	tile_cache_release(job->cache, cached);
	return 0;
}

/* The tiles t (columns [x0, x1), rows [y0, y1)) decoded in one OpenJPEG call, cut, cached and
 * pasted. */
static int shared_decode_rect(struct shared_job *job, const struct jp2_rect *t)
{
	const struct jp2_layout *l = &job->ix->layout;
	struct jp2_rect first, last;
	jp2_layout_tile_span(l, job->reduce, (uint32_t)t->x0, (uint32_t)t->y0, &first);
	jp2_layout_tile_span(l, job->reduce, (uint32_t)t->x1 - 1, (uint32_t)t->y1 - 1, &last);
	struct jp2_rect window = { first.x0, first.y0, last.x1, last.y1 };
	VipsImage *img = NULL;
	enum jp2_decode_status s =
		jp2_decode(job->ix, job->path, job->reduce, &window, job->deadline_us, &img);
	if (s != JP2_DECODED) {
		atomic_store(&job->status, s);
		return -1;
	}
	int rc = 0;
	for (int64_t row = t->y0; row < t->y1 && rc == 0; row++)
		for (int64_t col = t->x0; col < t->x1 && rc == 0; col++)
			rc = shared_store_paste(job, img, &window, (uint32_t)col, (uint32_t)row);
	g_object_unref(img);
	if (rc < 0) {
		vips_error("jp2", "out of memory");
		atomic_store(&job->status, JP2_FAILED);
	}
	return rc;
}

/*
 * Whether tile (col, row) lies partly outside the job's area and spans more than 128 level
 * pixels (two 64-pixel code-blocks in its finest subbands), so that decoding only its part
 * inside the area skips code-blocks. Classic code-blocks only: OpenJPEG 2.5.0's area decoding
 * of HT code-blocks gave wrong pixels now and then in the tests (test_jp2_shared.py), so HTJ2K
 * tiles are always decoded whole (and cached).
 */
static bool shared_partial(struct shared_job *job, uint32_t col, uint32_t row)
{
	if (job->ix->layout.ht)
		return false;
	struct jp2_rect t;
	jp2_layout_tile_span(&job->ix->layout, job->reduce, col, row, &t);
	const struct jp2_rect *a = &job->area;
	bool inside = t.x0 >= a->x0 && t.x1 <= a->x1 && t.y0 >= a->y0 && t.y1 <= a->y1;
	return !inside && (t.x1 - t.x0 > 128 || t.y1 - t.y0 > 128);
}

/*
 * The part inside the area of tiles [c0, c1) of one row, decoded area-only and pasted, not
 * cached: the edges of a random crop are rarely asked for again, and decoding whole tiles for
 * them cost up to twice the pixels.
 */
static int shared_decode_partial(struct shared_job *job, uint32_t row, uint32_t c0, uint32_t c1)
{
	const struct jp2_layout *l = &job->ix->layout;
	const struct jp2_rect *a = &job->area;
	struct jp2_rect first, last;
	jp2_layout_tile_span(l, job->reduce, c0, row, &first);
	jp2_layout_tile_span(l, job->reduce, c1 - 1, row, &last);
	struct jp2_rect w = { first.x0 > a->x0 ? first.x0 : a->x0, first.y0 > a->y0 ? first.y0 : a->y0,
			      last.x1 < a->x1 ? last.x1 : a->x1, last.y1 < a->y1 ? last.y1 : a->y1 };
	VipsImage *img = NULL;
	enum jp2_decode_status s =
		jp2_decode_area_only(job->ix, job->path, job->reduce, &w, job->deadline_us, &img);
	if (s != JP2_DECODED) {
		atomic_store(&job->status, s);
		return -1;
	}
	size_t bands = (size_t)img->Bands, line = (size_t)(w.x1 - w.x0) * bands;
	size_t stride = (size_t)(a->x1 - a->x0) * bands;
	for (int64_t y = w.y0; y < w.y1; y++)
		memcpy(job->pixels + (size_t)(y - a->y0) * stride + (size_t)(w.x0 - a->x0) * bands,
		       VIPS_IMAGE_ADDR(img, 0, (int)(y - w.y0)), line);
	g_object_unref(img);
	return 0;
}

/* Columns [c0, c1) of one tile row: cached tiles and lone missing ones one by one, each run of
 * two or more missing tiles side by side in one decode, missing tiles the area covers only in
 * part (large ones) decoded only there (a run of whole tiles stops before them). */
static int shared_piece(struct shared_job *job, uint32_t row, uint32_t c0, uint32_t c1)
{
	for (uint32_t col = c0; col < c1;) {
		if (shared_partial(job, col, row) && !shared_cached(job, col, row)) {
			uint32_t end = col + 1;
			while (end < c1 && shared_partial(job, end, row) &&
			       !shared_cached(job, end, row))
				end++;
			if (shared_decode_partial(job, row, col, end) < 0)
				return -1;
			col = end;
			continue;
		}
		if (col + 1 == c1 || shared_cached(job, col, row) ||
		    shared_cached(job, col + 1, row) || shared_partial(job, col + 1, row)) {
			if (shared_fetch_paste(job, col, row) < 0) {
				atomic_store(&job->status, JP2_FAILED);
				return -1;
			}
			col++;
			continue;
		}
		uint32_t end = col + 2;
		while (end < c1 && !shared_cached(job, end, row) && !shared_partial(job, end, row))
			end++;
		struct jp2_rect run = { col, row, end, (int64_t)row + 1 };
		if (shared_decode_rect(job, &run) < 0)
			return -1;
		col = end;
	}
	return 0;
}

/* Band i of the job's bands: whole rows of tiles, decoded in one call. */
static int shared_band(struct shared_job *job, int64_t i)
{
	int64_t rows = job->tiles.y1 - job->tiles.y0;
	struct jp2_rect band = { job->tiles.x0, job->tiles.y0 + rows * i / job->bands, job->tiles.x1,
				 job->tiles.y0 + rows * (i + 1) / job->bands };
	return band.y1 > band.y0 ? shared_decode_rect(job, &band) : 0;
}

/* Takes pieces (or bands) until none are left or one fails. */
static gpointer shared_worker(gpointer user)
{
	struct shared_job *job = user;
	int64_t across = job->tiles.x1 - job->tiles.x0, per = job->pieces_per_row;
	int64_t count = job->bands ? job->bands : (job->tiles.y1 - job->tiles.y0) * per;
	for (long i; (i = atomic_fetch_add(&job->next, 1)) < count;) {
		if (atomic_load(&job->status) != JP2_DECODED)
			break;
		if (job->deadline_us && g_get_monotonic_time() > job->deadline_us) {
			atomic_store(&job->status, JP2_TIMED_OUT);
			break;
		}
		if (job->bands) {
			if (shared_band(job, i) < 0)
				break;
			continue;
		}
		int64_t piece = i % per;
		uint32_t row = (uint32_t)(job->tiles.y0 + i / per);
		uint32_t c0 = (uint32_t)(job->tiles.x0 + across * piece / per);
		uint32_t c1 = (uint32_t)(job->tiles.x0 + across * (piece + 1) / per);
		if (c1 > c0 && shared_piece(job, row, c0, c1) < 0)
			break;
	}
	return NULL;
}

/* Threads for this request: every core when it is the only decode running, else one. */
static atomic_int shared_running;

/*
 * Overviews (many small tiles) mostly missing from the cache are decoded in bands of whole rows,
 * one OpenJPEG call per band: a call per row or per run would repeat OpenJPEG's set-up for every
 * row of tiles a few pixels high.
 */
#define SHARED_BANDS_MIN_TILES 64
#define SHARED_BANDS_MAX_PIXELS (4 << 20)
#define SHARED_BANDS_PER_THREAD 4

static int64_t shared_missing(struct shared_job *job)
{
	int64_t missing = 0;
	for (int64_t row = job->tiles.y0; row < job->tiles.y1; row++)
		for (int64_t col = job->tiles.x0; col < job->tiles.x1; col++)
			missing += !shared_cached(job, (uint32_t)col, (uint32_t)row);
	return missing;
}

static bool shared_use_bands(struct shared_job *job)
{
	const struct jp2_layout *l = &job->ix->layout;
	int64_t count = (job->tiles.x1 - job->tiles.x0) * (job->tiles.y1 - job->tiles.y0);
	struct jp2_rect first, last;
	jp2_layout_tile_span(l, job->reduce, (uint32_t)job->tiles.x0, (uint32_t)job->tiles.y0,
			     &first);
	jp2_layout_tile_span(l, job->reduce, (uint32_t)job->tiles.x1 - 1,
			     (uint32_t)job->tiles.y1 - 1, &last);
	int64_t pixels = (last.x1 - first.x0) * (last.y1 - first.y0);
	return count >= SHARED_BANDS_MIN_TILES && pixels <= SHARED_BANDS_MAX_PIXELS &&
	       2 * shared_missing(job) >= count;
}

static void shared_run(struct shared_job *job)
{
	int64_t across = job->tiles.x1 - job->tiles.x0, rows = job->tiles.y1 - job->tiles.y0;
	int n = atomic_load(&shared_running) == 1 ? jp2_cores() : 1;
	if (n > across * rows)
		n = (int)(across * rows);
	/* few rows: cut them so that every thread has work and the last piece is short */
	job->pieces_per_row = rows < 2 * n ? (int)(across < 2 * n ? across : 2 * n) : 1;
	/* several bands per thread, taken in turn: a thread the machine slows down (other
	 * processes) then leaves fewer rows to the end instead of half the region */
	int bands = n > 1 ? SHARED_BANDS_PER_THREAD * n : 1;
	job->bands = shared_use_bands(job) ? (rows < bands ? (int)rows : bands) : 0;
	GThread *helpers[JP2_MAX_THREADS];
	int started = 0;
	for (int i = 1; i < n; i++)
		if ((helpers[started] = g_thread_try_new("jp2", shared_worker, job, NULL)))
			started++;
	shared_worker(job);
	for (int i = 0; i < started; i++)
		g_thread_join(helpers[i]);
}

static VipsImage *shared_image(uint8_t *pixels, const struct jp2_rect *a,
			       const struct jp2_index *ix)
{
	int w = (int)(a->x1 - a->x0), h = (int)(a->y1 - a->y0), bands = ix->layout.bands;
	VipsImage *img = vips_image_new_from_memory_copy(pixels, (size_t)w * h * bands, w, h,
							 bands, VIPS_FORMAT_UCHAR);
	if (!img)
		return NULL;
	img->Type = bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	if (ix->icc)
		vips_image_set_blob_copy(img, VIPS_META_ICC_NAME, ix->icc, ix->icc_len);
	return img;
}

bool jp2_shared_applies(const struct jp2_index *ix, const struct tile_cache *cache)
{
	const struct jp2_layout *l = &ix->layout;
	return cache && l->precision <= 8 && !jp2_layout_single_tile(l) &&
	       !jp2_layout_subsampled(l);
}

enum jp2_decode_status jp2_decode_shared_pixels(const struct jp2_index *ix, const char *path,
						int reduce, const struct jp2_rect *area,
						int64_t deadline_us, struct tile_cache *cache,
						const struct tile_cache_key *file,
						uint8_t **pixels)
{
	const struct jp2_layout *l = &ix->layout;
	*pixels = NULL;
	struct shared_job job = {
		.ix = ix, .path = path, .reduce = reduce, .cache = cache, .key = *file,
		.area = *area, .deadline_us = deadline_us,
	};
	if (!jp2_shared_applies(ix, cache) ||
	    jp2_layout_tiles_under(l, reduce, area, &job.tiles) < 0) {
		vips_error("jp2", "area outside reduction %d", reduce);
		return JP2_FAILED;
	}
	job.key.producer = TILE_CACHE_JP2;
	job.key.level = reduce;
	job.key.reduce = 0;
	job.key.page = 0;
	size_t bytes = (size_t)(area->x1 - area->x0) * (size_t)(area->y1 - area->y0) *
		       (size_t)l->bands;
	if (!(job.pixels = g_try_malloc(bytes))) {
		vips_error("jp2", "out of memory");
		return JP2_FAILED;
	}
	atomic_fetch_add(&shared_running, 1);
	atomic_init(&job.status, JP2_DECODED);
	atomic_init(&job.next, 0);
	shared_run(&job);
	atomic_fetch_sub(&shared_running, 1);
	enum jp2_decode_status s = atomic_load(&job.status);
	if (s == JP2_TIMED_OUT)
		vips_error("jp2", "deadline passed");
	if (s == JP2_DECODED)
		*pixels = job.pixels;
	else
		g_free(job.pixels);
	return s;
}

enum jp2_decode_status jp2_decode_shared(const struct jp2_index *ix, const char *path,
					 int reduce, const struct jp2_rect *area,
					 int64_t deadline_us, struct tile_cache *cache,
					 const struct tile_cache_key *file, VipsImage **out)
{
	if (!jp2_shared_applies(ix, cache))
		return jp2_decode(ix, path, reduce, area, deadline_us, out);
	uint8_t *pixels = NULL;
	enum jp2_decode_status s = jp2_decode_shared_pixels(ix, path, reduce, area, deadline_us,
							     cache, file, &pixels);
	if (s == JP2_DECODED && !(*out = shared_image(pixels, area, ix)))
		s = JP2_FAILED;
	g_free(pixels);
	return s;
}
