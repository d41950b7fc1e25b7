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
#include <stdlib.h>
#include <string.h>

#define RESAMPLE_ONE 16384 /* fixed-point 1.0 of the weights */
#define RESAMPLE_MID_SHIFT 8 /* vertical sums keep 14 - 8 = 6 fractional bits */

struct resample_axis {
	int *first, *count;
	int16_t *weights; /* count[i] weights for output i, at i * span, summing to RESAMPLE_ONE */
	int span;         /* most contributions any output has */
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
}

static double lanczos3(double x)
{
	if (x == 0.0)
		return 1.0;
	if (x <= -3.0 || x >= 3.0)
		return 0.0;
	double px = M_PI * x;
	return 3.0 * sin(px) * sin(px / 3.0) / (px * px);
}

/* Weight of source pixel j (covering [j, j+1)) for the output covering [s, s + f). */
static double resample_weight(int j, double s, double f)
{
	if (f >= RESAMPLE_LANCZOS_MAX) { /* area averaging */
		double cover = fmin(s + f, j + 1.0) - fmax(s, (double)j);
		return cover > 0.0 ? cover : 0.0;
	}
	double k = f > 1.0 ? f : 1.0; /* stretched when shrinking, plain when not */
	return lanczos3((j + 0.5 - (s + f / 2.0)) / k);
}

/* The source pixels output i may draw on, before clamping to [0, n). */
static void resample_reach(double s, double f, int *j0, int *j1)
{
	double r = f >= RESAMPLE_LANCZOS_MAX ? 0.0 : 3.0 * (f > 1.0 ? f : 1.0);
	double c = s + f / 2.0;
	*j0 = f >= RESAMPLE_LANCZOS_MAX ? (int)floor(s) : (int)floor(c - r - 0.5);
	*j1 = f >= RESAMPLE_LANCZOS_MAX ? (int)ceil(s + f) : (int)ceil(c + r - 0.5) + 1;
}

static void resample_axis_output(struct resample_axis *a, int i, int n, double start, double f)
{
	double s = start + i * f;
	int j0, j1;
	resample_reach(s, f, &j0, &j1);
	int lo = j0 < 0 ? 0 : j0 > n - 1 ? n - 1 : j0;
	int hi = j1 - 1 < 0 ? 0 : j1 - 1 > n - 1 ? n - 1 : j1 - 1;
	int16_t *w = a->weights + (size_t)i * (size_t)a->span;
	double total = 0.0, acc[512];
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
	a->span = f >= RESAMPLE_LANCZOS_MAX ? (int)ceil(f) + 2 : (int)ceil(6.0 * fmax(f, 1.0)) + 3;
	if (a->span > 512)
		return -1;
	a->first = calloc((size_t)out, sizeof(int));
	a->count = calloc((size_t)out, sizeof(int));
	a->weights = calloc((size_t)out * (size_t)a->span, sizeof(int16_t));
	if (!a->first || !a->count || !a->weights)
		return -1;
	for (int i = 0; i < out; i++)
		resample_axis_output(a, i, n, lo, f); /* lo: where the window starts */
	return 0;
}

struct resample_plan *resample_plan_new(int src_w, int src_h, double x0, double y0, double x1,
					double y1, int dst_w, int dst_h)
{
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

/* 16-bit values of a row with 6 fractional bits; RGB pixels padded to 4 lanes (see below). */
static int16_t resample_mid(int32_t acc)
{
	return (int16_t)((acc + (1 << (RESAMPLE_MID_SHIFT - 1))) >> RESAMPLE_MID_SHIFT);
}

/*
 * Vertical pass of one output row: n source rows (stride apart, len bytes each) to 16-bit values
 * in mid, lanes values per pixel of bands bytes (4 lanes for RGB, so that the horizontal pass
 * works on whole pixels as 4-lane vectors).
 */
static void resample_vertical(const uint8_t *src, size_t stride, size_t len, int bands,
			      int lanes, const int16_t *w, int n, int32_t *acc, int16_t *mid)
{
	for (size_t x = 0; x < len; x++)
		acc[x] = 0;
	for (int k = 0; k < n; k++) {
		const uint8_t *r = src + (size_t)k * stride;
		int32_t wk = w[k];
		for (size_t x = 0; x < len; x++)
			acc[x] += wk * r[x];
	}
	if (lanes == bands) {
		for (size_t x = 0; x < len; x++)
			mid[x] = resample_mid(acc[x]);
		return;
	}
	for (size_t p = 0, x = 0; x < len; p++, x += (size_t)bands) {
		for (int c = 0; c < bands; c++)
			mid[p * (size_t)lanes + (size_t)c] = resample_mid(acc[x + (size_t)c]);
		mid[p * (size_t)lanes + (size_t)bands] = 0;
	}
}

static uint8_t resample_clamp(int32_t v)
{
	v = (v + (1 << (RESAMPLE_OUT_SHIFT - 1))) >> RESAMPLE_OUT_SHIFT;
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

#ifdef __SSE2__
#include <emmintrin.h>

/* out = acc + taps k and k+1 of 4-lane pixels a and b: one pmaddwd for two taps. */
static __m128i resample_two_taps(__m128i acc, const int16_t *a, const int16_t *b, int16_t wa,
				 int16_t wb)
{
	__m128i pa = _mm_loadl_epi64((const __m128i *)(const void *)a);
	__m128i pb = _mm_loadl_epi64((const __m128i *)(const void *)b);
	/* (wa, wb) in every 32-bit lane, made in a register (not through memory) */
	__m128i w = _mm_set1_epi32((int)((uint32_t)(uint16_t)wb << 16 | (uint16_t)wa));
	return _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpacklo_epi16(pa, pb), w));
}

/* Horizontal pass of RGB: 4-lane pixels (starting at source column c0) to 8-bit output. */
static void resample_horizontal_rgb(const int16_t *mid, int c0, const struct resample_axis *h,
				    int out_w, uint8_t *out)
{
	static const int16_t zero[4];
	for (int i = 0; i < out_w; i++) {
		const int16_t *w = h->weights + (size_t)i * (size_t)h->span;
		const int16_t *p = mid + (size_t)(h->first[i] - c0) * 4;
		int n = h->count[i], k = 0;
		__m128i acc = _mm_setzero_si128();
		for (; k + 1 < n; k += 2)
			acc = resample_two_taps(acc, p + k * 4, p + k * 4 + 4, w[k], w[k + 1]);
		if (k < n)
			acc = resample_two_taps(acc, p + k * 4, zero, w[k], 0);
		int32_t lane[4];
		_mm_storeu_si128((__m128i *)(void *)lane, acc);
		out[i * 3] = resample_clamp(lane[0]);
		out[i * 3 + 1] = resample_clamp(lane[1]);
		out[i * 3 + 2] = resample_clamp(lane[2]);
	}
}
#else
typedef int32_t resample_v4i __attribute__((vector_size(16)));
typedef int16_t resample_v4h __attribute__((vector_size(8)));

/* Horizontal pass of RGB: 4-lane pixels (starting at source column c0) to 8-bit output. */
static void resample_horizontal_rgb(const int16_t *mid, int c0, const struct resample_axis *h,
				    int out_w, uint8_t *out)
{
	for (int i = 0; i < out_w; i++) {
		const int16_t *w = h->weights + (size_t)i * (size_t)h->span;
		const int16_t *p = mid + (size_t)(h->first[i] - c0) * 4;
		resample_v4i acc = { 0, 0, 0, 0 };
		for (int k = 0; k < h->count[i]; k++) {
			resample_v4h v;
			memcpy(&v, p + (size_t)k * 4, sizeof v);
			acc += __builtin_convertvector(v, resample_v4i) * w[k];
		}
		out[i * 3] = resample_clamp(acc[0]);
		out[i * 3 + 1] = resample_clamp(acc[1]);
		out[i * 3 + 2] = resample_clamp(acc[2]);
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

int resample_plan_rows(const struct resample_plan *plan, const struct resample_image *src,
		       struct resample_image *dst, int row_begin, int row_end)
{
	const struct resample_axis *h = &plan->h, *v = &plan->v;
	int c0 = h->first[0], c1 = c0;
	for (int i = 0; i < dst->width; i++)
		c1 = h->first[i] + h->count[i] > c1 ? h->first[i] + h->count[i] : c1;
	size_t len = (size_t)(c1 - c0) * (size_t)src->bands;
	int lanes = src->bands == 3 ? 4 : src->bands;
	int32_t *acc = malloc(sizeof(int32_t) * len);
	int16_t *mid = malloc(sizeof(int16_t) * (size_t)(c1 - c0) * (size_t)lanes);
	if (!acc || !mid) {
		free(acc);
		free(mid);
		return -1;
	}
	for (int y = row_begin; y < row_end; y++) {
		const uint8_t *top = src->pixels + (size_t)v->first[y] * src->stride +
				     (size_t)c0 * (size_t)src->bands;
		uint8_t *out = dst->pixels + (size_t)y * dst->stride;
		resample_vertical(top, src->stride, len, src->bands, lanes,
				  v->weights + (size_t)y * (size_t)v->span, v->count[y], acc, mid);
		if (lanes == 4)
			resample_horizontal_rgb(mid, c0, h, dst->width, out);
		else
			resample_horizontal(mid, c0, src->bands, h, dst->width, out);
	}
	free(acc);
	free(mid);
	return 0;
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
