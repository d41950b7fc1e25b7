/*
 * coco_seg.h: the "segmentation" member of a COCO annotation, collected from yajl's events by
 * coco.c: polygons ([[x, y, x, y, ...], ...]) or a run-length mask ({"size": [h, w], "counts":
 * [...] or "compressed"}), turned into an outline. Internal to the COCO importer.
 */
#ifndef IIIFD_ANNOTATION_COCO_SEG_H
#define IIIFD_ANNOTATION_COCO_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coco_seg {
	enum { SEG_NONE, SEG_POLYGONS, SEG_RLE } kind;
	const char *bad;       /* the first problem seen, NULL when none */
	double *xy;            /* polygons: coordinates of every ring, flattened */
	size_t n_xy, cap_xy;
	size_t *ring_end;      /* polygons: index in xy after each ring */
	size_t n_rings, cap_rings;
	int key;               /* RLE: member being read: 0 counts, 1 size, -1 other */
	uint32_t *counts;      /* RLE: uncompressed counts (each within MASK_MAX_PIXELS) */
	size_t n_counts, cap_counts;
	char *compressed;      /* RLE: compressed counts (owned) */
	size_t compressed_len;
	double size[2];        /* RLE: h, w */
	int n_size;
};

/* Forgets the previous annotation's segmentation (buffers are kept for the next). */
void coco_seg_reset(struct coco_seg *s);
/* Events at depth (0: the segmentation value itself, 1: inside it, ...). */
void coco_seg_open(struct coco_seg *s, int depth, bool map);
void coco_seg_key(struct coco_seg *s, int depth, const unsigned char *key, size_t len);
void coco_seg_number(struct coco_seg *s, int depth, bool is_number, double v);
void coco_seg_string(struct coco_seg *s, int depth, const unsigned char *str, size_t len);

/*
 * The outline of what was collected, scaled from the COCO image (iw x ih) to the Canvas
 * (cw x ch): 1 with *polygon (caller frees) and its bounding box, 0 for no segmentation (or
 * nothing left inside the Canvas), -1 with *why for a malformed one.
 */
int coco_seg_outline(struct coco_seg *s, double iw, double ih, double cw, double ch,
		     char **polygon, double box[4], const char **why);

void coco_seg_release(struct coco_seg *s);

#endif
