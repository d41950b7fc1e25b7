/*
 * mask.c: tracing walks the pixel edges with the region on its right ("crack following"): at
 * each corner it turns left when the pixel ahead on the left is inside (so diagonal neighbours
 * join, 8-connectivity), goes straight when the one ahead on the right is, else turns right.
 * Each region is then flood-filled as done, so holes and inner regions are not traced twice.
 */
#include "annotation/mask.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int mask_from_counts(struct mask *m, long w, long h, const uint32_t *counts, size_t n,
		     const char **why)
{
	memset(m, 0, sizeof *m);
	if (w <= 0 || h <= 0 || w > MASK_MAX_PIXELS / h) {
		*why = "size is not two positive numbers within the pixel limit";
		return -1;
	}
	int64_t total = (int64_t)w * h, at = 0;
	if (!(m->px = calloc((size_t)total, 1))) {
		*why = "out of memory";
		return -1;
	}
	m->w = w, m->h = h;
	for (size_t i = 0; i < n; i++) {
		if ((int64_t)counts[i] > total - at) {
			*why = "counts exceed the mask size";
			mask_release(m);
			return -1;
		}
		if (i % 2) /* column-major: pixel k is at row k % h, column k / h */
			for (int64_t k = at; k < at + counts[i]; k++)
				m->px[(k % h) * w + k / h] = 1;
		at += counts[i];
	}
	if (at != total) {
		*why = "counts do not add up to the mask size";
		mask_release(m);
		return -1;
	}
	return 0;
}

int mask_counts_from_string(const char *s, size_t len, uint32_t **counts, size_t *n,
			    const char **why)
{
	*counts = malloc((len + 1) * sizeof **counts);
	*n = 0;
	if (!*counts) {
		*why = "out of memory";
		return -1;
	}
	for (size_t p = 0; p < len;) {
		int64_t x = 0;
		int k = 0, more = 1;
		while (more) {
			if (p >= len || s[p] < 48 || s[p] > 48 + 63 || k > 11) {
				*why = "counts is not a compressed RLE string";
				free(*counts);
				*counts = NULL;
				return -1;
			}
			int c = s[p++] - 48;
			x |= (int64_t)(c & 0x1f) << (5 * k);
			more = c & 0x20;
			k++;
			if (!more && (c & 0x10))
				x |= (int64_t)(~(uint64_t)0 << (5 * k));
		}
		if (*n > 2) /* x is within 2^60 and the earlier count within the limit: no overflow */
			x += (*counts)[*n - 2];
		if (x < 0 || x > MASK_MAX_PIXELS) {
			*why = "counts holds a run larger than any mask";
			free(*counts);
			*counts = NULL;
			*n = 0;
			return -1;
		}
		(*counts)[(*n)++] = (uint32_t)x;
	}
	return 0;
}

static int mask_at(const struct mask *m, long x, long y)
{
	return x >= 0 && y >= 0 && x < m->w && y < m->h && m->px[y * m->w + x] == 1;
}

/* Directions clockwise in image coordinates (y down): east, south, west, north. */
static const int mask_dx[4] = {1, 0, -1, 0}, mask_dy[4] = {0, 1, 0, -1};

/* The pixels ahead on the left and right of corner (x, y) facing d. */
static void mask_ahead(long x, long y, int d, long l[2], long r[2])
{
	static const int lx[4] = {0, 0, -1, -1}, ly[4] = {-1, 0, 0, -1};
	static const int rx[4] = {0, -1, -1, 0}, ry[4] = {0, 0, -1, -1};
	l[0] = x + lx[d], l[1] = y + ly[d];
	r[0] = x + rx[d], r[1] = y + ry[d];
}

/* The region's top-left pixel is (x0, y0): its top-left corner starts the walk, heading east. */
static int mask_trace_one(const struct mask *m, long x0, long y0, struct polygon_builder *b,
			  double sx, double sy, double cw, double ch)
{
	long x = x0, y = y0, steps = 0, limit = 4 * (m->w + 1) * (m->h + 1);
	int d = 0;
	polygon_ring_start(b);
	if (polygon_point(b, (double)x * sx, (double)y * sy, cw, ch) < 0)
		return -1;
	do {
		long l[2], r[2];
		mask_ahead(x, y, d, l, r);
		int nd = mask_at(m, l[0], l[1])	  ? (d + 3) % 4
			 : mask_at(m, r[0], r[1]) ? d
						  : (d + 1) % 4;
		if (nd != d && polygon_point(b, (double)x * sx, (double)y * sy, cw, ch) < 0)
			return -1;
		d = nd;
		x += mask_dx[d];
		y += mask_dy[d];
	} while ((x != x0 || y != y0) && ++steps < limit);
	return 0;
}

/* Pixel indexes waiting to be filled (MASK_MAX_PIXELS fits in 32 bits). */
struct mask_stack {
	uint32_t *at;
	size_t n, cap;
};

static int mask_push(struct mask_stack *s, long at)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint32_t *a = realloc(s->at, cap * sizeof *a);
		if (!a)
			return -1;
		s->at = a;
		s->cap = cap;
	}
	s->at[s->n++] = (uint32_t)at;
	return 0;
}

/* Pushes the first pixel of every run inside m on row y between x0 and x1. */
static int mask_push_runs(const struct mask *m, struct mask_stack *s, long y, long x0, long x1)
{
	bool in_run = false;
	if (y < 0 || y >= m->h)
		return 0;
	for (long x = x0 < 0 ? 0 : x0; x <= x1 && x < m->w; x++) {
		bool in = m->px[y * m->w + x] == 1;
		if (in && !in_run && mask_push(s, y * m->w + x) < 0)
			return -1;
		in_run = in;
	}
	return 0;
}

/*
 * Marks the 8-connected region at (x0, y0) as traced (2) a run of a row at a time, so the
 * stack holds runs rather than pixels (a solid 8192 x 8192 mask took half a gigabyte and 25 s
 * as a pixel flood fill).
 */
static int mask_fill(struct mask *m, long x0, long y0)
{
	struct mask_stack s = {0};
	int rc = mask_push(&s, y0 * m->w + x0);
	while (rc == 0 && s.n) {
		long at = s.at[--s.n], y = at / m->w, l = at % m->w, r = l;
		if (m->px[at] != 1)
			continue; /* a run reached twice */
		while (l > 0 && m->px[y * m->w + l - 1] == 1)
			l--;
		while (r + 1 < m->w && m->px[y * m->w + r + 1] == 1)
			r++;
		memset(m->px + y * m->w + l, 2, (size_t)(r - l + 1));
		if (mask_push_runs(m, &s, y - 1, l - 1, r + 1) < 0 ||
		    mask_push_runs(m, &s, y + 1, l - 1, r + 1) < 0)
			rc = -1;
	}
	free(s.at);
	return rc;
}

int mask_trace(struct mask *m, struct polygon_builder *b, double sx, double sy, double cw,
	       double ch)
{
	int rc = 0;
	for (long y = 0; y < m->h && rc == 0; y++)
		for (long x = 0; x < m->w && rc == 0; x++)
			if (m->px[y * m->w + x] == 1 && (rc = mask_trace_one(m, x, y, b, sx, sy, cw, ch)) == 0)
				rc = mask_fill(m, x, y);
	for (long i = 0; i < m->w * m->h; i++)
		m->px[i] = m->px[i] != 0;
	return rc;
}

void mask_release(struct mask *m)
{
	free(m->px);
	memset(m, 0, sizeof *m);
}
