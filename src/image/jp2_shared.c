/*
 * jp2_shared.c: JPEG 2000 / HTJ2K regions assembled from decoded codestream tiles kept in the
 * shared tile cache (tile_cache.h), see jp2_decode_shared() in jp2.h.
 *
 * A request's area at reduction r is covered by codestream tiles; each is decoded once (whole,
 * at r, by jp2_decode) and kept under the file's identity, so the tiles of one thumbnail, of
 * adjacent crops and of the same image under another name (a hard link) are decoded once. The
 * missing tiles of one request are decoded by as many threads as there are cores when it runs
 * alone (one request at a time then uses every core), one thread otherwise. When many are
 * missing (an overview: many tiles, few pixels each), they are decoded in one OpenJPEG call over
 * their tile-aligned window and then cut into tiles, which spares OpenJPEG's per-call set-up.
 */
#include "image/jp2_internal.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

/* Overviews: at least this many missing tiles, at most this many pixels, are decoded at once. */
#define SHARED_AT_ONCE_MIN_TILES 64
#define SHARED_AT_ONCE_MAX_PIXELS (4 << 20)

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
	atomic_long next;          /* the next tile (row-major within tiles) to take */
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

/* Takes tiles until none are left or one fails. */
static gpointer shared_worker(gpointer user)
{
	struct shared_job *job = user;
	const struct jp2_layout *l = &job->ix->layout;
	int64_t across = job->tiles.x1 - job->tiles.x0;
	int64_t count = across * (job->tiles.y1 - job->tiles.y0);
	for (long i; (i = atomic_fetch_add(&job->next, 1)) < count;) {
		if (atomic_load(&job->status) != JP2_DECODED)
			break;
		if (job->deadline_us && g_get_monotonic_time() > job->deadline_us) {
			atomic_store(&job->status, JP2_TIMED_OUT);
			break;
		}
		uint32_t col = (uint32_t)(job->tiles.x0 + i % across);
		uint32_t row = (uint32_t)(job->tiles.y0 + i / across);
		struct tile_cache_key key = shared_key(job, col, row);
		struct iiifd_error err = { 0 };
		const struct tile_cache_tile *t =
			tile_cache_fetch(job->cache, &key, shared_decode_tile, job, &err);
		if (!t) {
			atomic_store(&job->status, JP2_FAILED);
			break;
		}
		struct jp2_rect span;
		jp2_layout_tile_span(l, job->reduce, col, row, &span);
		shared_paste(job, t, &span);
		tile_cache_release(job->cache, t);
	}
	return NULL;
}

/* The tile-aligned window of the job's tiles, in level pixels. */
static struct jp2_rect shared_window(const struct shared_job *job)
{
	const struct jp2_layout *l = &job->ix->layout;
	struct jp2_rect first, last;
	jp2_layout_tile_span(l, job->reduce, (uint32_t)job->tiles.x0, (uint32_t)job->tiles.y0,
			     &first);
	jp2_layout_tile_span(l, job->reduce, (uint32_t)job->tiles.x1 - 1,
			     (uint32_t)job->tiles.y1 - 1, &last);
	return (struct jp2_rect){ first.x0, first.y0, last.x1, last.y1 };
}

/* Cuts each missing tile out of the decoded window and caches it. */
static void shared_store_window(struct shared_job *job, VipsImage *img,
				const struct jp2_rect *window)
{
	const struct jp2_layout *l = &job->ix->layout;
	for (int64_t row = job->tiles.y0; row < job->tiles.y1; row++) {
		for (int64_t col = job->tiles.x0; col < job->tiles.x1; col++) {
			struct tile_cache_key key = shared_key(job, (uint32_t)col, (uint32_t)row);
			struct jp2_rect s;
			jp2_layout_tile_span(l, job->reduce, (uint32_t)col, (uint32_t)row, &s);
			struct tile_cache_tile *t =
				tile_cache_tile_new((int)(s.x1 - s.x0), (int)(s.y1 - s.y0), img->Bands);
			if (!t)
				return;
			for (int64_t y = s.y0; y < s.y1; y++)
				memcpy(t->pixels + (size_t)(y - s.y0) * t->stride,
				       VIPS_IMAGE_ADDR(img, (int)(s.x0 - window->x0),
						       (int)(y - window->y0)),
				       t->stride);
			tile_cache_release(job->cache, tile_cache_put(job->cache, &key, t));
		}
	}
}

/* Copies the job's area out of the decoded window. */
static void shared_copy_area(struct shared_job *job, VipsImage *img, const struct jp2_rect *window)
{
	const struct jp2_rect *a = &job->area;
	size_t line = (size_t)(a->x1 - a->x0) * (size_t)img->Bands;
	for (int64_t y = a->y0; y < a->y1; y++)
		memcpy(job->pixels + (size_t)(y - a->y0) * line,
		       VIPS_IMAGE_ADDR(img, (int)(a->x0 - window->x0), (int)(y - window->y0)), line);
}

/*
 * An overview (many tiles, few pixels) whose first tile is not cached: one OpenJPEG call over
 * the tiles' window fills the area and, cut into tiles, the cache. Returns whether it did;
 * otherwise (or when it fails: the tiles then report their own errors) tiles are fetched.
 */
static bool shared_overview(struct shared_job *job)
{
	int64_t count = (job->tiles.x1 - job->tiles.x0) * (job->tiles.y1 - job->tiles.y0);
	struct jp2_rect window = shared_window(job);
	int64_t pixels = (window.x1 - window.x0) * (window.y1 - window.y0);
	if (count < SHARED_AT_ONCE_MIN_TILES || pixels > SHARED_AT_ONCE_MAX_PIXELS)
		return false;
	struct tile_cache_key probe = shared_key(job, (uint32_t)job->tiles.x0,
						 (uint32_t)job->tiles.y0);
	const struct tile_cache_tile *cached = tile_cache_get(job->cache, &probe);
	if (cached) {
		tile_cache_release(job->cache, cached);
		return false;
	}
	VipsImage *img = NULL;
	bool done = jp2_decode(job->ix, job->path, job->reduce, &window, job->deadline_us, &img) ==
		    JP2_DECODED;
	if (done) {
		shared_copy_area(job, img, &window);
		shared_store_window(job, img, &window);
	} else {
		vips_error_clear();
	}
	if (img)
		g_object_unref(img);
	return done;
}

/* Threads for this request: every core when it is the only decode running, else one. */
static atomic_int shared_running;

static int shared_threads(int64_t tiles)
{
	int n = atomic_load(&shared_running) == 1 ? jp2_cores() : 1;
	return tiles < n ? (int)tiles : n;
}

static void shared_run(struct shared_job *job)
{
	int64_t count = (job->tiles.x1 - job->tiles.x0) * (job->tiles.y1 - job->tiles.y0);
	GThread *helpers[JP2_MAX_THREADS];
	int n = shared_threads(count), started = 0;
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

enum jp2_decode_status jp2_decode_shared(const struct jp2_index *ix, const char *path,
					 int reduce, const struct jp2_rect *area,
					 int64_t deadline_us, struct tile_cache *cache,
					 const struct tile_cache_key *file, VipsImage **out)
{
	const struct jp2_layout *l = &ix->layout;
	struct shared_job job = {
		.ix = ix, .path = path, .reduce = reduce, .cache = cache, .key = *file,
		.area = *area, .deadline_us = deadline_us,
	};
	if (!cache || l->precision > 8 || jp2_layout_single_tile(l) || jp2_layout_subsampled(l) ||
	    jp2_layout_tiles_under(l, reduce, area, &job.tiles) < 0)
		return jp2_decode(ix, path, reduce, area, deadline_us, out);
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
	if (!shared_overview(&job))
		shared_run(&job);
	atomic_fetch_sub(&shared_running, 1);
	enum jp2_decode_status s = atomic_load(&job.status);
	if (s == JP2_DECODED && !(*out = shared_image(job.pixels, area, ix)))
		s = JP2_FAILED;
	if (s == JP2_TIMED_OUT)
		vips_error("jp2", "deadline passed");
	g_free(job.pixels);
	return s;
}
