/*
 * resample.c: each axis gets a table of contributions (first source pixel, count, weights that
 * sum to one, taps past an edge folded onto the edge pixel), in fixed point; output rows are
 * made by combining source rows vertically into one 16-bit row (6 fractional bits; a plain
 * multiply-add over contiguous bytes that the compiler vectorises), then filtering it
 * horizontally.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the vertical pass is a plain multiply-add over rows: vectorise */
#endif
#include "image/resample.h"

#include <math.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "image/parallel.h"

#define RESAMPLE_ONE 16384 /* fixed-point 1.0 of the weights */
#define RESAMPLE_MID_SHIFT 8 /* vertical sums keep 14 - 8 = 6 fractional bits */
#define RESAMPLE_LANCZOS_REACH 3.0 /* the kernel's half-width, in (stretched) source pixels */
#define RESAMPLE_MAX_SPAN 512 /* most taps of one output pixel on one axis */

struct resample_axis {
	int *first, *count;
	int16_t *weights; /* count[i] weights for output i, at i * span, summing to RESAMPLE_ONE */
	int span;         /* most contributions any output has */
	uint32_t *pairs;  /* the weights two by two (k | k + 1 << 16), 0 past count: at i * span */
};

struct resample_plan {
	struct resample_axis h, v;
	int dst_w, dst_h;
};

static void resample_axis_free(struct resample_axis *a)
{
	free(a->first);
	free(a->count);
	free(a->weights);
	free(a->pairs);
}

#define RESAMPLE_TABLE_STEPS 4096 /* kernel samples per source pixel (linear in between) */

static float resample_lanczos_table[3 * RESAMPLE_TABLE_STEPS + 2];
static pthread_once_t resample_table_once = PTHREAD_ONCE_INIT;

static void resample_table_init(void)
{
	for (int i = 0; i <= 3 * RESAMPLE_TABLE_STEPS + 1; i++) {
		double x = (double)i / RESAMPLE_TABLE_STEPS, px = M_PI * x;
		resample_lanczos_table[i] =
			i == 0 ? 1.0f : x >= 3.0 ? 0.0f : (float)(3.0 * sin(px) * sin(px / 3.0) / (px * px));
	}
}

/* Lanczos-3, from a table (two sines per tap made planning cost as much as a small render). */
static double lanczos3(double x)
{
	x = fabs(x) * RESAMPLE_TABLE_STEPS;
	if (x >= 3.0 * RESAMPLE_TABLE_STEPS)
		return 0.0;
	int i = (int)x;
	double t = x - i;
	return resample_lanczos_table[i] * (1.0 - t) + resample_lanczos_table[i + 1] * t;
}

/* Weight of source pixel j (covering [j, j+1)) for the output covering [s, s + f). */
static double resample_weight(int j, double s, double f)
{
	if (f >= RESAMPLE_AREA_FROM) { /* area averaging */
		double cover = fmin(s + f, j + 1.0) - fmax(s, (double)j);
		return cover > 0.0 ? cover : 0.0;
	}
	double k = f > 1.0 ? f : 1.0; /* stretched when shrinking, plain when not */
	return lanczos3((j + 0.5 - (s + f / 2.0)) / k);
}

/* The source pixels output i may draw on, before clamping to [0, n). */
static void resample_reach(double s, double f, int *j0, int *j1)
{
	double r = f >= RESAMPLE_AREA_FROM ? 0.0 : RESAMPLE_LANCZOS_REACH * (f > 1.0 ? f : 1.0);
	double c = s + f / 2.0;
	*j0 = f >= RESAMPLE_AREA_FROM ? (int)floor(s) : (int)floor(c - r - 0.5);
	*j1 = f >= RESAMPLE_AREA_FROM ? (int)ceil(s + f) : (int)ceil(c + r - 0.5) + 1;
}

static void resample_axis_output(struct resample_axis *a, int i, int n, double start, double f)
{
	double s = start + i * f;
	int j0, j1;
	resample_reach(s, f, &j0, &j1);
	int lo = j0 < 0 ? 0 : j0 > n - 1 ? n - 1 : j0;
	int hi = j1 - 1 < 0 ? 0 : j1 - 1 > n - 1 ? n - 1 : j1 - 1;
	int16_t *w = a->weights + (size_t)i * (size_t)a->span;
	double total = 0.0, acc[RESAMPLE_MAX_SPAN];
	int count = hi - lo + 1 < a->span ? hi - lo + 1 : a->span;
	for (int k = 0; k < count; k++)
		acc[k] = 0.0;
	for (int j = j0; j < j1; j++) {
		int at = (j < lo ? lo : j > hi ? hi : j) - lo; /* past an edge: the edge pixel */
		double wt = resample_weight(j, s, f);
		if (at < count) {
			acc[at] += wt;
			total += wt;
		}
	}
	if (total == 0.0) { /* a window thinner than rounding: the nearest pixel */
		acc[0] = 1.0;
		total = 1.0;
	}
	int sum = 0, biggest = 0;
	for (int k = 0; k < count; k++) {
		w[k] = (int16_t)lrint(acc[k] / total * RESAMPLE_ONE);
		sum += w[k];
		biggest = w[k] > w[biggest] ? k : biggest;
	}
	w[biggest] = (int16_t)(w[biggest] + RESAMPLE_ONE - sum); /* exactly one after rounding */
	a->first[i] = lo;
	a->count[i] = count;
}

/* Contributions of source pixels [0, n) to out outputs covering [lo, hi). */
static int resample_axis_init(struct resample_axis *a, int n, int out, double lo, double hi)
{
	double f = (hi - lo) / out;
	a->span = f >= RESAMPLE_AREA_FROM ? (int)ceil(f) + 2
					    : (int)ceil(2 * RESAMPLE_LANCZOS_REACH * fmax(f, 1.0)) + 3;
	if (a->span > RESAMPLE_MAX_SPAN)
		return -1;
	a->first = calloc((size_t)out, sizeof(int));
	a->count = calloc((size_t)out, sizeof(int));
	a->weights = calloc((size_t)out * (size_t)a->span, sizeof(int16_t));
	if (!a->first || !a->count || !a->weights)
		return -1;
	for (int i = 0; i < out; i++)
		resample_axis_output(a, i, n, lo, f); /* lo: where the window starts */
	a->pairs = calloc((size_t)out * (size_t)a->span, sizeof(uint32_t));
	if (!a->pairs)
		return -1;
	for (int i = 0; i < out; i++) {
		const int16_t *w = a->weights + (size_t)i * (size_t)a->span;
		for (int k = 0; k < a->count[i]; k += 2)
			a->pairs[(size_t)i * (size_t)a->span + (size_t)k / 2] =
				(uint16_t)w[k] |
				(uint32_t)(uint16_t)(k + 1 < a->count[i] ? w[k + 1] : 0) << 16;
	}
	return 0;
}

struct resample_plan *resample_plan_new(int src_w, int src_h, double x0, double y0, double x1,
					double y1, int dst_w, int dst_h)
{
	pthread_once(&resample_table_once, resample_table_init);
	if (!(x1 > x0 && y1 > y0) || x0 < 0 || y0 < 0 || x1 > src_w + 1e-6 ||
	    y1 > src_h + 1e-6 || dst_w <= 0 || dst_h <= 0)
		return NULL;
	struct resample_plan *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->dst_w = dst_w;
	p->dst_h = dst_h;
	if (resample_axis_init(&p->h, src_w, dst_w, x0, x1) < 0 ||
	    resample_axis_init(&p->v, src_h, dst_h, y0, y1) < 0) {
		resample_plan_free(p);
		return NULL;
	}
	return p;
}

void resample_plan_free(struct resample_plan *plan)
{
	if (!plan)
		return;
	resample_axis_free(&plan->h);
	resample_axis_free(&plan->v);
	free(plan);
}

#define RESAMPLE_OUT_SHIFT (14 + 14 - RESAMPLE_MID_SHIFT)
#define RESAMPLE_MID_PAD 8 /* int16 after a row: the horizontal pass loads past the last pixel */

/* Where a run of source row y starts at column x, and how many pixels it has in one piece. */
struct resample_rows {
	const struct resample_image *image; /* one buffer, or */
	const struct resample_tiles *tiles; /* a grid of tiles */
};

static const uint8_t *resample_rows_at(const struct resample_rows *r, int x, int y, int *run)
{
	if (r->image) {
		*run = r->image->width - x;
		return r->image->pixels + (size_t)y * r->image->stride + (size_t)x * (size_t)r->image->bands;
	}
	const struct resample_tiles *t = r->tiles;
	int gx = x + t->x0, gy = y + t->y0;
	size_t i = (size_t)(gy / t->tile_h) * (size_t)t->cols + (size_t)(gx / t->tile_w);
	*run = t->tile_w - gx % t->tile_w;
	return t->pixels[i] + (size_t)(gy % t->tile_h) * t->strides[i] +
	       (size_t)(gx % t->tile_w) * (size_t)t->bands;
}

/* acc[x] += the n rows at rows[] (len bytes each) weighted by w: two rows per pass over acc. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default"))) /* twice as wide with AVX2, chosen at load time */
#endif
static void resample_vertical_run(const uint8_t *const *rows, int n, const int16_t *w, size_t len,
				  int32_t *acc)
{
	int k = 0;
	for (; k + 1 < n; k += 2) {
		const uint8_t *a = rows[k], *b = rows[k + 1];
		int32_t wa = w[k], wb = w[k + 1];
		for (size_t x = 0; x < len; x++)
			acc[x] += wa * a[x] + wb * b[x];
	}
	if (k < n) {
		const uint8_t *a = rows[k];
		int32_t wa = w[k];
		for (size_t x = 0; x < len; x++)
			acc[x] += wa * a[x];
	}
}

/* 16-bit values with 6 fractional bits. */
static int16_t resample_mid(int32_t acc)
{
	return (int16_t)((acc + (1 << (RESAMPLE_MID_SHIFT - 1))) >> RESAMPLE_MID_SHIFT);
}

/*
 * Vertical pass of one output row: source rows first .. first + n - 1, columns [c0, c1), to
 * 16-bit values in mid (bands values per pixel), run by run of contiguous source bytes.
 */
static void resample_vertical(const struct resample_rows *src, int bands, int c0, int c1,
			      int first, const int16_t *w, int n, int32_t *acc, int16_t *mid)
{
	const uint8_t *rows[RESAMPLE_MAX_SPAN];
	size_t len = (size_t)(c1 - c0) * (size_t)bands;
	memset(acc, 0, len * sizeof *acc);
	for (int x = c0; x < c1;) {
		int run = 0;
		for (int k = 0; k < n; k++)
			rows[k] = resample_rows_at(src, x, first + k, &run);
		run = run < c1 - x ? run : c1 - x;
		resample_vertical_run(rows, n, w, (size_t)run * (size_t)bands,
				      acc + (size_t)(x - c0) * (size_t)bands);
		x += run;
	}
	for (size_t x = 0; x < len; x++)
		mid[x] = resample_mid(acc[x]);
}

static uint8_t resample_clamp(int32_t v)
{
	v = (v + (1 << (RESAMPLE_OUT_SHIFT - 1))) >> RESAMPLE_OUT_SHIFT;
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The last pixel of a row byte by byte; the others as 4 bytes (the 4th is overwritten next). */
static void resample_store_rgb(uint8_t *out, int i, int out_w, uint32_t v)
{
	if (i + 1 < out_w) {
		memcpy(out + (size_t)i * 3, &v, 4);
		return;
	}
	out[(size_t)i * 3] = (uint8_t)v;
	out[(size_t)i * 3 + 1] = (uint8_t)(v >> 8);
	out[(size_t)i * 3 + 2] = (uint8_t)(v >> 16);
}

#ifdef __SSE2__
#include <emmintrin.h>

/*
 * Horizontal pass of RGB: 3-band pixels (starting at source column c0) to 8-bit output. Two taps
 * per pmaddwd: the 4 lanes loaded at a pixel are its 3 bands and the next pixel's first (ignored;
 * mid has room after its last pixel, and an odd count's last pair weighs that pixel 0).
 */
static void resample_horizontal_rgb(const int16_t *mid, int c0, const struct resample_axis *h,
				    int out_w, uint8_t *out)
{
	const __m128i round = _mm_set1_epi32(1 << (RESAMPLE_OUT_SHIFT - 1));
	for (int i = 0; i < out_w; i++) {
		const uint32_t *w = h->pairs + (size_t)i * (size_t)h->span;
		const int16_t *p = mid + (size_t)(h->first[i] - c0) * 3;
		int pairs = (h->count[i] + 1) / 2;
		__m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
		int k = 0;
		for (; k + 1 < pairs; k += 2, p += 12) {
			__m128i a = _mm_unpacklo_epi16(_mm_loadl_epi64((const void *)p),
						       _mm_loadl_epi64((const void *)(p + 3)));
			__m128i b = _mm_unpacklo_epi16(_mm_loadl_epi64((const void *)(p + 6)),
						       _mm_loadl_epi64((const void *)(p + 9)));
			acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(a, _mm_set1_epi32((int)w[k])));
			acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(b, _mm_set1_epi32((int)w[k + 1])));
		}
		if (k < pairs) {
			__m128i a = _mm_unpacklo_epi16(_mm_loadl_epi64((const void *)p),
						       _mm_loadl_epi64((const void *)(p + 3)));
			acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(a, _mm_set1_epi32((int)w[k])));
		}
		__m128i acc = _mm_add_epi32(_mm_add_epi32(acc0, acc1), round);
		acc = _mm_srai_epi32(acc, RESAMPLE_OUT_SHIFT);
		__m128i px = _mm_packus_epi16(_mm_packs_epi32(acc, acc), acc); /* clamped to 0..255 */
		resample_store_rgb(out, i, out_w, (uint32_t)_mm_cvtsi128_si32(px));
	}
}
#else
/* Horizontal pass of RGB: 3-band pixels (starting at source column c0) to 8-bit output. */
static void resample_horizontal_rgb(const int16_t *mid, int c0, const struct resample_axis *h,
				    int out_w, uint8_t *out)
{
	for (int i = 0; i < out_w; i++) {
		const int16_t *w = h->weights + (size_t)i * (size_t)h->span;
		const int16_t *p = mid + (size_t)(h->first[i] - c0) * 3;
		int32_t r = 0, g = 0, b = 0;
		for (int k = 0; k < h->count[i]; k++) {
			r += w[k] * p[k * 3];
			g += w[k] * p[k * 3 + 1];
			b += w[k] * p[k * 3 + 2];
		}
		resample_store_rgb(out, i, out_w,
				   (uint32_t)resample_clamp(r) | (uint32_t)resample_clamp(g) << 8 |
					   (uint32_t)resample_clamp(b) << 16);
	}
}
#endif

/* Horizontal pass of other band counts, one value at a time. */
static void resample_horizontal(const int16_t *mid, int c0, int bands,
				const struct resample_axis *h, int out_w, uint8_t *out)
{
	for (int i = 0; i < out_w; i++) {
		const int16_t *w = h->weights + (size_t)i * (size_t)h->span;
		const int16_t *p = mid + (size_t)(h->first[i] - c0) * (size_t)bands;
		for (int c = 0; c < bands; c++) {
			int32_t acc = 0;
			for (int k = 0; k < h->count[i]; k++)
				acc += w[k] * p[k * bands + c];
			out[i * bands + c] = resample_clamp(acc);
		}
	}
}

static int resample_rows_run(const struct resample_plan *plan, const struct resample_rows *src,
			     int bands, struct resample_image *dst, int row_begin, int row_end)
{
	const struct resample_axis *h = &plan->h, *v = &plan->v;
	int c0 = h->first[0], c1 = c0;
	for (int i = 0; i < dst->width; i++)
		c1 = h->first[i] + h->count[i] > c1 ? h->first[i] + h->count[i] : c1;
	size_t len = (size_t)(c1 - c0) * (size_t)bands;
	int32_t *acc = malloc(sizeof(int32_t) * len);
	int16_t *mid = calloc(len + RESAMPLE_MID_PAD, sizeof(int16_t));
	if (!acc || !mid) {
		free(acc);
		free(mid);
		return -1;
	}
	for (int y = row_begin; y < row_end; y++) {
		uint8_t *out = dst->pixels + (size_t)y * dst->stride;
		resample_vertical(src, bands, c0, c1, v->first[y],
				  v->weights + (size_t)y * (size_t)v->span, v->count[y], acc, mid);
		if (bands == 3)
			resample_horizontal_rgb(mid, c0, h, dst->width, out);
		else
			resample_horizontal(mid, c0, bands, h, dst->width, out);
	}
	free(acc);
	free(mid);
	return 0;
}

int resample_plan_rows(const struct resample_plan *plan, const struct resample_image *src,
		       struct resample_image *dst, int row_begin, int row_end)
{
	struct resample_rows rows = { .image = src };
	return resample_rows_run(plan, &rows, src->bands, dst, row_begin, row_end);
}

int resample_plan_rows_tiled(const struct resample_plan *plan, const struct resample_tiles *src,
			     struct resample_image *dst, int row_begin, int row_end)
{
	struct resample_rows rows = { .tiles = src };
	return resample_rows_run(plan, &rows, src->bands, dst, row_begin, row_end);
}

static int resample_is_copy(const struct resample_image *src, double x0, double y0, double x1,
			    double y1, const struct resample_image *dst)
{
	return x1 - x0 == dst->width && y1 - y0 == dst->height && x0 == floor(x0) &&
	       y0 == floor(y0) && x0 >= 0 && y0 >= 0 && x1 <= src->width && y1 <= src->height;
}

int resample_image(const struct resample_image *src, double x0, double y0, double x1, double y1,
		   struct resample_image *dst)
{
	if (src->bands != dst->bands)
		return -1;
	if (resample_is_copy(src, x0, y0, x1, y1, dst)) {
		size_t n = (size_t)dst->width * (size_t)dst->bands;
		for (int y = 0; y < dst->height; y++)
			memcpy(dst->pixels + (size_t)y * dst->stride,
			       src->pixels + (size_t)((int)y0 + y) * src->stride +
				       (size_t)x0 * (size_t)src->bands,
			       n);
		return 0;
	}
	struct resample_plan *p =
		resample_plan_new(src->width, src->height, x0, y0, x1, y1, dst->width, dst->height);
	int rc = p ? resample_plan_rows(p, src, dst, 0, dst->height) : -1;
	resample_plan_free(p);
	return rc;
}

/* One resampling run split into bands of output rows (resample_tiles_over_cores). */
struct resample_bands {
	const struct resample_plan *plan;
	const struct resample_tiles *src;
	struct resample_image *dst;
	int band_rows;
	atomic_int failed;
};

static void resample_band(void *user, int i)
{
	struct resample_bands *r = user;
	int begin = i * r->band_rows;
	int end = begin + r->band_rows < r->dst->height ? begin + r->band_rows : r->dst->height;
	if (begin < end && resample_plan_rows_tiled(r->plan, r->src, r->dst, begin, end) < 0)
		atomic_store(&r->failed, 1);
}

int resample_tiles_over_cores(const struct resample_tiles *src, double x0, double y0, double x1,
			      double y1, struct resample_image *dst)
{
	struct resample_plan *plan =
		resample_plan_new(src->width, src->height, x0, y0, x1, y1, dst->width, dst->height);
	if (!plan)
		return -1;
	/* bands of at least 64 rows: more only repeats the horizontal pass of the rows they share */
	int bands = dst->height / 64 < 8 ? dst->height / 64 : 8;
	bands = bands < 1 ? 1 : bands;
	struct resample_bands r = { .plan = plan, .src = src, .dst = dst,
				    .band_rows = (dst->height + bands - 1) / bands };
	atomic_init(&r.failed, 0);
	parallel_for(bands, resample_band, &r);
	resample_plan_free(plan);
	return atomic_load(&r.failed) ? -1 : 0;
}
