/*
 * mask.h: COCO run-length masks (uncompressed counts, or the compressed string of pycocotools)
 * decoded and traced to polygon outlines: the outer boundary of every 8-connected region, along
 * pixel edges. Pure; memory bounded by MASK_MAX_PIXELS.
 */
#ifndef IIIFD_ANNOTATION_MASK_H
#define IIIFD_ANNOTATION_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "annotation/polygon.h"

#define MASK_MAX_PIXELS (64 * 1024 * 1024)

/* A decoded mask: h rows of w bytes, 1 = inside. */
struct mask {
	uint8_t *px; /* owned */
	long w, h;
};

/*
 * Decodes runs (column-major, starting with a run of 0s, as COCO stores them; each at most
 * MASK_MAX_PIXELS, so 32 bits hold it) into m. Returns
 * 0, or -1 with why set for runs that do not add up to w x h, sizes over MASK_MAX_PIXELS, or
 * out of memory.
 */
int mask_from_counts(struct mask *m, long w, long h, const uint32_t *counts, size_t n,
		     const char **why);
/* The compressed counts string of pycocotools into a newly allocated array (*n entries). */
int mask_counts_from_string(const char *s, size_t len, uint32_t **counts, size_t *n,
			    const char **why);

/*
 * Traces the outer outline of every region of m into b, one ring each, scaled by sx, sy and
 * clamped to cw x ch. Returns -1 when b refuses a point. m is marked region by region as it is
 * traced, and is as it was again on return.
 */
int mask_trace(struct mask *m, struct polygon_builder *b, double sx, double sy, double cw,
	       double ch);

void mask_release(struct mask *m);

#endif
