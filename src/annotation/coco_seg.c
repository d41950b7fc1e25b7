/*
 * coco_seg.c: collection is bounded (POLYGON_MAX_POINTS coordinates pairs, counts no longer
 * than the mask has pixels); masks are traced by annotation/mask.c.
 */
#include "annotation/coco_seg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/mask.h"
#include "annotation/polygon.h"

void coco_seg_reset(struct coco_seg *s)
{
	s->kind = SEG_NONE;
	s->bad = NULL;
	s->n_xy = s->n_rings = s->n_counts = 0;
	s->key = -1;
	free(s->compressed);
	s->compressed = NULL;
	s->compressed_len = 0;
	s->n_size = 0;
}

/* Grows *p (of *cap items of size) to hold n; false when out of memory or over max. */
static bool coco_seg_grow(void **p, size_t *cap, size_t n, size_t size, size_t max)
{
	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	size_t c = *cap ? *cap * 2 : 64;
	void *q = realloc(*p, c * size);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

void coco_seg_open(struct coco_seg *s, int depth, bool map)
{
	if (depth == 0) {
		coco_seg_reset(s);
		s->kind = map ? SEG_RLE : SEG_POLYGONS;
	} else if (depth == 1 && s->kind == SEG_POLYGONS && !map) {
		if (!coco_seg_grow((void **)&s->ring_end, &s->cap_rings, s->n_rings,
				   sizeof *s->ring_end, POLYGON_MAX_POINTS))
			s->bad = s->bad ? s->bad : "too many polygons";
		else
			s->ring_end[s->n_rings++] = s->n_xy;
	} else if (!(depth == 1 && s->kind == SEG_RLE && !map && s->key >= 0)) {
		s->bad = s->bad ? s->bad : "not polygons or a run-length mask";
	}
}

void coco_seg_key(struct coco_seg *s, int depth, const unsigned char *key, size_t len)
{
	if (depth != 1 || s->kind != SEG_RLE)
		return;
	s->key = len == 6 && memcmp(key, "counts", 6) == 0 ? 0
		 : len == 4 && memcmp(key, "size", 4) == 0 ? 1
							    : -1;
}

void coco_seg_number(struct coco_seg *s, int depth, bool is_number, double v)
{
	if (s->kind == SEG_POLYGONS && depth == 2 && is_number) {
		if (!coco_seg_grow((void **)&s->xy, &s->cap_xy, s->n_xy, sizeof *s->xy,
				   2 * POLYGON_MAX_POINTS))
			s->bad = s->bad ? s->bad : "too many points";
		else
			s->xy[s->n_xy++] = v;
		if (s->n_rings)
			s->ring_end[s->n_rings - 1] = s->n_xy;
	} else if (s->kind == SEG_RLE && depth == 2 && s->key == 0 && is_number && v >= 0 &&
		   v == floor(v)) {
		if (v > MASK_MAX_PIXELS) /* before the conversion, which would be undefined */
			s->bad = s->bad ? s->bad : "a count larger than any mask";
		else if (!coco_seg_grow((void **)&s->counts, &s->cap_counts, s->n_counts,
					sizeof *s->counts, MASK_MAX_PIXELS))
			s->bad = s->bad ? s->bad : "too many counts";
		else
			s->counts[s->n_counts++] = (uint32_t)v;
	} else if (s->kind == SEG_RLE && depth == 2 && s->key == 1 && is_number && s->n_size < 2) {
		s->size[s->n_size++] = v;
	} else if (depth == 0 || (s->kind == SEG_RLE && s->key < 0 && depth == 1)) {
		return; /* null segmentation, or members of a mask that do not matter */
	} else {
		s->bad = s->bad ? s->bad : "a value that is not a number where one belongs";
	}
}

void coco_seg_string(struct coco_seg *s, int depth, const unsigned char *str, size_t len)
{
	if (s->kind == SEG_RLE && depth == 1 && s->key == 0 && !s->compressed) {
		s->compressed = malloc(len + 1);
		if (!s->compressed) {
			s->bad = "out of memory";
			return;
		}
		memcpy(s->compressed, str, len);
		s->compressed[len] = '\0';
		s->compressed_len = len;
	} else if (!(s->kind == SEG_RLE && depth == 1 && s->key < 0)) {
		s->bad = s->bad ? s->bad : "a string where numbers belong";
	}
}

static int coco_seg_polygons(struct coco_seg *s, struct polygon_builder *b, double sx, double sy,
			     double cw, double ch, const char **why)
{
	size_t start = 0;
	for (size_t r = 0; r < s->n_rings; r++) {
		size_t end = s->ring_end[r];
		if ((end - start) % 2) { /* shorter rings are dropped by the builder */
			*why = "a polygon with an odd number of coordinates";
			return -1;
		}
		polygon_ring_start(b);
		for (size_t i = start; i < end; i += 2)
			if (polygon_point(b, s->xy[i] * sx, s->xy[i + 1] * sy, cw, ch) < 0) {
				*why = "too many points";
				return -1;
			}
		start = end;
	}
	return 0;
}

static int coco_seg_mask(struct coco_seg *s, struct polygon_builder *b, double cw, double ch,
			 const char **why)
{
	if (s->n_size != 2 || !(s->size[0] >= 1 && s->size[1] >= 1) ||
	    s->size[0] * s->size[1] > MASK_MAX_PIXELS) {
		*why = "mask size is not [height, width] within the pixel limit";
		return -1;
	}
	uint32_t *counts = s->counts, *unpacked = NULL;
	size_t n = s->n_counts;
	if (s->compressed &&
	    mask_counts_from_string(s->compressed, s->compressed_len, &unpacked, &n, why) < 0)
		return -1;
	if (unpacked)
		counts = unpacked;
	struct mask m;
	long h = (long)s->size[0], w = (long)s->size[1];
	int rc = mask_from_counts(&m, w, h, counts, n, why);
	free(unpacked);
	if (rc < 0)
		return -1;
	rc = mask_trace(&m, b, cw / (double)w, ch / (double)h, cw, ch);
	mask_release(&m);
	if (rc < 0)
		*why = "the mask's outline has too many points";
	return rc;
}

int coco_seg_outline(struct coco_seg *s, double iw, double ih, double cw, double ch,
		     char **polygon, double box[4], const char **why)
{
	*polygon = NULL;
	if (s->bad) {
		*why = s->bad;
		return -1;
	}
	if (s->kind == SEG_NONE || (s->kind == SEG_POLYGONS && !s->n_rings))
		return 0;
	struct polygon_builder b = {0};
	int rc = s->kind == SEG_POLYGONS ? coco_seg_polygons(s, &b, cw / iw, ch / ih, cw, ch, why)
					 : coco_seg_mask(s, &b, cw, ch, why);
	if (rc < 0) {
		polygon_builder_release(&b);
		return -1;
	}
	*polygon = polygon_finish(&b, box);
	return *polygon ? 1 : 0;
}

void coco_seg_release(struct coco_seg *s)
{
	coco_seg_reset(s);
	free(s->xy);
	free(s->ring_end);
	free(s->counts);
	memset(s, 0, sizeof *s);
}
